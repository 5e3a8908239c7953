r"""One answer item (a normalised string) -> a comparable value built on sympy. Runs in the worker.

Value kinds: `Scalar` (a sympy number or expression, with the decimals it was written with and percent /
degree marks), `Text` (words), `Seq` (tuples, intervals `[a,b)`, ratios `a:b`), `SetVal` (`\{...\}`),
`SetUnion` (`A \cup B`, and inequalities solved into sets), `Mat`, `Equation` (lhs - rhs), `Relation`
(an inequality in several variables). LaTeX goes through latex2sympy2_extended (an ANTLR parser; it
never evaluates Python code); every parsed expression passes `check_size` before anything evaluates it,
so `10^{10^{10}}` or `(10^9)!` is refused in microseconds instead of hanging.

    parse_value(r"x \geq 5")     # SetUnion([Seq([5, oo], '[)')])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy
from latex2sympy2_extended import latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig
from latex2sympy2_extended.math_normalization import NormalizationConfig

from reasongym.verifiers.math.normalize import (
    parse_number,
    split_unit_flags,
    strip_text_wrappers,
)
from reasongym.verifiers.math.safety import check_size, show
from reasongym.verifiers.math.structure import LIST_SEP, depths, enclosed, split_top
from reasongym.verifiers.math.units import strip_units

NORMALIZATION = NormalizationConfig(basic_latex=True, units=False, malformed_operators=False, nits=False,
                                    boxed="none", equations=False)
CONVERSION = ConversionConfig(interpret_as_mixed_fractions=True, interpret_simple_eq_as_assignment=False,
                              interpret_contains_as_eq=True, lowercase_symbols=False)
TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-z])")
RELATION_OPS = re.compile(r"\\leq|\\geq|\\neq|<|>")


@dataclass
class Scalar:
    expr: sympy.Expr
    digits: int | None = None  # decimals written, when the item was a bare decimal literal
    percent: bool = False
    degree: bool = False

    def __str__(self) -> str:
        return show(self.expr) + ("%" if self.percent else "") + ("°" if self.degree else "")


@dataclass
class Text:
    words: str

    def __str__(self) -> str:
        return f"text:{self.words}"


@dataclass
class Seq:
    items: list
    brackets: str  # '()', '[]', '[)', '(]', or ':' for a ratio

    def __str__(self) -> str:
        inner = ", ".join(map(str, self.items))
        return f"{inner.replace(', ', ':')}" if self.brackets == ":" else self.brackets[0] + inner + self.brackets[1]


@dataclass
class SetVal:
    items: list

    def __str__(self) -> str:
        return "{" + ", ".join(map(str, self.items)) + "}"


@dataclass
class SetUnion:
    parts: list

    def __str__(self) -> str:
        return " U ".join(map(str, self.parts))


@dataclass
class Mat:
    rows: list

    def __str__(self) -> str:
        return "[" + "; ".join(", ".join(map(str, r)) for r in self.rows) + "]"


@dataclass
class Equation:
    diff: sympy.Expr  # lhs - rhs

    def __str__(self) -> str:
        return f"{show(self.diff)} = 0"


@dataclass
class Relation:
    rel: sympy.Basic
    text: str = field(default="")

    def __str__(self) -> str:
        return show(self.rel)


def decimals_to_fractions(s: str) -> str:
    r"""`10.5` -> `\frac{105}{10}` so sympy works with exact rationals, never binary floats."""
    s = re.sub(r"(?<![\d.])\.(\d)", r"0.\1", s)
    return re.sub(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])", lambda m: f"(\\frac{{{m.group(1)}{m.group(2)}}}{{1{'0' * len(m.group(2))}}})", s)


def to_sympy(s: str) -> sympy.Basic:
    """Parse LaTeX with latex2sympy2_extended, then read `i` as the imaginary unit and check the size."""
    s = strip_text_wrappers(s)
    s = re.sub(r"\^\s*\{?\\circ\}?", r"\\cdot\\frac{\\pi}{180}", s).replace(r"\%", "")  # tan 45° = tan(pi/4)
    s = decimals_to_fractions(s)
    expr = latex2sympy(s, normalization_config=NORMALIZATION, conversion_config=CONVERSION)
    if isinstance(expr, sympy.Basic):
        check_size(expr)
        expr = canonical(expr)
        syms = getattr(expr, "free_symbols", set())
        if sympy.Symbol("i") in syms:
            expr = expr.subs(sympy.Symbol("i"), sympy.I)
        elif syms == {sympy.Symbol("j")}:  # 3 + 4j: the engineers' imaginary unit, when j is the only letter
            expr = expr.subs(sympy.Symbol("j"), sympy.I)
    return expr


def parse_tree(s: str) -> sympy.Basic:
    """The parser's tree as written (unevaluated: `5(x + 5)` stays a product), size-checked; for form checks."""
    s = decimals_to_fractions(strip_units(strip_text_wrappers(s)).replace(r"\%", ""))
    expr = latex2sympy(s, normalization_config=NORMALIZATION, conversion_config=CONVERSION)
    if isinstance(expr, sympy.Basic):
        check_size(expr)
    return expr


def canonical(e: sympy.Basic) -> sympy.Basic:
    """Rebuild the parser's unevaluated tree with sympy's normal evaluation, so `F_{n-k-1} F_k` and
    `F_k F_{n-k-1}` become the same object. Only after `check_size`: evaluation is then bounded."""
    if not e.args or isinstance(e, (sympy.MatrixBase, sympy.Set)):
        return e
    try:
        return e.func(*[canonical(a) if isinstance(a, sympy.Basic) else a for a in e.args])
    except (TypeError, ValueError, AttributeError):
        return e


