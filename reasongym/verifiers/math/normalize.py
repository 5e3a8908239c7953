"""String normalisation of math answers: one spelling for the many ways models write the same thing.

Pure standard library (no sympy), so the caller can use it for cheap fast paths before anything is sent
to a worker process. It turns unicode math into LaTeX, drops display wrappers (`$`, `\\left`, spacing),
canonicalises fractions, roots, relations and thousands separators, and recognises plain number
literals exactly (`Fraction`), including mixed numbers, repeating decimals and scientific notation.

    from reasongym.verifiers.math.normalize import normalize, parse_number
    normalize(r"$\\dfrac12$")        # '\\frac{1}{2}'
    parse_number("1,000.50")         # Number(value=Fraction(2001, 2), digits=2, ...)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

UNICODE = {
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u00d7": r"\times ", "\u22c5": r"\cdot ", "\u00b7": r"\cdot ",
    "\u00f7": r"\div ", "\u03c0": r"\pi ", "\u221e": r"\infty ", "\u2264": r"\leq ", "\u2265": r"\geq ",
    "\u2260": r"\neq ", "\u00b1": r"\pm ", "\u2213": r"\mp ", "\u2248": r"\approx ", "\u222a": r"\cup ",
    "\u2229": r"\cap ", "\u2208": r"\in ", "\u00b0": r"^\circ ", "\u00b2": "^2", "\u00b3": "^3", "\u03b8": r"\theta ",
    "\u03b1": r"\alpha ", "\u03b2": r"\beta ", "\u2205": r"\emptyset ", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u2217": "*", "\uff0c": ",", "\u2236": ":", "\u20ac": "", "\u00a3": "", "\u00a5": "",
}
VULGAR = {"\u00bd": (1, 2), "\u2153": (1, 3), "\u2154": (2, 3), "\u00bc": (1, 4), "\u00be": (3, 4), "\u2155": (1, 5),
          "\u2156": (2, 5), "\u2157": (3, 5), "\u2158": (4, 5), "\u2159": (1, 6), "\u215a": (5, 6), "\u215b": (1, 8),
          "\u215c": (3, 8), "\u215d": (5, 8), "\u215e": (7, 8)}
TEXT_CMDS = r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|operatorname|textup|rm|bf)"
PHANTOM = re.compile(r"\\[hv]?phantom\s*\{[^{}]*\}")
SPACING = re.compile(r"(?<!\\)\\(?:[!,;:> ]|q?quad|(?:displaystyle|textstyle|limits|hfill|nonumber)(?![a-zA-Z]))|~")
RELATIONS = [(r"\\leqslant|\\leq|\\le(?![a-zA-Z])|<=|=<|≤", r"\\leq "), (r"\\geqslant|\\geq|\\ge(?![a-zA-Z])|>=|=>", r"\\geq "),
             (r"\\neq|\\ne(?![a-zA-Z])|!=|\\not=", r"\\neq "), (r"\\lt(?![a-zA-Z])", "<"), (r"\\gt(?![a-zA-Z])", ">")]
PERCENT_RE = re.compile(r"\s*(?:\\%|%|\\text\{\s*%\s*\}|percentage|percent|pct)\s*$", re.I)
DEGREE_RE = re.compile(r"\s*(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|\\degree|degrees?)\s*$", re.I)


def _brace_arg(s: str, i: int) -> tuple[str, int] | None:
    """The `{...}` group (or single token) starting at s[i]; returns (content, end index) or None."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return None
    if s[i] != "{":
        if s[i] == "\\":
            m = re.match(r"\\[a-zA-Z]+", s[i:])
            return (m.group(0), i + m.end()) if m else None
        return s[i], i + 1
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "\\":
            continue
        if s[j] == "{" and (j == 0 or s[j - 1] != "\\"):
            depth += 1
        elif s[j] == "}" and s[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
    return None


def _canonical_args(s: str, cmd: str, nargs: int) -> str:
    r"""Brace the arguments of `\frac12`, `\sqrt3`, `\frac1{72}` so every parser sees `\frac{1}{2}`."""
    out, i, pat = [], 0, re.compile(re.escape(cmd) + r"(?![a-zA-Z])")
    while True:
        m = pat.search(s, i)
        if not m:
            out.append(s[i:])
            return "".join(out)
        out.append(s[i:m.end()])
        j, args = m.end(), []
        if cmd == r"\sqrt" and s[j:j + 1] == "[":  # \sqrt[3]{x}
            k = s.find("]", j)
            if k < 0:
                out.append(s[j:])
                return "".join(out)
            out.append(s[j:k + 1])
            j = k + 1
        for _ in range(nargs):
            got = _brace_arg(s, j)
            if got is None:
                break
            content, j2 = got
            # an unbraced digit argument is one digit: \frac12 -> {1}{2}
            args.append("{" + content + "}")
            j = j2
        out.append("".join(args))
        i = j


def unicode_to_latex(s: str) -> str:
    """Read unicode math as LaTeX: minus signs, vulgar fractions, roots, superscripts, symbols."""
    for ch, (a, b) in VULGAR.items():
        s = re.sub(r"(\d)\s*" + ch, lambda m, a=a, b=b: f"{m.group(1)}\\frac{{{a}}}{{{b}}}", s)  # 2½ mixed
        s = s.replace(ch, f"\\frac{{{a}}}{{{b}}}")
    s = re.sub("\u221a\\s*\\(([^()]*)\\)", r"\\sqrt{\1}", s)
    s = re.sub("\u221a\\s*([0-9a-zA-Z.]+)", r"\\sqrt{\1}", s)
    s = s.replace("\u221a", r"\sqrt")
    for ch, rep in UNICODE.items():
        s = s.replace(ch, rep)
    return s


def strip_text_wrappers(s: str) -> str:
    r"""`\text{odd}` -> `odd`, keeping the content of every text-like command."""
    for _ in range(4):
        new = re.sub(TEXT_CMDS + r"\s*\{([^{}]*)\}", r"\1", s)
        if new == s:
            break
        s = new
    return s


def normalize(s: str) -> str:
    """A canonical LaTeX spelling of one answer string (delimiters, spacing, fractions, relations)."""
    s = unicode_to_latex(s)
    s = re.sub(r"(?<!\\)\\\\(?=[a-zA-Z])", r"\\", s)  # doubly escaped commands: \\frac -> \frac
    s = re.sub(r"\\n(?![a-zA-Z])", " ", s)  # literal "\n" left over from JSON escaping
    s = s.replace("\n", " ")
    s = re.sub(r"(\d),\s*\\!\s*(?=\d{3}(?!\d))", r"\1", s)  # 32,\!349: a thousands separator
    s = re.sub(r"\\\$|\\dollar ?", " ", s)  # currency
    s = re.sub(r"\$+|\\\(|\\\)|\\\[|\\\]", " ", s)
    s = PHANTOM.sub(" ", s)  # renders as blank space: `\\phantom{5}` is no 5
    s = SPACING.sub(" ", s)
    s = re.sub(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)\s*(\\[{}]|[()\[\]|.])",
               lambda m: "" if m.group(1) == "." else m.group(1), s)
    s = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", s)
    s = re.sub(r"\\mathbb\{R\}|\\R(?![a-zA-Z])", r"(-\\infty,\\infty)", s)  # all real numbers
    s = re.sub(r"\\(?:mathbb|mathcal|boldsymbol|vec|overrightarrow)\{([^{}]*)\}", r"\1", s)
    for _ in range(3):
        s = re.sub(r"(?<!\\)\{\s*\{([^{}]*)\}\s*\}", r"{\1}", s)  # {{1}} -> {1}
    s = _canonical_args(s, r"\frac", 2)
    s = _canonical_args(s, r"\sqrt", 1)
    s = s.replace(r"\lbrace", r"\{").replace(r"\rbrace", r"\}").replace(r"\lvert", "|").replace(r"\rvert", "|")
    s = s.replace(r"\mid", "|").replace(r"\vert", "|").replace(r"\emptyset", r"\varnothing")
    s = re.sub(r"\^\s*\{\s*\\prime\s*\}|\\prime", "'", s)
    for pat, rep in RELATIONS:
        s = re.sub(pat, rep, s)
    s = re.sub(r"(\d)\s*\{\s*,\s*\}\s*(?=\d)", r"\1,", s)  # 1{,}000
    s = re.sub(r"\s+", " ", s).strip()
    s = s.replace("**", "")  # markdown bold
    s = re.sub(r"^(?:[a-zA-Z ]*(?:answer|result|solution) ?(?:is|:)\s*)", "", s, flags=re.I)
    s = re.sub(r"(?<!\.)\.$", "", s.strip(" ;,")).strip()  # a full stop, not an ellipsis
    s = re.sub(r"\s*([=+*/^_(){}\[\]<>])\s*", r"\1", s)
    return s.strip()


