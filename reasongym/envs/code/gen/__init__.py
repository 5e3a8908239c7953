"""Procedural function-writing tasks: a spec, a reference solution, hidden tests from random inputs.

Each family draws its parameters (a divisor, a shift, a bracket set, a cost...) and random inputs; the
reference solution, written here as source text, is run *in this process* (it is our code) to compute the
expected outputs, and is kept as `meta["solution"]` (an oracle for tests and cold-start data). The prompt
states the signature and behaviour and shows two examples; the task's answer holds those two plus
`n_tests` hidden cases, checked in "call" format (see `reasongym.verifiers.code.runs`).

Difficulty 1..5: a task at difficulty d comes from a family of level d or d - 1 (level 1 at d = 1), and
inputs grow with d. The split key is the family and its parameters, so every variant of one spec (same
words, other random tests) lands in the same split and held-out specs are never seen in training.

    from reasongym.envs.code.gen import code_task
    task = code_task(np.random.default_rng(0), difficulty=2)
    print(task.question); print(task.meta["solution"])
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from string import Template
from typing import Any

import numpy as np

from reasongym.core import Task
from reasongym.envs.code.gen.families import FAMILIES, Spec
from reasongym.envs.tasks import DIFFICULTIES, check_difficulty, randint  # noqa: F401 - shared by every family

INSTRUCTION = ("Answer with the complete function (and any imports it needs) in one ```python code block. "
               "Do not read input or print; just define the function.")


@dataclass(frozen=True)
class Family:
    name: str
    level: int
    make: Callable[[np.random.Generator, int], Spec]



def families_for(difficulty: int, names: tuple[str, ...] | None = None) -> list[Family]:
    """The families a task of this difficulty is drawn from (optionally only those named)."""
    d = check_difficulty(difficulty)
    pool = [Family(n, lvl, make) for n, (lvl, make) in FAMILIES.items() if names is None or n in names]
    if names is not None and (unknown := set(names) - set(FAMILIES)):
        raise ValueError(f"unknown code families {sorted(unknown)}; known: {', '.join(FAMILIES)}")
    chosen = [f for f in pool if f.level in ({1} if d == 1 else {d - 1, d})]
    return chosen or sorted(pool, key=lambda f: abs(f.level - d))[:1]


@cache
def compile_reference(source: str, entry: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<reference {entry}>", "exec"), namespace)  # our own reference code
    return namespace[entry]


def render_call(entry: str, args: list) -> str:
    return f"{entry}({', '.join(map(repr, args))})"


def build_task(family: Family, spec: Spec, rng: np.random.Generator, difficulty: int, n_tests: int) -> Task:
    source = Template(spec.source).substitute(spec.params)
    reference = compile_reference(source, spec.entry)
    tests = [{"args": args, "expected": reference(*copy.deepcopy(args))} for args in spec.edge_cases]
    by_output: dict[str, list[dict]] = {}  # random cases grouped by expected output, in order of appearance
    seen = {repr(t["args"]) for t in tests}
    for _ in range(n_tests * 4):
        args = spec.sample(rng, difficulty)
        if repr(args) not in seen:
            seen.add(repr(args))
            expected = reference(*copy.deepcopy(args))
            by_output.setdefault(repr(expected), []).append({"args": args, "expected": expected})
    groups = list(by_output.values())
    while len(tests) < n_tests + 2 and any(groups):  # round robin over outputs: a constant answer fails
        for group in groups:
            if group and len(tests) < n_tests + 2:
                tests.append(group.pop(0))
    if not tests:
        raise ValueError(f"code family {family.name!r} made a spec with no tests (n_tests={n_tests}, no edge "
                         "cases): it would pay any solution. Use n_tests >= 1.")
    shown = tests[len(spec.edge_cases):][:2]  # two random (not edge) cases, with different outputs
    examples = "\n".join(f">>> {render_call(spec.entry, t['args'])}\n{t['expected']!r}" for t in shown)
    text = Template(spec.text).substitute(spec.params)
    prompt = (f"Write a Python function `{spec.signature}`.\n\n{text}\n\nExamples:\n{examples}\n\n"
              f"{INSTRUCTION}")
    answer = {"format": "call", "entry_point": spec.entry, "tests": tests}
    split_key = f"code:{family.name}:{sorted(spec.params.items())}"
    return Task.create(prompt, answer, kind="code", family=family.name, difficulty=difficulty,
                       solution=f"```python\n{source.strip()}\n```", split_key=split_key)


def make_generator(families: tuple[str, ...] | None = None, n_tests: int = 10
                   ) -> Callable[[np.random.Generator, int], Task]:
    """A `ProceduralTaskSet` generator over the given families (None: all)."""
    if int(n_tests) < 1:
        raise ValueError(f"n_tests must be at least 1 (hidden tests per task), got {n_tests!r}")

    def generate(rng: np.random.Generator, difficulty: int) -> Task:
        pool = families_for(difficulty, families)
        family = pool[int(rng.integers(len(pool)))]
        return build_task(family, family.make(rng, difficulty), rng, difficulty, n_tests)

    generate.__name__ = "code:" + ("+".join(families) if families else "all")
    return generate


def code_task(rng: np.random.Generator, difficulty: int = 1, n_tests: int = 10) -> Task:
    """One procedural code task."""
    return make_generator(None, n_tests)(rng, difficulty)
