"""verifiers (PrimeIntellect) adapter: a reasongym env as a verifiers v1 taskset (pip install "reasongym[verifiers]").

Named `prime_verifiers` so it never shadows the `verifiers` package. verifiers >= 0.4 (the `verifiers.v1`
API that prime-rl trains with) finds a taskset by a flat module name that exports exactly one `Taskset`
subclass in `__all__`. A dotted path does not resolve there, so importing this module also registers it
as the module `reasongym_verifiers` (TASKSET_ID); `load_environment` passes that id.

    from reasongym.integrations.prime_verifiers import load_environment
    env = load_environment("reasongym/Math-v0", num_tasks=500, difficulty=2)   # a verifiers.v1 Env
    # or from the verifiers CLI / a prime-rl config:
    #   --env.taskset.id reasongym_verifiers --env.taskset.env reasongym/GSM8K-v0   (after importing this module)

Each task carries the reasongym task as JSON; its one `@vf.reward` scores the agent's final reply
(`trace.last_reply`) with `env.step` on that task, so the env's verifier and reward integrity apply, and
a malformed row or a crashed grader scores 0.0. Single-turn: the env's feedback turns are not used
(verifiers v1 runs multi-turn agents through harnesses and tool servers, not an `env_response` hook).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import verifiers.v1 as vf
from pydantic import Field

from reasongym.core import Task
from reasongym.integrations.common import rows, scorer, task_to_json

TASKSET_ID = "reasongym_verifiers"  # the flat module name verifiers imports this taskset by
sys.modules.setdefault(TASKSET_ID, sys.modules[__name__])

__all__ = ["ReasongymTaskset", "load_environment", "score", "TASKSET_ID"]


class ReasongymData(vf.TaskData):
    """One reasongym task: the chat prompt (TaskData.prompt), the task as JSON, the env that grades it."""

    task_json: str
    env_id: str
    env_kwargs: str = "{}"


class ReasongymTask(vf.Task[ReasongymData]):
    """Scored by the reasongym env's own verifier (one env step on this task)."""

    @vf.reward(weight=1.0)
    async def reasongym(self, trace: vf.Trace) -> float:
        return reply_score(self.data, trace.last_reply)


def reply_score(data: ReasongymData, reply: str) -> float:
    try:
        kwargs = json.loads(data.env_kwargs or "{}")
        return scorer(data.env_id, kwargs).score(data.task_json, reply or "")
    except Exception:  # noqa: BLE001 - a reward path never raises
        return 0.0


class ReasongymConfig(vf.TasksetConfig):
    """`--env.taskset.*`: which reasongym env, how many tasks, its constructor kwargs."""

    env: str = "reasongym/Math-v0"
    """A registered reasongym id (`python -m reasongym.envs` lists them)."""
    num_tasks: int | None = 200
    """Tasks to load (None: every task of a file env; a procedural env needs a number)."""
    seed: int = 0
    """Seed of the fixed task list of a procedural env."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of the env, e.g. {"difficulty": 2} or {"split": "heldout"}."""


class ReasongymTaskset(vf.Taskset[ReasongymTask, ReasongymConfig]):
    def load(self) -> Iterator[ReasongymTask]:
        cfg = self.config
        for row in rows(cfg.env, cfg.num_tasks, seed=cfg.seed, **cfg.env_kwargs):
            data = ReasongymData(prompt=row["prompt"], id=row["task_id"], task_json=row["task"],
                                 env_id=row["env_id"], env_kwargs=row["env_kwargs"])
            yield ReasongymTask(data, cfg.task)


def taskset_config(env_id: str, *, num_tasks: int | None = 200, seed: int = 0, **env_kwargs: Any) -> ReasongymConfig:
    return ReasongymConfig(id=TASKSET_ID, env=env_id, num_tasks=num_tasks, seed=seed, env_kwargs=env_kwargs)


def load_environment(env_id: str = "reasongym/Math-v0", *, num_tasks: int | None = 200, seed: int = 0,
                     **env_kwargs: Any) -> vf.Env:
    """A verifiers v1 environment over the reasongym env (the default single-agent env and harness)."""
    from verifiers.v1.utils.loaders import load_environment as vf_load

    config = vf.SingleAgentEnvConfig(taskset=taskset_config(env_id, num_tasks=num_tasks, seed=seed, **env_kwargs))
    return vf_load(config)


def score(env_id: str, task: Task | str, completion_text: str, **env_kwargs: Any) -> float:
    """The audit's entry: a completion scored by this adapter's `@vf.reward`, as verifiers calls it."""
    import asyncio

    from verifiers.v1.trace import Trace

    task_json = task if isinstance(task, str) else task_to_json(task)
    data = ReasongymData(prompt=json.loads(task_json)["prompt"], task_json=task_json, env_id=env_id,
                         env_kwargs=json.dumps(env_kwargs, sort_keys=True, default=str))
    trace = Trace.model_construct(rewards={}, metrics={}, root_reply=completion_text, nodes=[], errors=[])
    asyncio.run(ReasongymTask(data).score(trace))
    return float(trace.rewards["reasongym"].value) if trace.rewards.get("reasongym") else 0.0
