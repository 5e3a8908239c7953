"""Procedural arithmetic and fraction tasks, with step-by-step worked solutions.

Both kinds build a small expression tree (a number, or `(op, left, right)` with op in + - × ÷), print it
with the fewest parentheses, and solve it one operation at a time in the usual order, explaining each
operation the way a child would (47 × 6 = 40 × 6 + 7 × 6 = 240 + 42 = 282; 1/4 + 2/3 = 3/12 + 8/12).
Divisions are always exact. The split key is the tree with the operands of + and × sorted, so 3 + 4 and
4 + 3 fall into the same split.

    arithmetic(np.random.default_rng(0), difficulty=1)   # e.g. "What is 47 × 6?"  answer "282"
    fractions(np.random.default_rng(0), difficulty=2)    # e.g. "Compute 1/4 + 2/3 ..."  answer "11/12"

difficulty 1: two-digit + and -, two-digit × one-digit; 2: three digits, 2-digit × 2-digit, exact ÷;
3: two operations with precedence and parentheses; 4: negative numbers and bigger products;
5: three or four operations. Fractions: 1 same denominator, 2 unlike denominators, 3 × and ÷,
4 two operations, 5 three operations with negatives.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm

import numpy as np

from reasongym.core import Task
from reasongym.envs.math.gen import check_difficulty, choice, make_task, num, paren, randint

Node = Fraction | tuple  # a number, or (op, left, right)
PREC = {"+": 1, "-": 1, "×": 2, "÷": 2}


def show(node: Node, first: bool = True) -> str:
    """Print an expression with the fewest parentheses; a negative number not at the start is `(-4)`."""
    if not isinstance(node, tuple):
        return num(node) if first or node >= 0 else paren(node)
    op, left, right = node
    lp = isinstance(left, tuple) and PREC[left[0]] < PREC[op]
    rp = isinstance(right, tuple) and (PREC[right[0]] < PREC[op] or (PREC[right[0]] == PREC[op] and op in "-÷"))
    ls = f"({show(left)})" if lp else show(left, first)
    rs = f"({show(right)})" if rp else show(right, False)
    if op == "÷" and not isinstance(right, tuple) and right.denominator != 1:
        rs = f"({num(right)})"  # 1/2 ÷ (3/4): a fraction after ÷ is one number
    return f"{ls} {op} {rs}"


def apply(op: str, a: Fraction, b: Fraction) -> Fraction:
    return a + b if op == "+" else a - b if op == "-" else a * b if op == "×" else a / b


def value(node: Node) -> Fraction:
    return node if not isinstance(node, tuple) else apply(node[0], value(node[1]), value(node[2]))


def reduce_once(node: Node) -> tuple[Node, tuple[str, Fraction, Fraction]]:
    """Evaluate the first operation (in the usual order) whose operands are both numbers."""
    op, left, right = node
    if isinstance(left, tuple):
        new, step = reduce_once(left)
        return (op, new, right), step
    if isinstance(right, tuple):
        new, step = reduce_once(right)
        return (op, left, new), step
    return apply(op, left, right), (op, left, right)


def canonical(node: Node) -> str:
    """The tree with + and × operands sorted: a split key shared by commuted variants."""
    if not isinstance(node, tuple):
        return num(node)
    op, left, right = node
    parts = [canonical(left), canonical(right)]
    if op in "+×":
        parts.sort()
    return f"({parts[0]}{op}{parts[1]})"


def solve(node: Node, explain) -> list[str]:
    """Solution lines: one per operation, then the whole chain when there was more than one."""
    forms, lines = [show(node)], []
    while isinstance(node, tuple):
        node, step = reduce_once(node)
        lines.append(explain(*step))
        forms.append(show(node))
    if len(lines) > 1:
        lines = [("First, " if i == 0 else "Then ") + line for i, line in enumerate(lines)]
        lines.append("So " + " = ".join(forms) + ".")
    return lines


# -- arithmetic ------------------------------------------------------------------------------------------
def places(n: int) -> list[int]:
    """Place-value parts of a non-negative integer: 347 -> [300, 40, 7]."""
    digits = str(n)
    return [int(d) * 10 ** (len(digits) - i - 1) for i, d in enumerate(digits) if d != "0"] or [0]


def explain_int(op: str, a: Fraction, b: Fraction) -> str:
    a, b, r = int(a), int(b), int(apply(op, a, b))
    head = f"{num(a)} {op} {paren(b)}"
    if op == "÷":
        return f"{head} = {r}, because {num(b)} × {paren(r)} = {a}."
    if op == "×":
        x, y = abs(a), abs(b)
        if len(places(x)) == 1 and len(places(y)) == 1:  # 4 × 5, 20 × 3: one step
            chain = f"{x * y}"
        elif len(places(y)) > 1:
            parts = places(y)
            chain = " + ".join(f"{x} × {p}" for p in parts) + " = " + " + ".join(str(x * p) for p in parts)
            chain += f" = {x * y}"
        else:
            parts = places(x)
            chain = " + ".join(f"{p} × {y}" for p in parts) + " = " + " + ".join(str(p * y) for p in parts)
            chain += f" = {x * y}" if len(parts) > 1 else ""
        if r < 0 or (a < 0 and b < 0):
            return f"{x} × {y} = {chain}, so {head} = {r}."
        return f"{head} = {chain}." if (x >= 10 or y >= 10) else f"{head} = {r}."
    if a >= 0 and b >= 0 and 10 <= b < 100 and a < 100 and b % 10 and r >= 0:
        tens, ones = b - b % 10, b % 10
        mid = a + tens if op == "+" else a - tens
        return f"{head} = {a} {op} {tens} {op} {ones} = {mid} {op} {ones} = {r}."
    if op == "-" and a >= 0 and b >= 0 and r < 0:
        return f"{head} = -({b} - {a}) = {r}."
    return f"{head} = {r}."


def _digits(rng: np.random.Generator, n: int) -> Fraction:
    return Fraction(randint(rng, 10 ** (n - 1), 10**n - 1))


def _int_tree(rng: np.random.Generator, d: int) -> Node:
    F, r = Fraction, lambda lo, hi: Fraction(randint(rng, lo, hi))
    if d == 1:
        form = randint(rng, 0, 2)
        if form == 0:
            return ("+", r(10, 99), r(10, 99))
        if form == 1:
            a = r(20, 99)
            return ("-", a, r(10, int(a) - 1))
        return ("×", r(10, 99), r(2, 9))
    if d == 2:
        form = randint(rng, 0, 3)
        if form == 0:
            a, b = _digits(rng, 3), _digits(rng, 3)
            return ("+", a, b) if rng.random() < 0.5 else ("-", max(a, b), min(a, b))
        if form == 1:
            return ("×", r(11, 99), r(11, 99))
        if form == 2:
            b = r(2, 9)
            return ("÷", b * r(12, 99), b)
        return ("-", ("+", r(10, 99), r(10, 99)), r(10, 99))
    if d == 3:
        form = randint(rng, 0, 4)
        if form == 0:
            return ("+", r(10, 99), ("×", r(10, 99), r(2, 9)))
        if form == 1:
            return ("×", ("+", r(10, 99), r(10, 99)), r(2, 9))
        if form == 2:
            a, b = _digits(rng, 4), _digits(rng, 4)
            return ("+", a, b) if rng.random() < 0.5 else ("-", max(a, b), min(a, b))
        if form == 3:
            return ("×", _digits(rng, 3), r(11, 99))
        c = r(2, 9)
        return ("-", ("×", r(10, 99), r(2, 9)), ("÷", c * r(2, 20), c))
    if d == 4:
        form = randint(rng, 0, 3)
        if form == 0:
            b, c = r(10, 99), r(3, 9)
            return ("-", r(10, int(b * c) - 1), ("×", b, c))
        if form == 1:
            return ("×", ("-", r(1, 40), r(1, 40)), ("-", r(1, 40), r(1, 40)))
        if form == 2:
            c, q, b = r(2, 9), F(choice(rng, [-1, 1]) * randint(rng, 2, 25)), r(1, 60)
            return ("÷", ("-", b + q * c, b), c) if b + q * c > 0 else ("÷", ("-", b, b - q * c), c)
        return ("×", _digits(rng, 4), r(11, 99))
    form = randint(rng, 0, 2)
    if form == 0:
        b, c, dd, q = r(2, 20), r(2, 9), r(2, 9), F(choice(rng, [-1, 1]) * randint(rng, 2, 30))
        return ("+", ("÷", ("-", q * dd + b * c, ("×", b, c)), dd), r(10, 99))
    if form == 1:
        return ("×", _digits(rng, 3), _digits(rng, 3))
    return ("-", ("×", ("+", r(10, 60), r(10, 60)), r(2, 9)), ("×", r(2, 9), ("-", r(1, 50), r(1, 50))))


def arithmetic(rng: np.random.Generator, difficulty: int) -> Task:
    """Integer arithmetic; see the module docstring for what each difficulty holds."""
    d = check_difficulty(difficulty)
    tree = _int_tree(rng, d)
    return make_task("arithmetic", d, f"What is {show(tree)}?", num(value(tree)), solve(tree, explain_int),
                     canonical(tree), form="number")


# -- fractions -------------------------------------------------------------------------------------------
def _over(n: int, den: int, first: bool) -> str:
    return f"{n}/{den}" if n >= 0 or first else f"({n}/{den})"


def _simplify(n: int, den: int) -> str:
    """`= 3/4` when n/den reduces (or is whole), else empty."""
    g = gcd(n, den)
    return f" = {num(Fraction(n, den))}" if g > 1 or den == 1 else ""


def explain_frac(op: str, a: Fraction, b: Fraction) -> str:
    head = f"{num(a)} {op} {f'({num(b)})' if op == '÷' and b.denominator != 1 else paren(b)}"
    if op in "+-":
        den = lcm(a.denominator, b.denominator)
        na, nb = a.numerator * (den // a.denominator), b.numerator * (den // b.denominator)
        n = na + nb if op == "+" else na - nb
        if a.denominator == b.denominator == den:
            nb_s = str(nb) if nb >= 0 else f"({nb})"
            return f"{head} = ({na} {op} {nb_s})/{den} = {n}/{den}{_simplify(n, den)}."
        rewrite = f"{_over(na, den, True)} {op} {_over(nb, den, False)}"
        return f"{head} = {rewrite} = {n}/{den}{_simplify(n, den)}."
    if op == "÷":
        recip = 1 / b
        return f"{head} = {num(a)} × {paren(recip)} = " + explain_frac("×", a, recip).split(" = ", 1)[1]
    n, den = a.numerator * b.numerator, a.denominator * b.denominator
    if den == 1:
        return f"{head} = {n}."
    sign = "-" if n < 0 else ""
    dens = [str(x) for x in (a.denominator, b.denominator) if x != 1]
    den_s = f"({dens[0]} × {dens[1]})" if len(dens) == 2 else dens[0]
    body = f"{sign}({abs(a.numerator)} × {abs(b.numerator)})/{den_s}"
    return f"{head} = {body} = {n}/{den}{_simplify(n, den)}."


def _frac(rng: np.random.Generator, max_den: int, negative: bool = False) -> Fraction:
    den = randint(rng, 2, max_den)
    n = randint(rng, 1, den - 1)
    while gcd(n, den) != 1:
        n = randint(rng, 1, den - 1)
    return Fraction(-n if negative and rng.random() < 0.4 else n, den)


def _frac_tree(rng: np.random.Generator, d: int) -> Node:
    f = lambda m=10, neg=False: _frac(rng, m, neg)  # noqa: E731
    if d == 1:
        den = randint(rng, 3, 12)
        nums = [n for n in range(1, den) if gcd(n, den) == 1]
        a, b = Fraction(choice(rng, nums), den), Fraction(choice(rng, nums), den)
        return ("+", a, b) if rng.random() < 0.6 or a == b else ("-", max(a, b), min(a, b))
    if d == 2:
        a, b = f(), f()
        while a.denominator == b.denominator:
            b = f()
        return (choice(rng, "+-"), a, b)
    if d == 3:
        op = choice(rng, "×÷")
        left = Fraction(randint(rng, 2, 9)) if rng.random() < 0.25 else f(12)
        return (op, left, f(12))
    if d == 4:
        form = randint(rng, 0, 2)
        if form == 0:
            return (choice(rng, "+-"), f(), ("×", f(), f()))
        a, b = f(8), f(8)
        while a == b:
            b = f(8)
        if form == 1:
            return ("÷", (choice(rng, "+-"), a, b), f())
        return ("×", (choice(rng, "+-"), a, b), Fraction(randint(rng, 2, 12)))
    form = randint(rng, 0, 1)
    if form == 0:
        return ("+", ("×", f(12, True), f(12)), ("÷", f(12, True), f(12)))
    return ("-", ("×", ("+", f(8, True), f(8)), f(8)), f(12, True))


def fractions(rng: np.random.Generator, difficulty: int) -> Task:
    """Rational arithmetic with the answer as a reduced fraction (or a whole number)."""
    d = check_difficulty(difficulty)
    tree = _frac_tree(rng, d)
    question = f"Compute {show(tree)}. Give the answer as a reduced fraction."
    return make_task("fractions", d, question, num(value(tree)), solve(tree, explain_frac), canonical(tree),
                     form="fraction")
