"""Jagged-intelligence tasks: easy for a person or three lines of Python, hard for a model that sees tokens.

Count the r's in "strawberry", say whether 9.11 or 9.9 is larger, multiply two 4-digit numbers, add the
digits of a 20-digit number, write a word backwards, add 45 days to a date, convert 2.5 km to cm.
Procedural and seeded (difficulty 1-5, disjoint train / held-out splits by hash, like Math-v0), with
worked solutions for the cold start (`meta["solution"]`) and a Python cell per task (`meta["tool_code"]`),
verified exactly by `JaggedVerifier` (one closed box, no hedge; see verifier.py).

    reasongym/Jagged-v0        answer directly (alias jagged, jagged-heldout)
    reasongym/JaggedTool-v0    the same tasks with a Python interpreter (alias jagged-tool, jagged-tool-heldout;
                               see reasongym.envs.tool): the same task ids, so success with and without
                               the tool compares task by task

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/Jagged-v0", difficulty=2, kinds=["count_letter", "compare_decimals"])
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("... \\boxed{3}")

Kinds (`kinds=`): count_letter, count_substring, reverse_word, spell_word (words.py); compare_decimals,
sort_decimals, multiply, divide, digit_sum (numbers.py); add_days, days_between, weekday, convert_units
(dates.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.jagged.common import INSTRUCTION, check_difficulty
from reasongym.envs.jagged.dates import add_days, convert_units, days_between, weekday
from reasongym.envs.jagged.numbers import compare_decimals, digit_sum, divide, multiply, sort_decimals
from reasongym.envs.jagged.verifier import JaggedVerifier
from reasongym.envs.jagged.words import count_letter, count_substring, reverse_word, spell_word
from reasongym.envs.tasks import ProceduralTaskSet
from reasongym.envs.tasks import check_kinds as tasks_check_kinds
from reasongym.envs.tasks import mixed_generator as tasks_mixed_generator
from reasongym.verifiers.rewards import WeightedReward

GENERATORS: dict[str, Callable[[np.random.Generator, int], Task]] = {
    "count_letter": count_letter, "count_substring": count_substring, "reverse_word": reverse_word,
    "spell_word": spell_word, "compare_decimals": compare_decimals, "sort_decimals": sort_decimals,
    "multiply": multiply, "divide": divide, "digit_sum": digit_sum, "add_days": add_days,
    "days_between": days_between, "weekday": weekday, "convert_units": convert_units,
}
KINDS = tuple(GENERATORS)
__all__ = ["GENERATORS", "INSTRUCTION", "KINDS", "JaggedEnv", "JaggedVerifier", "check_kinds", "mixed_generator"]


def check_kinds(kinds: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validate jagged kind names (None = all); an unknown name gets suggestions."""
    return tasks_check_kinds(GENERATORS, kinds, "jagged")


def mixed_generator(kinds: Sequence[str] | None = None) -> Callable[[np.random.Generator, int], Task]:
    """One generator drawing a jagged kind uniformly, then a task of that kind (deterministic per rng)."""
    return tasks_mixed_generator(GENERATORS, kinds, "jagged")


class JaggedEnv(TextEnv):
    """Jagged tasks, endless and seeded, restricted to one split, verified exactly.

    difficulty: 1..5.  split: "train" or "heldout".  kinds: None for all, or names from GENERATORS.
    max_turns > 1: a wrong answer gets "X is not correct" back and another try.
    """

    def __init__(self, difficulty: int = 1, split: str = "train", kinds: Sequence[str] | None = None, *,
                 max_turns: int = 1, rewards: dict[str, float] | WeightedReward | None = None,
                 turn_penalty: float = 0.0, render_mode: str | None = None, verifier: Verifier | None = None):
        self.difficulty, self.kinds = check_difficulty(difficulty), check_kinds(kinds)
        tasks = ProceduralTaskSet(mixed_generator(self.kinds), split=split, difficulty=self.difficulty,
                                  name=f"jagged[{','.join(self.kinds)}] d{self.difficulty} {split}")
        super().__init__(tasks, verifier or JaggedVerifier(), max_turns=max_turns, rewards=rewards,
                         turn_penalty=turn_penalty, render_mode=render_mode)

    def feedback(self, task: Task, verdict: Verdict) -> str:
        return verdict.feedback or f"That is not correct. {INSTRUCTION}"
