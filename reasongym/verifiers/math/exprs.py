r"""Equality of two sympy expressions: exact methods first, then probes. Runs in the worker process.

Exact first: identical trees are equal; a difference that cancels to 0 is equal, one that comes out a
non-zero constant is different (`x^{30000}+1` vs `x^{30000}+2`, `\pi + 10^{-30}` vs `\pi`: no rounding
can hide it). Otherwise the two sides are compared at PROBES random points: positive, negative and
complex ones (only real ones under a fractional power, only positive ones under a log or inverse trig
function, whose branch cuts would make `\ln(ab) = \ln a + \ln b` fail), exactly where the
values come out rational (`1/x^{1000}` is not 0 at x = 37/12) and to REL_TOL relative elsewhere. A
differing probe is overruled only by an exact zero from `simplify`; agreement needs MIN_PROBES points.

    exprs_equal(sympy.Abs(x), x)      # False: the negative probes see it
"""

from __future__ import annotations

import random

import sympy

DPS = 50
UNEVALUATED = (sympy.Sum, sympy.Product, sympy.Integral, sympy.Limit, sympy.Derivative)
REL_TOL = sympy.Float(10) ** -35  # two probe values agree when they differ by less than this, relatively
PROBES = 12  # random points per comparison: positive, negative and complex
MIN_PROBES = 3  # points where both sides are defined, needed before a probe may say "equal"
BRANCHY = (sympy.log, sympy.asin, sympy.acos, sympy.atan, sympy.acot, sympy.asec, sympy.acsc, sympy.LambertW)


def numeric(e: sympy.Expr) -> sympy.Expr | None:
    """e at DPS digits, or None when it is not a finite number."""
    try:
        v = sympy.N(e, DPS)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, RecursionError):
        return None
    if not v.is_number or v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return v


def close(a: sympy.Expr, b: sympy.Expr, tol: sympy.Expr = REL_TOL) -> bool:
    """Relative closeness (no absolute floor: 1/2^99 and 1/2^98, or 10^-30 and 0, are different)."""
    return bool(abs(a - b) <= tol * max(abs(a), abs(b)))


def value_at(e: sympy.Expr, point: dict) -> sympy.Expr | None:
    """e at a point: an exact Rational when it comes out rational, else a DPS-digit number; None if undefined."""
    v = e.xreplace(point)
    if v.is_Rational:
        return v
    if v.has(sympy.zoo, sympy.nan) or v.is_infinite:
        return None
    return numeric(v)


def probe_agrees(vx: sympy.Expr, vy: sympy.Expr) -> bool:
    """Exact equality for two rationals, relative closeness otherwise."""
    if vx.is_Rational and vy.is_Rational:
        return vx == vy
    return close(sympy.N(vx, DPS), sympy.N(vy, DPS))


def probe_kinds(*exprs: sympy.Expr) -> int:
    """Which points are safe to probe: 1 (positive reals only) under a log or inverse trig function, whose
    branch cuts break identities such as ln(ab) = ln a + ln b; 2 (positive and negative reals) under a
    fractional power (`\\sqrt{x^2}` is not x); 3 (complex points too) otherwise."""
    kinds = 3
    for e in exprs:
        for node in sympy.preorder_traversal(e):
            if isinstance(node, BRANCHY):
                return 1
            if isinstance(node, sympy.Pow) and not node.exp.is_Integer:
                kinds = 2
    return kinds


def probe_points(syms: list, kinds: int) -> list[dict]:
    """PROBES random points cycling through positive rationals, negative ones and complex ones (a + bi)."""
    rng, points = random.Random(0), []
    for k in range(PROBES):
        kind = k % kinds
        point = {}
        for s in syms:
            r = sympy.Rational(rng.randint(11, 97), rng.randint(7, 31))
            point[s] = r if kind == 0 else -r if kind == 1 else r + sympy.I * sympy.Rational(rng.randint(1, 40), rng.randint(7, 31))
        points.append(point)
    return points


def constants_equal(x: sympy.Expr, y: sympy.Expr, d: sympy.Expr) -> bool:
    """Two constant expressions: an exact difference decides; else high precision, confirmed by simplify."""
    if d.is_Rational or (d.is_number and d.is_zero is not None):
        return bool(d.is_zero)
    vx, vy = numeric(x), numeric(y)
    if vx is None or vy is None:
        return sympy.simplify(d) == 0
    if not close(vx, vy):
        return False
    return sympy.simplify(d).is_zero is not False  # numerically equal: equal unless exactly shown different


def exprs_equal(x: sympy.Basic, y: sympy.Basic) -> bool:
    """Two sympy expressions are mathematically equal: exact methods first (the difference cancels, or is
    a non-zero constant), then probes at many points; a probe never overrules an exact "different"."""
    if x == y:
        return True
    if not isinstance(x, sympy.Expr) or not isinstance(y, sympy.Expr):
        return False
    if x.is_infinite or y.is_infinite:
        return x == y
    if x.is_Rational and y.is_Rational:
        return False  # exact numbers that differ (x == y was checked above)
    if x.has(*UNEVALUATED) or y.has(*UNEVALUATED):  # sums, integrals, limits: evaluate (sizes were checked)
        x, y = x.doit(), y.doit()
        if x == y:
            return True
        if x.has(*UNEVALUATED) or y.has(*UNEVALUATED):  # no closed form (a sum to n): no point to probe
            return sympy.simplify(x - y) == 0
    d = x - y
    syms = sorted(d.free_symbols, key=str)
    if not syms:
        return constants_equal(x, y, d)
    agree = 0
    for point in probe_points(syms, probe_kinds(x, y)):
        vx, vy = value_at(x, point), value_at(y, point)
        if vx is None or vy is None:
            continue
        if not probe_agrees(vx, vy):
            return sympy.simplify(d) == 0  # only an exact zero overrules a differing probe
        agree += 1
    return agree >= MIN_PROBES or sympy.simplify(d) == 0
