"""What a text environment must provide for reasongym's trainer, stated and checked, in the spirit of
Gymnasium's `env_checker`: Gymnasium's `check_env` says an env is a valid Gymnasium env; this says it can
be trained with GRPO here (G resets to one task, text actions, a reward that never raises).

    from reasongym.envs.checker import check_text_env
    check_text_env(gym.make("acme/Countdown-v0"))     # raises EnvContractError saying what is most likely wrong
    python -m pytest -q tests/envs/test_checker.py     # every registered id

The contract:
  1. `reset(seed=s)` returns chat messages (a list of {"role", "content"} dicts ending with a user turn)
     and `info["task"]`, a reasongym `Task`; the same seed gives the same task (the data position of a
     run is its seeds, so a resumed run sees the same tasks).
  2. `reset(options={"task": task})` pins that task: the same observation again (GRPO's G samples of one
     task are G such resets).
  3. `step(text)` takes any `str` (empty, 100 kB, a lone surrogate) and returns a finite float reward,
     booleans, and an info dict; never an exception (a reward path that raises stops a training run).
  4. An episode ends (terminated or truncated) within `max_turns` steps when it has one.
  5. For the cold start (`sft.steps > 0`): tasks carry a worked solution in `task.meta["solution"]`.
`train` runs it at start-up on the environment it is about to train on.
"""

from __future__ import annotations

import math
from typing import Any

from reasongym.core import Task

JUNK = ("", "\\boxed{" + "{" * 2000, "\ud800 lone surrogate \x00 and a NUL", "x" * 100_000)


class EnvContractError(ValueError):
    """The environment does not provide what the trainer needs; the message says what and where."""


def check_text_env(env: Any, *, cold_start: bool = False, seed: int = 0) -> None:
    """Check the contract above on `env` (a gymnasium env, wrapped or not); raise EnvContractError."""
    name = getattr(getattr(env, "spec", None), "id", None) or type(env.unwrapped).__name__
    obs, task = _reset(env, name, seed=seed)
    again, task_again = _reset(env, name, seed=seed)
    if task_again.id != task.id:
        raise EnvContractError(f"{name}: reset(seed={seed}) gave two different tasks ({task.id}, {task_again.id}); "
                               "draw the task from self.np_random after super().reset(seed=seed) so a seed "
                               "fixes the task (a resumed run must see the tasks it saw before)")
    pinned, task_pinned = _reset(env, name, options={"task": task})
    if task_pinned.id != task.id or pinned != obs:
        raise EnvContractError(f"{name}: reset(options={{'task': task}}) did not return that task again; GRPO "
                               "draws its G samples of one task this way (see envs/base.py TextEnv.reset)")
    for text in JUNK:
        _reset(env, name, options={"task": task})
        _step(env, name, text)
    _ends(env, name, task)
    if cold_start and not task.meta.get("solution"):
        raise EnvContractError(f"{name}: its tasks carry no worked solution in task.meta['solution'], which the "
                               "cold start trains on; set sft.steps=0 (e.g. for an SFT model) or add solutions")


def _reset(env, name: str, **kwargs) -> tuple[Any, Task]:
    try:
        obs, info = env.reset(**kwargs)
    except Exception as exc:
        raise EnvContractError(f"{name}: reset({_args(kwargs)}) raised {type(exc).__name__}: {exc}") from exc
    if not (isinstance(obs, list) and obs and all(isinstance(m, dict) and {"role", "content"} <= m.keys()
                                                    for m in obs)):
        raise EnvContractError(f"{name}: reset({_args(kwargs)}) should return chat messages, a list of "
                               f"{{'role', 'content'}} dicts, not {type(obs).__name__}: {str(obs)[:80]!r}")
    if obs[-1]["role"] != "user":
        raise EnvContractError(f"{name}: the observation should end with a user turn (the policy answers it), "
                               f"not {obs[-1]['role']!r}")
    task = info.get("task") if isinstance(info, dict) else None
    if not isinstance(task, Task):
        raise EnvContractError(f"{name}: reset() should put the episode's Task in info['task'] (the trainer "
                               f"groups samples by task.id and records it for contamination checks)")
    return obs, task


def _step(env, name: str, text: str) -> tuple:
    shown = repr(text[:30]) + ("..." if len(text) > 30 else "")
    try:
        out = env.step(text)
    except Exception as exc:
        raise EnvContractError(f"{name}: step({shown}) raised {type(exc).__name__}: {exc}; a reward path must "
                               "return a reward for every str (reward 0 and a harness_error status), never "
                               "raise: one bad completion would stop a training run") from exc
    if not (isinstance(out, tuple) and len(out) == 5):
        raise EnvContractError(f"{name}: step() should return (obs, reward, terminated, truncated, info)")
    _, reward, terminated, truncated, info = out
    if isinstance(reward, bool) or not isinstance(reward, int | float) or not math.isfinite(reward):
        raise EnvContractError(f"{name}: step({shown}) returned reward {reward!r}; it must be a finite float")
    if not isinstance(terminated, bool) or not isinstance(truncated, bool) or not isinstance(info, dict):
        raise EnvContractError(f"{name}: step() should return booleans terminated, truncated and a dict info")
    return out


def _ends(env, name: str, task: Task) -> None:
    turns = int(getattr(env.unwrapped, "max_turns", 1) or 1)
    _reset(env, name, options={"task": task})
    for _ in range(turns):
        _, _, terminated, truncated, _ = _step(env, name, "I do not know.")
        if terminated or truncated:
            return
    raise EnvContractError(f"{name}: an episode of wrong answers did not end within max_turns={turns} steps; "
                           "end it with terminated (solved, or a single-turn answer) or truncated (out of turns)")


def _args(kwargs: dict) -> str:
    return ", ".join(f"{k}=..." if k == "options" else f"{k}={v!r}" for k, v in kwargs.items())