def remove_thousands(s: str) -> str:
    r"""`7,425,000` -> `7425000`, `32,\! 349` -> `32349`, `1 000` -> `1000`; a lone `1,22` is a decimal comma."""
    if re.fullmatch(r"-?\d+,\d{2}|-?0,\d+|-?\d{4,},\d{1,2}", s):
        return s.replace(",", ".")
    s = re.sub(r"(?<![\d.])(\d{1,3})((?:,\d{3})+)(?![\d])", lambda m: m.group(1) + m.group(2).replace(",", ""), s)
    s = re.sub(r"(?<![\d.])(\d{1,3})((?: \d{3})+)(?![\d])", lambda m: m.group(1) + m.group(2).replace(" ", ""), s)
    return s


def short_int(n: int) -> str:
    """Digits of n, or `<5736-digit integer>` for numbers too long to print."""
    if abs(n) < 10**60:
        return str(n)
    return f"<{'-' if n < 0 else ''}{int(math.log10(abs(n))) + 1}-digit integer>"


@dataclass(frozen=True)
class Number:
    """An exactly known number literal. `digits` is the count of decimals written (None: exact form)."""

    value: Fraction
    digits: int | None = None
    percent: bool = False
    degree: bool = False
    fraction: tuple[int, int] | None = field(default=None, compare=False)
    """Numerator and denominator as written, when the literal is (or ends in) a fraction: `(6/9)` gives
    (6, 9), `2\\frac{2}{4}` gives (2, 4). Whether it is reduced is read from here, whatever wraps it."""

    def __str__(self) -> str:
        v = self.value
        text = short_int(v.numerator) + ("" if v.denominator == 1 else "/" + short_int(v.denominator))
        return text + ("%" if self.percent else "") + ("°" if self.degree else "")


