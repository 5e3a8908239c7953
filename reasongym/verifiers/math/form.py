r"""Answers in the requested form: a task says what form its answer takes, and the verifier checks it.

Equivalence alone is hackable: `(x + 8)(x + 7)` *is* `x^2 + 15x + 56` to sympy, `9x = 99` has the
solution 9, `\dbinom{10}{3}` is 120. A policy trained on plain equivalence learns to copy the question
into the box (GRPO did exactly that on Math-v0). So every task declares a form (`task.meta["form"]`, a
string from FORMS) and an answer must be in it before equivalence is even checked; a wrong form is
reward 0 with `Verdict.status = "wrong_form"`. Tasks without a declared form (GSM8K, MATH-500, any file)
get `default_form(gold)`: `literal` when the gold is a number literal (not a long decimal, which stands
for an exact value such as sqrt(17), nor an interval `[a, b)`), else `expression`.

The literal forms are checked here, on the normalised string, without sympy:

    number      each value a number literal: integer, decimal, reduced fraction, mixed number, percent,
                scientific notation, optional units (`120`, `\tfrac38`, `2\frac14`, `18\,\mathrm{m/s}`);
                never an expression (`17 \times 23`, `2^{10}`, `\sqrt{16}`, `5!`, `\log_2 64`, `74/2`)
    literal     the same, but a fraction need not be in lowest terms (`\frac{3}{3}` for 1): the default
                for numeric golds of files, whose graders accept that
    fraction    a reduced fraction or an integer (`9/7`, `-3/4`, `\frac{9}{7}`, `1\frac{2}{7}`)
    equation    solved for the variable: `x = c` or `c` with c a number (`9x = 99` is not solved)
    roots       a set or list of numbers, each bare or `x = c` (`\{6, 7\}`, `x = 6, x = 7`)
    pair        an ordered tuple of numbers, or named values (`(2, -1)`, `y = -1, x = 2`)

The structural forms need the sympy tree and are checked in the worker (`shape.py`): `expanded` and
`simplified` (a sum of monomials with like terms collected), `factored` (a product, not a sum),
`expression` (no integral, derivative, sum, limit, binomial, factorial or function of a constant that
the gold does not have).

    from reasongym.verifiers.math.form import literal_problem, default_form
    default_form("120"), literal_problem(r"\dbinom{10}{3}", "literal")   # ('literal', 'not a number: ...')
"""

from __future__ import annotations

import math
import re

from reasongym.verifiers.math.normalize import (
    parse_number,
    split_unit_flags,
    strip_text_wrappers,
)
from reasongym.verifiers.math.structure import enclosed, read_item, split_items, split_top
from reasongym.verifiers.math.units import strip_units

LITERAL_FORMS = ("number", "literal", "fraction", "equation", "roots", "pair")
STRUCTURAL_FORMS = ("expanded", "simplified", "factored", "expression")
FORMS = LITERAL_FORMS + STRUCTURAL_FORMS
POWER = re.compile(r"(\d+)\^")


def check_form_name(form: str) -> str:
    """Validate a form name (a task's `meta["form"]`): unknown names are an error with the list."""
    if form not in FORMS:
        raise ValueError(f"unknown answer form {form!r}: a task's meta['form'] must be one of {', '.join(FORMS)}")
    return form


def literal_problem_of(value: str, reduced: bool = True) -> str | None:
    """Why `value` (one normalised item) is not a number literal, or None when it is one."""
    bare = strip_units(strip_text_wrappers(value))
    number = parse_number(bare)
    if number is None:
        return f"not a number: {value[:60]!r} must be worked out to a number"
    body = split_unit_flags(bare)[0].replace(" ", "")
    for m in POWER.finditer(body):
        if m.group(1) != "10":
            return f"not a number: {value[:60]!r} is a power left unevaluated"
    # the fraction as the parser read it, so that no wrapping the parser looks through (`(6/9)`,
    # `\left(6/9\right)`, `x = (6/9)`) hides it from this check
    if reduced and number.fraction is not None:
        a, b = number.fraction
        if b == 1 or math.gcd(a, b) != 1:
            return f"not reduced: {value[:60]!r} is a fraction that is not in lowest terms"
    return None


def components(value: str) -> list[str]:
    """The entries of a tuple, interval (`(a, b)`, `[a, b)`) or matrix, or [value] for anything else."""
    matrix = re.fullmatch(r"\\begin\{[pbv]?matrix\}(.*)\\end\{[pbv]?matrix\}", value)
    if matrix:
        return [c.strip() for row in re.split(r"\\\\", matrix.group(1)) for c in row.split("&") if c.strip()]
    if enclosed(value, r"\{", r"\}"):
        return [p for p in split_top(value[2:-2], re.compile(",")) if p]
    for left in "([":
        for right in ")]":
            if enclosed(value, left, right):
                parts = split_top(value[1:-1], re.compile(","))
                if len(parts) > 1:
                    return parts
    return [value]


def items_of(answer: str) -> list:
    """The items of an answer, each read as value / assignment / equation (`structure.read_item`)."""
    items, _ = split_items(answer)
    return [read_item(x) for x in items]


def literal_problem(answer: str, form: str) -> str | None:
    """Why a normalised answer is not in the literal `form`, or None when it is."""
    items = items_of(answer)
    if not items:
        return "empty answer"
    for item in items:
        if item.equation is not None and not item.assignment:
            return f"not solved: {item.value[:60]!r} is an equation, the variable must stand alone"
        values = components(item.value) if form in ("pair", "number", "literal") else [item.value]
        if form == "pair" and len(items) == 1 and len(values) < 2:
            return f"not a pair: {item.value[:60]!r}"
        for v in values:
            problem = literal_problem_of(v, reduced=form != "literal")
            if problem:
                return problem
            if form == "fraction" and "." in v:
                return f"not a fraction: {v[:60]!r} is a decimal"
    return None


def default_form(gold: str) -> str:
    """The form a gold answer implies: `literal` when every value is a number literal, else `expression`."""
    try:
        items = items_of(gold)
        values = [v for item in items for v in components(item.value)]
        plain = items and all(item.equation is None or item.assignment for item in items)
        literal = plain and all(literal_problem_of(v, reduced=False) is None for v in values)
    except (ValueError, IndexError, RecursionError):
        return "expression"
    if literal and any(len(re.sub(r"\D", "", v).lstrip("0")) >= 8 and "." in v for v in values):
        return "expression"  # a long decimal gold approximates an exact value (`4.1231056256` for sqrt(17))
    if any(item.value.startswith(("[", "\\begin")) or item.value.endswith("]") for item in items):
        return "expression"  # an interval (`-2 \le x \le 7` is a fine answer) or a matrix
    return "literal" if literal else "expression"


def form_problem(answer: str, form: str) -> str | None:
    """The caller-side form check: literal forms here; structural forms are left to the worker (None)."""
    if form in LITERAL_FORMS:
        return literal_problem(answer, form)
    return None
