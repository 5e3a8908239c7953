"""Shared pieces of the procedural math generators: the task builder and the number/polynomial printers.

Every generator is `fn(rng: np.random.Generator, difficulty: int) -> Task` (difficulty 1..5) and builds
its task with `make_task`, which fixes the conventions the rest of reasongym relies on:

- the prompt is the question plus one fixed instruction (`INSTRUCTION`), kept short for small models;
- the gold answer is the exact string that goes inside the box (`282`, `3/4`, `x = 5`, `(2, -1)`,
  `{2, 3}`, `x^2 + 5x + 6`);
- `meta` holds `kind`, `difficulty`, `split_key` (a canonical key, so trivially equivalent variants such
  as 3 + 4 and 4 + 3 land in the same train/held-out split), `solution`: a short worked solution in
  plain text that ends with `The answer is \\boxed{answer}.` (SFT / cold-start data for GRPO), and
  `form`: what form the answer must take, as the question says it in words (`number` for "What is",
  `fraction` for "as a reduced fraction", `equation` for "Solve ... for x", `pair` for "(x, y)",
  `expanded`, `simplified`, `roots` for "as a set"). The verifier checks the form before the value, so
  restating the question (`\\boxed{(x + 8)(x + 7)}` for "Expand (x + 8)(x + 7)") earns nothing.

The generators themselves live in math_gen_arith.py (arithmetic, fractions), math_gen_words.py (word
problems) and math_gen_algebra.py (equations, systems, expansion, simplification, roots);
`reasongym.envs.math.GENERATORS` maps kind names to them.

    from reasongym.envs.math import GENERATORS
    task = GENERATORS["arithmetic"](np.random.default_rng(0), 1)
    print(task.question, task.answer, task.meta["solution"], sep="\\n")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

from reasongym.core import Task
from reasongym.envs.tasks import DIFFICULTIES, check_difficulty, randint  # noqa: F401 - shared by every family
from reasongym.verifiers.math.form import check_form_name

INSTRUCTION = "Put the final answer in \\boxed{}."


def make_task(kind: str, difficulty: int, question: str, answer: str, steps: Sequence[str],
              key: object, *, form: str) -> Task:
    """Build a procedural task: prompt = question + instruction, meta with kind, split key, solution and
    the answer's form (a `reasongym.verifiers.math.form.FORMS` name the verifier checks before the value)."""
    solution = "\n".join([*steps, f"The answer is \\boxed{{{answer}}}."])
    return Task.create(f"{question}\n{INSTRUCTION}", answer, kind=kind, difficulty=int(difficulty),
                       split_key=f"{kind}:{key}", solution=solution, form=check_form_name(form))


QUESTION_NUMBER = re.compile(r"\d+(?:/\d+)?")


def echoes(task: Task) -> bool:
    """The answer is (up to sign) a number written in the question: boxing that number would pay."""
    answer = re.sub(r"^[a-z]\s*=\s*", "", str(task.answer))
    try:
        value = abs(Fraction(answer))
    except (ValueError, ZeroDivisionError):
        return False
    return any(Fraction(n) == value for n in QUESTION_NUMBER.findall(task.question.split("\n")[0]))


def no_echo(generator: Callable[[np.random.Generator, int], Task], tries: int = 100):
    """The generator, redrawing (deterministically, from the same rng) tasks whose answer is a number of the
    question: a policy that boxes the question's numbers must earn nothing, not 1 time in 10."""
    def generate(rng: np.random.Generator, difficulty: int) -> Task:
        for _ in range(tries):
            task = generator(rng, difficulty)
            if not echoes(task):
                break
        return task

    generate.__name__, generate.__doc__ = generator.__name__, generator.__doc__
    return generate



# -- random helpers ---------------------------------------------------------------------------------

def nonzero(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer in [low, high] other than 0."""
    while True:
        n = randint(rng, low, high)
        if n != 0:
            return n


def choice(rng: np.random.Generator, items: Sequence):
    return items[int(rng.integers(len(items)))]


# -- printers -----------------------------------------------------------------------------------------
def num(q: Fraction | int) -> str:
    """An integer or a reduced fraction as plain text: `5`, `-3/4`."""
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def paren(q: Fraction | int) -> str:
    """A number ready to follow an operator: negatives in parentheses, `(-4)`."""
    return f"({num(q)})" if q < 0 else num(q)


def terms(pairs: Sequence[tuple[Fraction | int, str]]) -> str:
    """A sum of coefficient * monomial terms, `[(1, "x^2"), (-5, "x"), (6, "")]` -> `x^2 - 5x + 6`.

    Zero terms are dropped, coefficients 1 and -1 are implied, an empty sum is `0`.
    """
    out = ""
    for coef, mono in pairs:
        coef = Fraction(coef)
        if coef == 0:
            continue
        mag = abs(coef)
        body = (num(mag) if mag != 1 or not mono else "") + mono
        if not out:
            out = ("-" if coef < 0 else "") + body
        else:
            out += (" - " if coef < 0 else " + ") + body
    return out or "0"


def mono(var: str, degree: int) -> str:
    return "" if degree == 0 else var if degree == 1 else f"{var}^{degree}"


def poly(coeffs: Sequence[Fraction | int], var: str = "x") -> str:
    """A polynomial from coefficients by ascending degree, printed highest degree first."""
    return terms([(c, mono(var, d)) for d, c in reversed(list(enumerate(coeffs)))])


def poly_mul(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Product of two polynomials given as coefficient lists by ascending degree."""
    out = [0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def factor(coeffs: Sequence[int], var: str = "x") -> str:
    """A factor in parentheses: `[-2, 1]` -> `(x - 2)`; a bare `x` stays `x`."""
    return var if list(coeffs) == [0, 1] else f"({poly(coeffs, var)})"
