"""Procedural algebra: expanding products, simplifying expressions, roots of factorable polynomials.

Answers are expressions (`x^2 - 2x - 15`, `2x + 7y - 4`) or sets of roots (`{-3, 1/2}`); the verifier
compares expressions symbolically, so any equivalent form a model writes counts. Polynomials are
coefficient lists by ascending degree; printing goes through `math_gen.terms` / `math_gen.poly`.

    expand(np.random.default_rng(0), 2)      # "Expand (x + 3)(x - 5)."           ->  "x^2 - 2x - 15"
    simplify(np.random.default_rng(0), 1)    # "Simplify 3x + 5 - x + 2."         ->  "2x + 7"
    quadratic_roots(np.random.default_rng(0), 1)  # "Solve x^2 - 5x + 6 = 0 ..." ->  "{2, 3}"

Expand: 1 a(x + b); 2 (x + a)(x + b); 3 (px + q)(rx + s); 4 squares and sums of products;
5 (x + a)(x^2 + bx + c). Simplify: 1 like terms; 2 one bracket; 3 two variables; 4 two brackets with
signs; 5 x^2 terms. Roots: 1 positive integer roots up to 12; 2 any integer roots; 3 a leading coefficient;
4 one fractional root; 5 cubics with three integer roots or two fractional roots.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from reasongym.core import Task
from reasongym.envs.math.gen import (
    check_difficulty,
    choice,
    factor,
    make_task,
    nonzero,
    num,
    poly,
    poly_mul,
    randint,
    terms,
)

ORDER = ["x^2", "x", "y", ""]  # how simplified answers are ordered
LABEL = {"x^2": "x^2 terms", "x": "x terms", "y": "y terms", "": "Numbers"}


def _products(a: list[int], b: list[int]) -> list[tuple[int, str]]:
    """Every term of a times every term of b, unmerged, highest degrees first (for the FOIL line)."""
    out = []
    for i in reversed(range(len(a))):
        for j in reversed(range(len(b))):
            if a[i] and b[j]:
                out.append((a[i] * b[j], "" if i + j == 0 else "x" if i + j == 1 else f"x^{i + j}"))
    return out


def _foil(a: list[int], b: list[int]) -> tuple[list[int], list[str]]:
    product = poly_mul(a, b)
    chain = f"{factor(a)}{factor(b)} = {terms(_products(a, b))}"
    if len(_products(a, b)) > len([c for c in product if c]):  # like terms to combine
        chain += f" = {poly(product)}"
    return product, [f"Multiply each term of {factor(a)} by each term of {factor(b)}:", chain + "."]


def expand(rng: np.random.Generator, difficulty: int) -> Task:
    """Expand a product of polynomials; the answer is the expanded polynomial."""
    d = check_difficulty(difficulty)
    if d == 1:
        a, b = randint(rng, 2, 9) * choice(rng, [1, 1, -1]), nonzero(rng, -9, 9)
        expr, result = f"{a}{factor([b, 1])}", [a * b, a]
        lines = [f"Multiply each term in the bracket by {a}: {expr} = {terms([(a, 'x'), (a * b, '')])}."]
        key = (a, b)
    elif d in (2, 3, 5) or rng.random() < 0.5:
        lead = (lambda: randint(rng, 2, 5) * choice(rng, [1, -1])) if d == 3 else (lambda: 1)
        f1 = [nonzero(rng, -9, 9), lead()]
        f2 = [nonzero(rng, -9, 9), 1, nonzero(rng, -9, 9)] if d == 5 else [nonzero(rng, -9, 9), lead()]
        if d == 4:  # a square
            f1 = [nonzero(rng, -9, 9), randint(rng, 1, 5)]
            f2 = list(f1)
        expr = f"{factor(f1)}^2" if f1 == f2 else f"{factor(f1)}{factor(f2)}"
        result, lines = _foil(f1, f2)
        if f1 == f2:
            lines.insert(0, f"{expr} = {factor(f1)}{factor(f2)}.")
        key = tuple(sorted((tuple(f1), tuple(f2))))
    else:  # (x + a)(x + b) + c(x + e)
        f1, f2, c, e = [nonzero(rng, -9, 9), 1], [nonzero(rng, -9, 9), 1], nonzero(rng, -9, 9), nonzero(rng, -9, 9)
        p, lines = _foil(f1, f2)
        result = [p[0] + c * e, p[1] + c, p[2]]
        sign = "+" if c > 0 else "-"
        expr = f"{factor(f1)}{factor(f2)} {sign} {abs(c)}{factor([e, 1])}"
        both = [(p[2], "x^2"), (p[1], "x"), (p[0], ""), (c, "x"), (c * e, "")]
        lines += [f"Expand the second part: {c}{factor([e, 1])} = {terms([(c, 'x'), (c * e, '')])}.",
                  f"Add them: {terms(both)} = {poly(result)}."]
        key = (tuple(sorted((tuple(f1), tuple(f2)))), c, e)
    return make_task("expand", d, f"Expand {expr}.", poly(result), lines, key, form="expanded")


Piece = tuple[int | str | None, list[tuple[int, str]]]  # (multiplier: a number, "x" or None, terms)


def _times(k: int | str | None, coef: int, mono: str) -> tuple[int, str]:
    if k == "x":
        return coef, {"": "x", "x": "x^2"}[mono]
    return coef * (k or 1), mono


def _piece_text(pieces: list[Piece]) -> str:
    """Print bare terms, `k(...)` and `x(...)` brackets as one signed sum: `3x - 2(x - 5) + x(x + 1)`."""
    out = ""
    for k, body in pieces:
        if k is None:
            text = terms(body)
            neg, text = text.startswith("-"), text.lstrip("-")
        elif k == "x":
            neg, text = False, f"x({terms(body)})"
        else:
            neg, text = k < 0, f"{abs(k) if abs(k) != 1 else ''}({terms(body)})"
        out += (("-" if neg else "") + text) if not out else ((" - " if neg else " + ") + text)
    return out


def simplify(rng: np.random.Generator, difficulty: int) -> Task:
    """Simplify a sum of terms and brackets; the answer is the collected expression."""
    d = check_difficulty(difficulty)
    monos = {1: ["x", ""], 2: ["x", ""], 3: ["x", "y", ""], 4: ["x", ""], 5: ["x^2", "x", ""]}[d]
    groups, bare = {1: (0, 4), 2: (1, 2), 3: (0, 5), 4: (2, 1), 5: (1, 2)}[d]
    while True:
        pieces: list[Piece] = [(nonzero(rng, -6, 6) if d >= 4 else randint(rng, 2, 6),
                                [(1, "x"), (nonzero(rng, -9, 9), "")]) for _ in range(groups)]
        pieces += [(None, [(nonzero(rng, -9, 9), monos[i] if i < len(monos) else choice(rng, monos))])
                   for i in range(bare)]
        if d == 5:
            pieces.append(("x", [(1, "x"), (nonzero(rng, -9, 9), "")]))
        pieces = [pieces[i] for i in rng.permutation(len(pieces))]
        expanded = [_times(k, c, m) for k, body in pieces for c, m in body]
        total = {m: sum(c for c, mm in expanded if mm == m) for m in ORDER}
        if sum(1 for m in ORDER if total[m]) >= 2:
            break
    lines = []
    if any(k is not None for k, _ in pieces):
        lines.append(f"Expand the brackets: {terms(expanded)}.")
    for m in ORDER:
        like = [(c, mm) for c, mm in expanded if mm == m]
        if len(like) > 1:
            lines.append(f"{LABEL[m]}: {terms(like)} = {terms([(total[m], m)])}.")
    answer = terms([(total[m], m) for m in ORDER])
    lines.append(f"So the expression simplifies to {answer}.")
    key = "+".join(sorted(f"{k}*{num(c)}{m}" for k, body in pieces for c, m in body))
    return make_task("simplify", d, f"Simplify {_piece_text(pieces)}.", answer, lines, key, form="simplified")


def _rational_root(rng: np.random.Generator) -> tuple[list[int], Fraction]:
    """A factor px - q with gcd(p, q) = 1, p >= 2, and its root q/p."""
    p = randint(rng, 2, 5)
    q = nonzero(rng, -9, 9)
    while Fraction(q, p).denominator == 1:
        q = nonzero(rng, -9, 9)
    return [-q, p], Fraction(q, p)


def quadratic_roots(rng: np.random.Generator, difficulty: int) -> Task:
    """Roots of a factorable polynomial; the answer is the set of roots."""
    d = check_difficulty(difficulty)
    lo, hi = (1, 12) if d == 1 else (-9, 9)
    if d <= 3:
        r1 = nonzero(rng, lo, hi)
        r2 = nonzero(rng, lo, hi)
        while r2 == r1:
            r2 = nonzero(rng, lo, hi)
        a = randint(rng, 2, 5) * choice(rng, [1, -1]) if d == 3 else 1
        factors, roots = [[-r1, 1], [-r2, 1]], [Fraction(r1), Fraction(r2)]
    elif d == 4 or rng.random() < 0.5:
        f1, q = _rational_root(rng)
        r = nonzero(rng, -9, 9)
        f2, roots, a = [-r, 1], [q, Fraction(r)], 1
        if d == 5:
            f2, q2 = _rational_root(rng)
            while q2 == q:
                f2, q2 = _rational_root(rng)
            roots = [q, q2]
        factors = [f1, f2]
    else:
        rs = []
        while len(rs) < 3:
            r = randint(rng, -6, 6)
            rs += [r] if r not in rs else []
        factors, roots, a = [[-r, 1] for r in rs], [Fraction(r) for r in rs], 1
    monic = [1]
    for f in factors:
        monic = poly_mul(monic, f)
    coeffs = [a * c for c in monic]
    lines = []
    if a != 1:
        lines.append(f"Divide both sides by {a}: {poly(monic)} = 0.")
    if d <= 3:
        s, p = -monic[1], monic[0]
        lines.append(f"Find two numbers with product {p} and sum {s}: {num(roots[0])} and {num(roots[1])}.")
    lines.append(f"Factor: {poly(monic if a != 1 else coeffs)} = {''.join(factor(f) for f in factors)} = 0.")
    ordered = sorted(roots)
    lines.append("Each factor can be zero, so x = " + " or x = ".join(num(r) for r in ordered) + ".")
    answer = "{" + ", ".join(num(r) for r in ordered) + "}"
    question = f"Solve {poly(coeffs)} = 0. Give all solutions as a set."
    return make_task("roots", d, question, answer, lines, ",".join(map(str, coeffs)), form="roots")