def split_unit_flags(s: str) -> tuple[str, bool, bool]:
    """Strip a trailing percent or degree mark; report which one was there."""
    percent = degree = False
    m = PERCENT_RE.search(s)
    if m and m.start() > 0:
        s, percent = s[:m.start()], True
    m = DEGREE_RE.search(s)
    if m and m.start() > 0:
        s, degree = s[:m.start()], True
    return s.strip(), percent, degree


INT, DEC = r"\d+", r"(?:\d+\.\d*|\.\d+|\d+)"
MAX_DIGITS = 4000  # exact powers with more digits than this are not expanded (str() of ints stops at 4300)


def _dec(text: str) -> tuple[Fraction, int | None]:
    digits = len(text.split(".")[1]) if "." in text else None
    return Fraction(text if not text.endswith(".") else text[:-1]), digits


def parse_number(s: str) -> Number | None:
    r"""Parse a plain number literal exactly, or return None when `s` is anything else.

    Handles integers and decimals (with separators), `a/b`, `\frac{a}{b}`, mixed numbers `2\frac{1}{3}`,
    repeating decimals `0.1\overline{6}`, scientific `3\times10^{8}`, `3e8`, small integer powers
    `2^{100}`, and a trailing percent or degree mark.
    """
    s = s.strip().strip("$ ").rstrip(".")
    if re.search(rf"\d{{{MAX_DIGITS + 1}}}", s):  # Python refuses int() of more than 4300 digits
        return None
    s, percent, degree = split_unit_flags(s)
    mixed = re.fullmatch(r"(-?)(\d+) (\d+)/(\d+)", s)  # 2 1/4: a mixed number, not 21/4
    if mixed and int(mixed.group(4)) > int(mixed.group(3)) > 0:
        s = f"{mixed.group(1)}{mixed.group(2)}\\frac{{{mixed.group(3)}}}{{{mixed.group(4)}}}"
    s = s.replace(" ", "") if re.fullmatch(r"[-+]?\d{1,3}( \d{3})+(\.\d+)?", s) else s
    s = remove_thousands(s).replace(" ", "")
    while s.startswith("(") and s.endswith(")") and "," not in s:
        s = s[1:-1]
    sign = 1
    if s[:1] in "+-" and len(s) > 1:
        sign, s = (-1 if s[0] == "-" else 1), s[1:]
        if s.startswith("(") and s.endswith(")"):
            s = s[1:-1]
    value, digits, fraction = _number_body(s)
    if value is None:
        return None
    return Number(sign * value, digits, percent, degree, fraction)


