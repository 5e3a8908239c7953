"""Number tasks that trip token-level pattern matching: decimals, long multiplication and division, digit sums.

"Is 9.11 bigger than 9.9?" (no: pad to 9.11 and 9.90), a 4-digit by 4-digit product, a long division, the
digit sum of a 20-digit number. Each worked solution does the school method step by step (pad the
decimals, one partial product per digit, one long-division step per digit, a running digit sum), and
`tool_code` does it in one line of Python.

    compare_decimals(np.random.default_rng(0), 1)   # 'Which number is larger: 9.11 or 9.9?'  answer '9.9'
    multiply(np.random.default_rng(0), 5)           # a 5-digit by 4-digit product

difficulty 1..5 grows the digit counts (and adds negative numbers to decimal comparison at 5).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from reasongym.core import Task
from reasongym.envs.jagged.common import check_difficulty, digits, make_task, randint


def decimal_pair(rng: np.random.Generator, difficulty: int) -> tuple[str, str]:
    """Two different decimals with the same whole part and different lengths: the 9.11 vs 9.9 trap."""
    whole = randint(rng, 0, 9 if difficulty <= 2 else 99)
    short_places, long_places = (1, 2) if difficulty <= 2 else (1, 3) if difficulty <= 4 else (2, 4)
    while True:
        a = f"{whole}.{randint(rng, 1, 10 ** short_places - 1):0{short_places}d}"
        b = f"{whole}.{randint(rng, 10 ** (long_places - 1), 10 ** long_places - 1):0{long_places}d}"
        if Decimal(a) != Decimal(b) and not a.endswith("0") and not b.endswith("0"):
            break
    if difficulty == 5 and rng.random() < 0.5:
        a, b = "-" + a, "-" + b
    return (a, b) if rng.random() < 0.5 else (b, a)


def padded(numbers: list[str]) -> list[str]:
    places = max(len(n.split(".")[1]) if "." in n else 0 for n in numbers)
    return [f"{Decimal(n):.{places}f}" for n in numbers]


def compare_decimals(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    a, b = decimal_pair(rng, d)
    big = a if Decimal(a) > Decimal(b) else b
    pa, pb = padded([a, b])
    steps = [f"Give both the same number of decimal places: {pa} and {pb}.",
             f"Compare them digit by digit: the larger is {padded([big, a, b])[0]}, that is {big}."]
    return make_task("compare_decimals", d, f"Which number is larger: {a} or {b}?", big, steps,
                     "|".join(sorted([a, b])), answer_type="decimal",
                     tool_code=f'from decimal import Decimal\nprint(max(["{a}", "{b}"], key=Decimal))')


def sort_decimals(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    count = (3, 3, 4, 5, 6)[d - 1]
    numbers: list[str] = []
    while len(numbers) < count:
        for n in decimal_pair(rng, d):
            if n not in numbers and all(Decimal(n) != Decimal(m) for m in numbers):
                numbers.append(n)
    numbers = numbers[:count]
    ordered = sorted(numbers, key=Decimal)
    answer = ", ".join(ordered)
    steps = [f"Give all the same number of decimal places: {', '.join(padded(numbers))}.",
             f"From smallest to largest: {', '.join(padded(ordered))}.", f"As written: {answer}."]
    listed = ", ".join(numbers)
    return make_task("sort_decimals", d, f"Sort these numbers from smallest to largest: {listed}.", answer,
                     steps, "|".join(sorted(numbers)), answer_type="list",
                     tool_code=f'from decimal import Decimal\n'
                               f'print(", ".join(sorted("{listed}".split(", "), key=Decimal)))')


def multiply(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    na, nb = ((2, 2), (3, 2), (3, 3), (4, 3), (5, 4))[d - 1]
    a, b = digits(rng, na), digits(rng, nb)
    parts = [(int(c) * 10 ** k, a * int(c) * 10 ** k) for k, c in enumerate(reversed(str(b))) if c != "0"]
    steps = [f"Split {b} by place value: {' + '.join(str(p) for p, _ in reversed(parts))}.",
             *[f"{a} × {p} = {v}" for p, v in reversed(parts)],
             f"Add the partial products: {' + '.join(str(v) for _, v in reversed(parts))} = {a * b}."]
    return make_task("multiply", d, f"What is {a} × {b}?", str(a * b), steps, f"{min(a, b)}x{max(a, b)}",
                     answer_type="int", tool_code=f"print({a} * {b})")


def divide(rng: np.random.Generator, difficulty: int) -> Task:
    """An exact long division: dividend = quotient × divisor, so the answer is a whole number."""
    d = check_difficulty(difficulty)
    nq, nd = ((2, 1), (3, 1), (3, 2), (4, 2), (5, 3))[d - 1]
    q, div = digits(rng, nq), digits(rng, nd)
    if div == 1:
        div = randint(rng, 2, 9)
    n = q * div
    steps, rest = [f"Long division of {n} by {div}, one digit of {n} at a time:"], 0
    for ch in str(n):
        cur = rest * 10 + int(ch)
        if cur >= div or steps[-1] != steps[0]:
            steps.append(f"{cur} ÷ {div} = {cur // div} remainder {cur % div}")
        rest = cur % div
    steps.append(f"The quotient digits read {q}, remainder 0.")
    return make_task("divide", d, f"What is {n} ÷ {div}?", str(q), steps, f"{n}/{div}", answer_type="int",
                     tool_code=f"print({n} // {div})")


def digit_sum(rng: np.random.Generator, difficulty: int) -> Task:
    d = check_difficulty(difficulty)
    n = digits(rng, (3, 6, 10, 15, 20)[d - 1])
    running, total = [], 0
    for ch in str(n):
        total += int(ch)
        running.append(str(total))
    steps = [f"The digits of {n} are {', '.join(str(n))}.", f"Running total: {', '.join(running)}.",
             f"The digit sum is {total}."]
    return make_task("digit_sum", d, f"What is the sum of the digits of {n}?", str(total), steps, n,
                     answer_type="int", tool_code=f"print(sum(int(c) for c in str({n})))")

