"""A scripted oracle policy: answers from the gold answers of known tasks, wrong or silent at set rates.

For tests and for checking an evaluation pipeline end to end without a model: a perfect oracle must score
100%; an oracle with wrong_rate=0.3 should score about 70% pass@1, and two oracles with different rates
give a known difference for the paired tests to find. No torch, no network.

    oracle = ScriptedPolicy(tasks, wrong_rate=0.3, no_answer_rate=0.1, seed=1)
    oracle.act([task.prompt], SamplingParams(temperature=0.6, n=4))   # 4 completions for one task
    python -m reasongym.evaluate policy=oracle:wrong=0.3 env=math-heldout samples=8

A correct reply is the task's worked solution (`meta["solution"]`) when it has one, else
`The answer is \\boxed{<gold>}.`. A wrong reply boxes `<gold>+r` (r = 1, 2 or 3, so wrong answers vary
and majority voting has something to do); a silent reply gives no answer at all (a format failure).
Greedy sampling (temperature 0) is deterministic per task; sampling draws from the oracle's own seeded
generator. Tasks are recognised by their first user message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from reasongym.core import Completion, Messages, SamplingParams, Task

NO_ANSWER = "I am not sure how to solve this."


def _first_user(messages: Messages) -> str:
    return next((m["content"] for m in messages if m["role"] == "user"), "")


class ScriptedPolicy:
    """Answers tasks it was given; raises on an observation that matches none of them."""

    def __init__(self, tasks: Iterable[Task], *, wrong_rate: float = 0.0, no_answer_rate: float = 0.0,
                 seed: int = 0, name: str = "oracle"):
        if not (0 <= wrong_rate <= 1 and 0 <= no_answer_rate <= 1 and wrong_rate + no_answer_rate <= 1):
            raise ValueError(f"need 0 <= wrong_rate, no_answer_rate and their sum <= 1; got {wrong_rate}, "
                             f"{no_answer_rate}")
        self.tasks = {_first_user(t.prompt): t for t in tasks}
        self.wrong_rate, self.no_answer_rate, self.seed, self.name = wrong_rate, no_answer_rate, seed, name
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_spec(cls, spec: str, tasks: Iterable[Task]) -> ScriptedPolicy:
        """`oracle`, `oracle:wrong=0.3,silent=0.1,seed=2` (also `oracle:0.3` for the wrong rate alone)."""
        options = spec.split(":", 1)[1] if ":" in spec else ""
        values = {"wrong": 0.0, "silent": 0.0, "seed": 0.0}
        for part in filter(None, options.split(",")):
            key, _, value = part.partition("=") if "=" in part else ("wrong", "=", part)
            if key not in values:
                raise ValueError(f"policy {spec!r}: unknown oracle option {key!r}; use wrong=, silent=, seed=")
            try:
                values[key] = float(value)
            except ValueError as exc:
                raise ValueError(f"policy {spec!r}: {key}={value!r} is not a number") from exc
        return cls(tasks, wrong_rate=values["wrong"], no_answer_rate=values["silent"],
                   seed=int(values["seed"]), name=spec)

    def act(self, observations: list[Messages], sampling: SamplingParams) -> list[Completion]:
        out = []
        for obs in observations:
            task = self._task_of(_first_user(obs))
            if task is None:
                raise KeyError(f"{self.name}: no known task starts with {_first_user(obs)[:80]!r}; build the "
                               "oracle with the tasks it will be asked")
            for _ in range(sampling.n):
                u = self._greedy_draw(task) if sampling.temperature <= 0 else float(self.rng.random())
                out.append(Completion(self._reply(task, u)))
        return out

    def _task_of(self, text: str) -> Task | None:
        """The task asked: its prompt, or the longest known prompt that starts the message (a tool env
        appends a paragraph about the tool to the task's prompt)."""
        if text in self.tasks:
            return self.tasks[text]
        starts = [p for p in self.tasks if p and text.startswith(p)]
        return self.tasks[max(starts, key=len)] if starts else None

    def _greedy_draw(self, task: Task) -> float:
        digest = hashlib.sha256(f"{self.seed}:{task.id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64

    def _reply(self, task: Task, u: float) -> str:
        if u < self.no_answer_rate:
            return NO_ANSWER
        if u < self.no_answer_rate + self.wrong_rate:
            if isinstance(task.answer, (str, int, float)):
                offset = 1 + int((u * 1000) % 3)
                return f"The answer is \\boxed{{{task.answer}+{offset}}}."
            return NO_ANSWER
        solution = task.meta.get("solution")
        return solution if isinstance(solution, str) and solution else f"The answer is \\boxed{{{task.answer}}}."