def as_text(s: str) -> str | None:
    """The words of a text answer (`\\text{Even}`, `odd`, `(C)`), or None when s is math."""
    plain = strip_text_wrappers(s).strip()
    plain = re.sub(r"^\(([A-Za-z])\)$", r"\1", plain)
    if not re.fullmatch(r"[A-Za-z][A-Za-z '\-]*", plain):
        return None
    if r"\text" in s or r"\mbox" in s or len(plain) >= 3:
        return plain.lower()
    return None


def parse_value(s: str):
    """Parse one normalised item into a value (see the module docstring)."""
    s = s.strip()
    if not s:
        raise ValueError("empty answer")
    if split_top(s, re.compile(r"\\cup"))[1:]:
        return SetUnion([parse_value(p) for p in split_top(s, re.compile(r"\\cup"))])
    if RELATION_OPS.search(s) and any(depths(s)[m.start()] == 0 for m in RELATION_OPS.finditer(s)):
        return parse_relation(s)
    builder = re.fullmatch(r"\\\{\s*[A-Za-z]\w*\s*(?:\||:)(.+)\\\}", s)
    if builder:  # \{x | x > 2\}
        return parse_relation(builder.group(1))
    if enclosed(s, r"\{", r"\}"):
        return SetVal([parse_value(p) for p in split_top(s[2:-2], LIST_SEP) if p])
    if s.startswith(r"\begin{") and "matrix" in s[:20] and s.count(r"\begin{") == 1:
        return parse_matrix(s)
    for left in "([":
        for right in ")]":
            if enclosed(s, left, right):
                parts = split_top(s[1:-1], re.compile(r"[,;]"))
                if len(parts) > 1:
                    return Seq([parse_value(p) for p in parts], left + right)
    parts = split_top(s, re.compile(r"(?<!\\):"))
    if len(parts) == 2 and all(parts):
        return Seq([parse_value(p) for p in parts], ":")
    based = re.fullmatch(r"([0-9A-Fa-f]+)_\{?(\d+)\}?", s)  # 204_5: a numeral in base 5
    if based and 2 <= int(based.group(2)) <= 16:
        try:
            return Scalar(sympy.Integer(int(based.group(1), int(based.group(2)))))
        except ValueError:  # a digit too large for the base: not a numeral
            pass
    for candidate in (s, strip_units(s)):
        num = parse_number(candidate)
        if num is not None:
            return Scalar(sympy.Rational(num.value.numerator, num.value.denominator), num.digits, num.percent, num.degree)
    text = as_text(s)
    if text is not None:
        return Text(text)
    body, percent, degree = split_unit_flags(strip_units(s))
    if degree and TRIG.search(body):  # \tan 45^\circ: the degree belongs to the angle, not the answer
        body, degree = strip_units(s), False
    expr = to_sympy(body)
    if isinstance(expr, sympy.MatrixExpr):  # A + B, A B: evaluate the matrix arithmetic
        expr = expr.doit()
    if isinstance(expr, sympy.MatrixBase):
        return Mat([[Scalar(expr[i, j]) for j in range(expr.cols)] for i in range(expr.rows)])
    if isinstance(expr, sympy.Set):
        return from_sympy_set(expr)
    return Scalar(expr, None, percent, degree)


def parse_matrix(s: str) -> Mat:
    r"""`\begin{pmatrix} a & b \\ c & d \end{pmatrix}` entry by entry (so decimals keep their digits)."""
    body = re.sub(r"^\\begin\{\w+\}(?:\{[lcr|]*\})?|\\end\{\w+\}$", "", s.strip())
    rows = [r for r in re.split(r"\\\\", body) if r.strip()]
    return Mat([[parse_value(c) for c in r.split("&")] for r in rows])


def from_sympy_set(st: sympy.Set):
    """A sympy set (from solving an inequality, or parsed) as SetUnion / Seq interval / SetVal."""
    if isinstance(st, sympy.Union):
        return SetUnion([from_sympy_set(a) for a in st.args])
    if isinstance(st, sympy.Interval):
        br = ("(" if st.left_open else "[") + (")" if st.right_open else "]")
        return SetUnion([Seq([Scalar(st.start), Scalar(st.end)], br)])
    if isinstance(st, sympy.FiniteSet):
        return SetVal([Scalar(a) for a in st.args])
    if st == sympy.S.Reals:
        return SetUnion([Seq([Scalar(-sympy.oo), Scalar(sympy.oo)], "()")])
    if st == sympy.S.EmptySet:
        return SetVal([])
    raise ValueError(f"cannot compare the set {st}")


def parse_relation(s: str):
    r"""An inequality: solved into a set when it has one unknown (`-x > -1` -> `(-oo, 1)`), else kept."""
    m = re.match(r"^(.*?)\\in(?![a-zA-Z])(.*)$", s)
    if m and not RELATION_OPS.search(m.group(2)):
        return parse_value(m.group(2))
    rel = to_sympy(s)
    apps = list(rel.atoms(sympy.core.function.AppliedUndef))
    if apps:  # 0 < f(x) < 1: the function value is the unknown
        rel = rel.subs({a: sympy.Symbol(f"[{sympy.sstr(a)}]", real=True) for a in apps})
    syms = sorted(rel.free_symbols, key=str)
    if len(syms) == 1:
        x = sympy.Symbol(syms[0].name, real=True)
        rel = rel.subs(syms[0], x)
        conds = rel.args if isinstance(rel, sympy.And) else (rel,)
        solution = sympy.S.Reals
        for c in conds:
            solution = solution.intersect(sympy.solveset(c, x, domain=sympy.S.Reals))
        return from_sympy_set(solution)
    return Relation(rel, s)
