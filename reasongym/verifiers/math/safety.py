"""The safety layer of the math verifier: refuse expressions whose evaluation would not finish.

sympy evaluates `10^{10^{10}}`, `(10^9)!` or a 20,000-term sum of `k^k` eagerly or for a very long time.
The parser keeps such trees unevaluated; `check_size` walks the tree first and raises `TooLarge` (the
answer is then "not equal") before anything computes it. It is a cheap first line: the worker process
running the comparison is still killed from outside if something slips through.

    check_size(to_sympy(r"10^{10^{10}}"))   # raises TooLarge("exponent too large")
"""

from __future__ import annotations

import math

import sympy

from reasongym.verifiers.math.normalize import short_int

MAX_LOG10 = 4.5  # exponents above ~30,000 are refused
MAX_TERMS_LOG10 = 3.5  # so are sums and products over more than ~3,000 terms
MAX_TOWER = 3  # and exponent towers x^{x^{x^x}} (numeric evaluation explodes)


def show(e: sympy.Basic) -> str:
    """sympy's string of e, with integers too long to print shortened."""
    if e.is_Rational and (abs(e.p) >= 10**60 or e.q >= 10**60):
        return short_int(int(e.p)) + ("" if e.q == 1 else "/" + short_int(int(e.q)))
    if any(a.is_Integer and abs(a) >= 10**60 for a in sympy.preorder_traversal(e)):
        return f"{type(e).__name__} with very long integers"
    return sympy.sstr(e)


class TooLarge(ValueError):
    """The expression would take unbounded time or memory to evaluate (power tower, huge factorial)."""


def log10_abs(e: sympy.Basic) -> float:
    """A cheap upper estimate of log10|e| for numeric trees; towers overflow to inf instead of computing."""
    if isinstance(e, sympy.Integer):
        return math.log10(abs(int(e))) if e != 0 else 0.0
    if isinstance(e, sympy.Rational):
        return max(log10_abs(sympy.Integer(e.p)), log10_abs(sympy.Integer(e.q)))
    if isinstance(e, sympy.Pow):
        b, x = e.args
        lx = log10_abs(x)
        if lx > 300:
            return math.inf
        return (10 ** lx) * max(log10_abs(b), 0.0) if x.is_number else log10_abs(b)
    if isinstance(e, sympy.factorial):
        n = log10_abs(e.args[0])
        return math.inf if n > 300 else (10 ** n) * (n + 1)
    if e.args:
        return sum(max(log10_abs(a), 0.0) for a in e.args if isinstance(a, sympy.Basic))
    return 0.0


def tower_height(e: sympy.Basic) -> int:
    """How many exponents are stacked: x -> 0, x^y -> 1, x^{x^x} -> 2."""
    if isinstance(e, sympy.Pow):
        return 1 + tower_height(e.exp)
    if isinstance(e, sympy.exp):
        return 1 + tower_height(e.args[0])
    return max((tower_height(a) for a in e.args if isinstance(a, sympy.Basic)), default=0)


def check_size(e: sympy.Basic) -> None:
    """Refuse (TooLarge) huge exponents, towers, factorials, sum/product ranges, before any evaluation."""
    if tower_height(e) > MAX_TOWER:
        raise TooLarge(f"a tower of more than {MAX_TOWER} exponents")
    for node in sympy.preorder_traversal(e):
        if isinstance(node, sympy.Pow) and node.exp.is_number and node.base not in (0, 1, -1):
            if log10_abs(node.exp) > MAX_LOG10 or log10_abs(node) > 1e5:
                raise TooLarge("exponent too large")
        elif isinstance(node, (sympy.factorial, sympy.gamma, sympy.factorial2, sympy.binomial, sympy.fibonacci,
                               sympy.subfactorial)) and log10_abs(node.args[0]) > 3.5:
            raise TooLarge(f"{type(node).__name__} of a number too large")
        elif isinstance(node, (sympy.Sum, sympy.Product)):
            for lim in node.limits:
                if any(b.is_number and log10_abs(b) > MAX_TERMS_LOG10 for b in lim[1:]):
                    raise TooLarge("sum or product over too many terms")
