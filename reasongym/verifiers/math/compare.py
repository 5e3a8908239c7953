r"""Equivalence of two answers: the sympy side of the math verifier. Runs in the worker process.

`judge(pred, gold)` takes two normalised answer strings and returns a `Judgement` (equal, the parsed
forms as strings, and the reason). The rules:

- lists (`1, 2`, `\{..\}`, several boxes) compare as sets; tuples, intervals, ratios and matrices in order;
  a single tuple against a bare list of the same length compares in order (`(1,3)` vs `{1,3}`);
- a decimal equals an exact value only when it agrees to every decimal written: a gold decimal needs 4
  significant digits (`4.1231` = sqrt(17)), a predicted one PRED_DECIMAL_DIGITS (`0.6667` != 2/3: a
  rounded answer is not the exact one); exact values compare exactly (2^100 vs 2^100+1);
- a percent `p%` equals `p` or `p/100`; a degree `d°` equals `d` or `d*pi/180`;
- `x = 3` equals `3`; two equations are equal when `lhs - rhs` differ by a non-zero constant factor;
- expressions: exact first (the difference cancels to 0, or is a non-zero constant: `x^{30000}+1` !=
  `x^{30000}+2`, `\pi + 10^{-30}` != `\pi`); then PROBES random points, negative and complex ones
  included unless a branch cut makes them unsafe (`|x|` != `x`), exact at rational points (`1/x^{1000}`
  != 0) and relative (exprs.REL_TOL) elsewhere; a differing probe is overruled only by an exact zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from reasongym.verifiers.math.exprs import exprs_equal, numeric
from reasongym.verifiers.math.normalize import strip_text_wrappers
from reasongym.verifiers.math.parse import (
    Equation,
    Mat,
    Relation,
    Scalar,
    Seq,
    SetUnion,
    SetVal,
    Text,
    as_text,
    parse_value,
    to_sympy,
)
from reasongym.verifiers.math.safety import TooLarge
from reasongym.verifiers.math.structure import Item, name_key, read_item, split_items

PRED_DECIMAL_DIGITS = 10  # significant digits a predicted decimal needs to stand for an exact non-terminating value


@dataclass(frozen=True)
class Judgement:
    equal: bool
    pred: str
    gold: str
    reason: str


def decimal_matches(dec: Scalar, exact: sympy.Expr, min_digits: int = 4) -> bool:
    """A decimal literal written to `digits` places matches an exact value it rounds from (with at least
    min_digits significant digits: a predicted decimal needs PRED_DECIMAL_DIGITS, `0.6667` is not 2/3)."""
    v = numeric(exact)
    if v is None or dec.digits is None or not v.is_real:
        return False
    significant = len(str(abs(sympy.Rational(dec.expr) * 10 ** dec.digits)).lstrip("0"))
    return significant >= min_digits and bool(abs(v - dec.expr) <= sympy.Rational(1, 2) * sympy.Rational(10) ** -dec.digits * (1 + sympy.Rational(1, 10**9)))


def scalars_equal(a: Scalar, b: Scalar) -> bool:
    """a (the prediction) equals b (the gold), with the decimal, percent and degree rules."""
    def plain(x: Scalar, y: Scalar, x_is_pred: bool) -> bool:
        if exprs_equal(x.expr, y.expr):
            return True
        if x.digits is not None and y.digits is None:  # a predicted decimal for an exact gold needs more digits
            return decimal_matches(x, y.expr, PRED_DECIMAL_DIGITS if x_is_pred else 4)
        if y.digits is not None and x.digits is None:
            return decimal_matches(y, x.expr, 4 if x_is_pred else PRED_DECIMAL_DIGITS)
        return False

    if plain(a, b, True):
        return True
    for u, v, u_is_pred in ((a, b, True), (b, a, False)):
        scaled_digits = None if u.digits is None else u.digits + 2  # 33.33% has 4 decimals as a fraction
        if u.percent and not v.percent and plain(Scalar(u.expr / 100, scaled_digits), v, u_is_pred):
            return True
        if u.degree and not v.degree and plain(Scalar(u.expr * sympy.pi / 180, None), v, u_is_pred):
            return True
    return False


def interval_of(v):
    """A two-item Seq, or a one-interval SetUnion, as (brackets, low, high); else None."""
    if isinstance(v, SetUnion) and len(v.parts) == 1:
        v = v.parts[0]
    if isinstance(v, Seq) and len(v.items) == 2 and v.brackets != ":":
        return v
    return None


def values_equal(a, b) -> bool:
    """Equality of two parsed values of any kind."""
    if isinstance(a, Text) or isinstance(b, Text):
        return isinstance(a, Text) and isinstance(b, Text) and a.words == b.words
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        return scalars_equal(a, b)
    for r, x in ((a, b), (b, a)):  # a ratio 3:4 against the fraction 3/4
        if isinstance(r, Seq) and r.brackets == ":" and isinstance(x, Scalar) and len(r.items) == 2 and \
                all(isinstance(i, Scalar) for i in r.items) and r.items[1].expr != 0:
            return exprs_equal(r.items[0].expr / r.items[1].expr, x.expr)
    ia, ib = interval_of(a), interval_of(b)
    if ia is not None and ib is not None:
        return ia.brackets == ib.brackets and all(values_equal(x, y) for x, y in zip(ia.items, ib.items))
    if isinstance(a, Seq) and isinstance(b, Seq):
        return a.brackets == b.brackets and len(a.items) == len(b.items) and \
            all(values_equal(x, y) for x, y in zip(a.items, b.items))
    if isinstance(a, SetVal) and isinstance(b, SetVal):
        return same_set(a.items, b.items)
    if (isinstance(a, SetUnion) or isinstance(b, SetUnion)) and all(isinstance(v, (SetUnion, SetVal, Seq)) for v in (a, b)):
        pa = a.parts if isinstance(a, SetUnion) else [a]
        pb = b.parts if isinstance(b, SetUnion) else [b]
        return same_set(pa, pb)
    for m, t in ((a, b), (b, a)):  # a column or row vector written as a tuple
        if isinstance(m, Mat) and isinstance(t, Seq) and t.brackets == "()":
            flat = [x for row in m.rows for x in row]
            if (len(m.rows) == 1 or all(len(r) == 1 for r in m.rows)) and len(flat) == len(t.items):
                return all(values_equal(x, y) for x, y in zip(flat, t.items))
    if isinstance(a, Mat) and isinstance(b, Mat):
        return len(a.rows) == len(b.rows) and all(
            len(r) == len(s) and all(values_equal(x, y) for x, y in zip(r, s)) for r, s in zip(a.rows, b.rows))
    if isinstance(a, Equation) and isinstance(b, Equation):
        return equations_equal(a.diff, b.diff)
    if isinstance(a, Relation) and isinstance(b, Relation):
        return a.rel == b.rel or sympy.simplify(a.rel.canonical) == sympy.simplify(b.rel.canonical)
    return False


def equations_equal(d1: sympy.Expr, d2: sympy.Expr) -> bool:
    """lhs1 - rhs1 and lhs2 - rhs2 differ by a non-zero constant factor (same solution set)."""
    if exprs_equal(d1, d2) or exprs_equal(d1, -d2):
        return True
    if d2 == 0 or d1 == 0:
        return False
    ratio = sympy.simplify(d1 / d2)
    return bool(ratio.is_number and ratio != 0 and ratio.is_finite)


def same_set(xs: list, ys: list) -> bool:
    """Every item of each list equals some item of the other (duplicates collapse)."""
    return all(any(values_equal(x, y) for y in ys) for x in xs) and all(any(values_equal(x, y) for x in xs) for y in ys)


@dataclass
class Parsed:
    item: Item
    value: object  # the parsed value (what the item equals)
    loose: str | None = None  # lower-case letters-only spelling, so `E` matches `\text{E}`
    _equation: Equation | None = None

    def equation(self) -> Equation | None:
        """The equation the item states (a genuine equation, or `name = value`), parsed on demand."""
        if self._equation is None and self.item.equation is not None:
            lhs, rhs = self.item.equation
            try:
                self._equation = Equation(sympy.expand(to_sympy(lhs) - to_sympy(rhs)))
            except TooLarge:
                raise
            except Exception:
                return None
        return self._equation


def loose_text(raw: str) -> str | None:
    """Lower-case words of an item; a multiple-choice item `(E) 12` reads as its letter `e`."""
    plain = strip_text_wrappers(raw).strip()
    choice = re.match(r"^\(([A-E])\)(?![A-Za-z(])", plain)
    if choice:
        return choice.group(1).lower()
    return plain.lower() if re.fullmatch(r"[A-Za-z][A-Za-z '\-]*", plain) else None


def parse_item(raw: str) -> Parsed:
    item = read_item(raw)
    text = as_text(raw)
    if text is not None and item.equation is None:
        return Parsed(item, Text(text), text)
    if item.equation is not None and not item.assignment:
        parsed = Parsed(item, None)
        parsed.value = parsed.equation()
        if parsed.value is None:
            raise ValueError(f"cannot parse the equation {raw!r}")
        return parsed
    return Parsed(item, parse_value(item.value), loose_text(raw))


def items_equal(p: Parsed, g: Parsed) -> bool:
    if (isinstance(p.value, Text) or isinstance(g.value, Text)) and p.loose is not None and p.loose == g.loose:
        return True
    if isinstance(p.value, Equation) or isinstance(g.value, Equation):  # compare the equations themselves
        pe, ge = p.equation(), g.equation()
        return pe is not None and ge is not None and values_equal(pe, ge)
    return values_equal(p.value, g.value)


def judge(pred: str, gold: str) -> Judgement:
    """Compare a normalised predicted answer with a normalised gold answer."""
    p_raw, p_kind = split_items(pred)
    g_raw, g_kind = split_items(gold)
    if len(set(p_raw)) > 4 * len(set(g_raw)) + 4:
        return Judgement(False, pred, gold, f"prediction lists {len(p_raw)} items, the gold {len(g_raw)}")
    try:
        gp = [parse_item(x) for x in g_raw]
    except TooLarge as e:
        return Judgement(False, pred, gold, f"gold too large to evaluate: {e}")
    except Exception as e:  # a gold we cannot parse can still match by its words
        return Judgement(False, pred, gold, f"cannot parse gold: {type(e).__name__}")
    try:
        pp = [parse_item(x) for x in p_raw]
    except TooLarge as e:
        return Judgement(False, pred, str_items(gp), f"too large to evaluate: {e}")
    except Exception as e:
        return Judgement(False, pred, str_items(gp), f"cannot parse prediction: {type(e).__name__}")
    pp, gp = merge_set_parts(pp), merge_set_parts(gp)
    ps, gs = str_items(pp), str_items(gp)
    for one, many in ((pp, gp), (gp, pp)):  # x \in \{1, 2\} against the list 1, 2
        if len(one) == 1 and isinstance(one[0].value, SetVal) and len(many) > 1:
            ok = same_set(one[0].value.items, [m.value for m in many])
            return Judgement(ok, ps, gs, "same set of answers" if ok else "different set of answers")
    if len(pp) == 1 and len(gp) == 1:
        ok = items_equal(pp[0], gp[0])
        return Judgement(ok, ps, gs, "equal" if ok else "different value")
    for one, many in ((pp, gp), (gp, pp)):  # (1,3) vs {1,3}: a tuple against a bare list, in order
        if len(one) == 1 and isinstance(one[0].value, Seq) and one[0].value.brackets == "()" and \
                len(one[0].value.items) == len(many):
            ok = all(values_equal(x, m.value) for x, m in zip(one[0].value.items, in_name_order(many)))
            return Judgement(ok, ps, gs, "equal in order" if ok else "different tuple")
    p_named, g_named = by_name(pp), by_name(gp)
    if g_named and len(g_named) == len(gp) == len(pp) > 1 and all(name_key(p.item) is None for p in pp):
        ok = all(values_equal(p.value, g.value) for p, g in zip(pp, gp))  # x = 2, y = 3 answered `2, 3`
        return Judgement(ok, ps, gs, "equal in the gold's order" if ok else "different values in the gold's order")
    if p_named and g_named and len(g_named) > 1 and p_named.keys() == g_named.keys():  # x = 2, y = 3
        ok = all(same_set([i.value for i in p_named[k]], [i.value for i in g_named[k]]) for k in g_named)
        return Judgement(ok, ps, gs, "same value for each name" if ok else "different value for some name")
    ok = all(any(items_equal(p, g) for g in gp) for p in pp) and all(any(items_equal(p, g) for p in pp) for g in gp)
    return Judgement(ok, ps, gs, "same set of answers" if ok else "different set of answers")


def by_name(items: list[Parsed]) -> dict[str, list[Parsed]] | None:
    """Items grouped by the name they assign (`x = 2, y = 3`), or None unless every item is an assignment."""
    named: dict[str, list[Parsed]] = {}
    for i in items:
        key = name_key(i.item)
        if key is None:
            return None
        named.setdefault(key, []).append(i)
    return named


def in_name_order(items: list[Parsed]) -> list[Parsed]:
    """`y = -1, x = 2` read as the tuple (x, y): assignments to distinct names sorted by name; else as is."""
    names = [name_key(i.item) for i in items]
    if None in names or len(set(names)) != len(names):
        return items
    return [i for _, i in sorted(zip(names, items), key=lambda pair: pair[0])]


def merge_set_parts(items: list[Parsed]) -> list[Parsed]:
    """`x < 2 or x > 3`: several solved inequalities / intervals are one union."""
    if len(items) > 1 and all(isinstance(i.value, SetUnion) for i in items):
        return [Parsed(items[0].item, SetUnion([p for i in items for p in i.value.parts]))]
    return items


def str_items(items: list[Parsed]) -> str:
    return ", ".join(str(i.value) for i in items)
