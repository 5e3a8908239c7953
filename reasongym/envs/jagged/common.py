"""Shared pieces of the jagged-intelligence generators: the task builder and small random helpers.

Every generator is `fn(rng: np.random.Generator, difficulty: int) -> Task` (difficulty 1..5) and builds its
task with `make_task`, which fixes the conventions the environment, the verifier and the cold start use:

- the prompt is the question plus one fixed instruction (`INSTRUCTION`);
- the gold answer is the exact string that goes inside the box (`3`, `9.9`, `2024-03-05`, `s-t-a-r`);
- `meta` holds `kind`, `difficulty`, `split_key` (so train and held-out never share a question),
  `answer_type` (how `JaggedVerifier` compares: int, decimal, list, word, letters, date, weekday),
  `solution` (a worked solution in plain text ending with `The answer is \\boxed{answer}.`, for the
  supervised cold start) and `tool_code` (a short Python cell that prints the answer: what a policy with
  the Python tool would run; `reasongym/JaggedTool-v0` tests use it as the scripted tool user);
  unit conversions add `unit` (the verifier accepts `2500 g` for 2500 when the unit is g).

    from reasongym.envs.jagged import GENERATORS
    task = GENERATORS["count_letter"](np.random.default_rng(0), 2)
    print(task.question, task.answer, task.meta["solution"], task.meta["tool_code"], sep="\\n")
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reasongym.core import Task
from reasongym.envs.tasks import DIFFICULTIES, check_difficulty, randint  # noqa: F401 - shared by every family

INSTRUCTION = "Put the final answer in \\boxed{}."
ANSWER_TYPES = ("int", "decimal", "list", "word", "letters", "date", "weekday")


def make_task(kind: str, difficulty: int, question: str, answer: str, steps: Sequence[str], key: object,
              *, answer_type: str, tool_code: str, **extra: object) -> Task:
    """Build a jagged task: prompt = question + instruction; meta with kind, split key, solution, code."""
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"answer_type must be one of {ANSWER_TYPES}, got {answer_type!r} (kind {kind})")
    solution = "\n".join([*steps, f"The answer is \\boxed{{{answer}}}."])
    return Task.create(f"{question}\n{INSTRUCTION}", answer, kind=kind, difficulty=int(difficulty),
                       split_key=f"{kind}:{key}", answer_type=answer_type, solution=solution,
                       tool_code=tool_code.strip() + "\n", **extra)




def choice(rng: np.random.Generator, items: Sequence):
    return items[int(rng.integers(len(items)))]


def digits(rng: np.random.Generator, n: int) -> int:
    """A random integer with exactly n digits."""
    return int(str(randint(rng, 1, 9)) + "".join(str(randint(rng, 0, 9)) for _ in range(n - 1)))
