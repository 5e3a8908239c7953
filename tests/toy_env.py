"""A toy environment for fast learning tests: the reward is the share of lowercase letters in the reply.

A random tiny model starts near 26/110 and GRPO can push it towards 1 within a few dozen steps.
Importing this module registers `reasongym-test/Lowercase-v0`; from a CLI use
`env=tests.toy_env:reasongym-test/Lowercase-v0`.
"""

from __future__ import annotations

import string

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.tasks import TaskList
from reasongym.registry import ENVS, register

TASKS = [Task.create(f"Reply {i}.", "lowercase", solution="abcdefgh") for i in range(8)]


class LowercaseVerifier(Verifier):
    def verify(self, task: Task, completion: str) -> Verdict:
        share = sum(c in string.ascii_lowercase for c in completion) / max(1, len(completion))
        return Verdict(reward=share, correct=share >= 0.999, info={"share": share})


class LowercaseEnv(TextEnv):
    def __init__(self, split: str = "train", **kwargs):
        super().__init__(TaskList(TASKS, name=f"lowercase-{split}"), LowercaseVerifier(), **kwargs)


if "reasongym-test/Lowercase-v0" not in ENVS:
    register("reasongym-test/Lowercase-v0", entry_point="tests.toy_env:LowercaseEnv",
             description="toy: share of lowercase letters", source="tests")
