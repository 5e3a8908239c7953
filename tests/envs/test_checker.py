"""envs/checker.py: every registered environment provides what the trainer needs, and an env that does
not is told what is most likely wrong.

    python -m pytest -q tests/envs/test_checker.py
"""

from pathlib import Path

import gymnasium
import pytest

from reasongym.core import Task
from reasongym.envs.checker import EnvContractError, check_text_env
from tests.envs.test_env_api import BUILT_IN, KWARGS


@pytest.mark.parametrize("env_id", BUILT_IN)
def test_every_registered_env_meets_the_trainers_contract(env_id):
    kwargs = KWARGS.get(env_id, {})
    if "path" in kwargs and not Path(kwargs["path"]).exists():
        pytest.skip(f"shared data not found: {kwargs['path']}")
    if env_id == "reasongym/ReasoningGym-v0":
        pytest.importorskip("reasoning_gym", reason="reasoning-gym is not installed")
    check_text_env(gymnasium.make(env_id, **kwargs), cold_start=env_id in ("reasongym/Math-v0", "reasongym/Code-v0"))


class Broken(gymnasium.Env):
    """A text env with one fault at a time, to see the checker name it."""

    def __init__(self, fault: str):
        self.fault, self.n = fault, 0
        self.observation_space = gymnasium.spaces.Text(100)
        self.action_space = gymnasium.spaces.Text(100)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.n += 1
        task = (options or {}).get("task")
        if task is None or self.fault == "ignores-pin":
            k = self.n if self.fault == "unseeded" else int(self.np_random.integers(100))
            task = Task.create(f"what is {k}?", str(k))
        self.task = task
        return [{"role": "user", "content": task.question}], {"task": task}

    def step(self, action):
        if self.fault == "raises" and "\ud800" in action:
            action.encode("utf-8")  # what a naive grader does with a lone surrogate
        if self.fault == "nan":
            return [], float("nan"), True, False, {}
        return [], float(action.strip() == self.task.answer), self.fault != "endless", False, {}


@pytest.mark.parametrize("fault, says", [("unseeded", "gave two different tasks"),
                                         ("ignores-pin", "did not return that task again"),
                                         ("raises", "raised UnicodeEncodeError"),
                                         ("nan", "must be a finite float"),
                                         ("endless", "did not end within max_turns")])
def test_a_broken_env_is_told_what_is_wrong(fault, says):
    with pytest.raises(EnvContractError, match=says):
        check_text_env(Broken(fault))
    if fault == "endless":
        return
    check_text_env(Broken("none"))  # the same env without the fault passes


def test_the_cold_start_needs_worked_solutions():
    with pytest.raises(EnvContractError, match="worked solution"):
        check_text_env(Broken("none"), cold_start=True)
