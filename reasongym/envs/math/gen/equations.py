"""Procedural equations: one linear equation in x, and 2x2 linear systems, with worked solutions.

Answers are `x = 4` (or `x = -7/3`) for a single equation and `(x, y)` for a system. The worked
solutions do one move per line (subtract from both sides, divide, eliminate, substitute).

    linear_equation(np.random.default_rng(0), 3)   # e.g. "Solve 5x - 3 = 2x + 9 for x."  ->  "x = 4"
    linear_system(np.random.default_rng(0), 2)     # e.g. "2x + y = 7 and x + 3y = 11"    ->  "(2, 3)"

Linear, by difficulty: 1 `x + a = b`, `ax = b`; 2 `ax + b = c`; 3 x on both sides; 4 brackets;
5 a fractional solution. Systems: 1 `x + y = s, x - y = d`; 2 small positive coefficients; 3-4 larger
and negative coefficients; 5 fractional solutions.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from reasongym.core import Task
from reasongym.envs.math.gen import check_difficulty, make_task, nonzero, num, paren, randint, terms


def side(a: int | Fraction, b: int | Fraction) -> str:
    """`ax + b` printed."""
    return terms([(a, "x"), (b, "")])


def finish(a: Fraction, b: Fraction, c: Fraction) -> list[str]:
    """Solve ax + b = c (a != 0) one move per line."""
    lines = []
    if b > 0:
        lines.append(f"Subtract {num(b)} from both sides: {side(a, 0)} = {num(c)} - {num(b)} = {num(c - b)}.")
    elif b < 0:
        lines.append(f"Add {num(-b)} to both sides: {side(a, 0)} = {num(c)} + {num(-b)} = {num(c - b)}.")
    if a != 1:
        lines.append(f"Divide both sides by {num(a)}: x = {num(c - b)} ÷ {paren(a)} = {num((c - b) / a)}.")
    return lines


def linear_equation(rng: np.random.Generator, difficulty: int) -> Task:
    """One linear equation in x; the answer is `x = value`."""
    d = check_difficulty(difficulty)
    F = Fraction
    x = F(randint(rng, -12, 12)) if d > 1 else F(randint(rng, 1, 20))
    if d == 1:
        form = randint(rng, 0, 2)
        if form == 2:
            a = randint(rng, 2, 9)
            eq, key = f"{a}x = {num(a * x)}", (a, 0, 0, a * x)
            lines = finish(F(a), F(0), a * x)
        else:
            b = randint(rng, 1, 20) * (1 if form == 0 else -1)
            eq, key = f"{side(1, b)} = {num(x + b)}", (1, b, 0, x + b)
            lines = finish(F(1), F(b), x + b)
    elif d == 2:
        a, b = nonzero(rng, -9, 9), nonzero(rng, -20, 20)
        a = a if a != 1 else 2
        eq, key, lines = f"{side(a, b)} = {num(a * x + b)}", (a, b, 0, a * x + b), finish(F(a), F(b), a * x + b)
    else:
        a, c = nonzero(rng, -9, 9), nonzero(rng, -9, 9)
        while abs(a - c) < (2 if d == 5 else 1):  # d5 needs a - c != ±1 for a fractional solution
            c = nonzero(rng, -9, 9)
        b = nonzero(rng, -20, 20)
        if d == 5:  # pick the right side's constant freely: the solution is (dd - b) / (a - c)
            dd = F(nonzero(rng, -20, 20))
            while (dd - b) % (a - c) == 0:
                dd += 1
            x = (dd - b) / (a - c)
        else:
            dd = a * x + b - c * x
        if d == 4 and rng.random() < 0.6:  # a(x + k) = cx + dd with the bracket expanding to ax + b
            k = nonzero(rng, -9, 9)
            a = a if abs(a) > 1 else 3
            while c == a:
                c = nonzero(rng, -9, 9)
            b, dd = a * k, a * x + a * k - c * x
            eq = f"{a}({side(1, k)}) = {side(c, dd)}"
            lines = [f"Expand the bracket: {side(a, b)} = {side(c, dd)}."]
        else:
            eq, lines = f"{side(a, b)} = {side(c, dd)}", []
        key = (a, b, c, dd)
        move = f"Subtract {num(c)}x from both sides" if c > 0 else f"Add {num(-c)}x to both sides"
        lines.append(f"{move}: {side(a - c, b)} = {num(dd)}.")
        lines += finish(F(a - c), F(b), F(dd))
    answer = f"x = {num(x)}"
    return make_task("linear", d, f"Solve {eq} for x.", answer, lines, ",".join(map(num, key)), form="equation")


def _equation(a: int, b: int, c: Fraction) -> str:
    return f"{terms([(a, 'x'), (b, 'y')])} = {num(c)}"


def linear_system(rng: np.random.Generator, difficulty: int) -> Task:
    """Two linear equations in x and y; the answer is the pair `(x, y)`."""
    d = check_difficulty(difficulty)
    F = Fraction
    if d == 1:
        x, y = randint(rng, 2, 15), randint(rng, 1, 14)
        eqs = [(1, 1, F(x + y)), (1, -1, F(x - y))]
        lines = [f"Add the two equations: 2x = {x + y} + {paren(x - y)} = {2 * x}, so x = {x}.",
                 f"Then y = {x + y} - {x} = {y}."]
        sol = (F(x), F(y))
    else:
        lo, hi = {2: (1, 4), 3: (-5, 5), 4: (-9, 9), 5: (-6, 6)}[d]
        while True:
            a1, b1, a2, b2 = (nonzero(rng, lo, hi) for _ in range(4))
            det = a1 * b2 - a2 * b1
            if det == 0:
                continue
            if d == 5:
                c1, c2 = F(randint(rng, -15, 15)), F(randint(rng, -15, 15))
                sol = ((c1 * b2 - c2 * b1) / det, (a1 * c2 - a2 * c1) / det)
                if all(s.denominator == 1 for s in sol) or max(s.denominator for s in sol) > 20:
                    continue
            else:
                sol = (F(randint(rng, 0 if d == 2 else -8, 9)), F(randint(rng, 0 if d == 2 else -8, 9)))
                c1, c2 = a1 * sol[0] + b1 * sol[1], a2 * sol[0] + b2 * sol[1]
            break
        eqs = [(a1, b1, c1), (a2, b2, c2)]
        n = c1 * b2 - c2 * b1
        lines = [f"Multiply the first equation by {paren(b2)} and the second by {paren(b1)}, then subtract "
                 f"to remove y: ({a1} × {paren(b2)} - {paren(a2)} × {paren(b1)})x = {num(c1)} × {paren(b2)} - "
                 f"{paren(c2)} × {paren(b1)}.",
                 f"So {side(det, 0)} = {num(n)}" + (f", and x = {num(n)} ÷ {paren(det)} = {num(sol[0])}."
                                                   if det != 1 else "."),
                 f"Put x = {num(sol[0])} into the first equation: {terms([(b1, 'y')])} = {num(c1)} - "
                 f"{paren(a1)} × {paren(sol[0])} = {num(c1 - a1 * sol[0])}"
                 + (f", so y = {num(c1 - a1 * sol[0])} ÷ {paren(b1)} = {num(sol[1])}." if b1 != 1 else ".")]
    question = f"Solve for x and y: {_equation(*eqs[0])} and {_equation(*eqs[1])}. Answer as (x, y)."
    answer = f"({num(sol[0])}, {num(sol[1])})"
    key = "|".join(sorted(",".join(map(num, e)) for e in eqs))
    return make_task("system", d, question, answer, lines, key, form="pair")