def _number_body(s: str) -> tuple[Fraction | None, int | None, tuple[int, int] | None]:
    """(value, decimals written, fraction as written) of an unsigned literal; value None when it is not one."""
    if re.fullmatch(DEC, s):
        return (*_dec(s), None)
    m = re.fullmatch(r"(\d*)\.(\d*)\\overline\{(\d+)\}", s) or re.fullmatch(r"(\d*)\.(\d*)\((\d+)\)", s)
    if m:  # repeating decimal: 0.1(6) = 0.1666...
        whole, fixed, rep = m.group(1) or "0", m.group(2), m.group(3)
        base = Fraction(int(whole + fixed), 10 ** len(fixed))
        return base + Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed)), None, None
    m = re.fullmatch(rf"({INT})/({INT})", s) or re.fullmatch(rf"\\frac\{{({INT})\}}\{{({INT})\}}", s)
    if m and int(m.group(2)) != 0:
        a, b = int(m.group(1)), int(m.group(2))
        return Fraction(a, b), None, (a, b)
    m = re.fullmatch(rf"\\frac\{{-({INT})\}}\{{({INT})\}}", s)
    if m and int(m.group(2)) != 0:
        a, b = int(m.group(1)), int(m.group(2))
        return -Fraction(a, b), None, (a, b)
    m = re.fullmatch(rf"({INT})\\frac\{{({INT})\}}\{{({INT})\}}", s)
    if m and int(m.group(3)) != 0 and int(m.group(2)) < int(m.group(3)):  # mixed number 2\frac{1}{3}
        a, b = int(m.group(2)), int(m.group(3))
        return int(m.group(1)) + Fraction(a, b), None, (a, b)
    m = re.fullmatch(rf"({DEC})(?:\\times|\\cdot|\*|x)10\^\{{?([-+]?{INT})\}}?", s) or \
        re.fullmatch(rf"({DEC})[eE]([-+]?{INT})", s)
    if m and abs(int(m.group(2))) <= 400:
        mant, _ = _dec(m.group(1))
        return mant * Fraction(10) ** int(m.group(2)), None, None
    m = re.fullmatch(rf"({INT})\^\{{?([-+]?{INT})\}}?", s)
    if m:
        base, exp = int(m.group(1)), int(m.group(2))
        if base in (0, 1) or (base > 1 and abs(exp) * len(str(base)) <= MAX_DIGITS):
            return (Fraction(base) ** exp if base or exp >= 0 else None), None, None
    return None, None, None



PRED_DECIMAL_DIGITS = 10  # a predicted decimal stands for an exact non-terminating gold only with this many digits


def _rounds_to(dec: Number, exact: Fraction, min_digits: int = 4) -> bool:
    """A decimal with >= min_digits significant digits matches an exact value it is correctly rounded from."""
    if dec.digits is None:
        return False
    significant = len(str(abs(dec.value.numerator * 10**dec.digits // dec.value.denominator)).lstrip("0"))
    return significant >= min_digits and abs(dec.value - exact) <= Fraction(1, 2) * Fraction(1, 10**dec.digits) * (1 + Fraction(1, 10**9))


def numbers_equal(a: Number, b: Number) -> bool:
    """Exact equality of a predicted literal `a` and a gold `b`, with the decimal-rounding and percent rules
    (degrees: see worker). A predicted decimal for an exact gold needs PRED_DECIMAL_DIGITS digits."""
    def plain(x: Fraction, xd: int | None, y: Fraction, yd: int | None) -> bool:
        if x == y:
            return True
        if xd is not None and yd is None:
            return _rounds_to(Number(x, xd), y, PRED_DECIMAL_DIGITS)
        if yd is not None and xd is None:
            return _rounds_to(Number(y, yd), x)
        return False

    if plain(a.value, a.digits, b.value, b.digits):
        return True
    if a.percent != b.percent:
        pct, other = (a, b) if a.percent else (b, a)
        digits = None if pct.digits is None else pct.digits + 2  # 33.33% is 0.3333
        return plain(pct.value / 100, digits, other.value, other.digits)
    return False
