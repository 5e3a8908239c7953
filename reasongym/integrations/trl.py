"""TRL adapter: train any registered reasongym environment with TRL's `GRPOTrainer` (pip install "reasongym[trl]").

    from trl import GRPOConfig, GRPOTrainer
    from reasongym.integrations.trl import dataset, reward_function
    train = dataset("reasongym/Math-v0", n=1000, difficulty=2)      # prompt messages + the task as JSON
    trainer = GRPOTrainer(model="Qwen/Qwen2.5-0.5B-Instruct", reward_funcs=reward_function("reasongym/Math-v0"),
                          args=GRPOConfig(output_dir="out", num_generations=8), train_dataset=train)
    trainer.train()

`reward_function` follows TRL's reward contract: keyword arguments `prompts`, `completions`,
`completion_ids`, the dataset's columns (here `task`, `env_id`, `env_kwargs`) and `**kwargs`; it returns
one float per completion, or None for a row that carries no reasongym task (TRL then leaves this reward
out for that row). Plain-text and conversational completions both work. Each reward is `env.step` on
the row's task, so the env's verifier, reward weights and integrity rules apply as in reasongym's trainer,
and a crashed grader pays 0.0 rather than stopping the run. Accuracy is logged through TRL's `log_metric`
as `reasongym/correct`.

Multi-turn environments (e.g. reasongym/CodeMultiTurn-v0) go through `environment_factory=
ToolEnv.factory(env_id)`: TRL calls `reset(**row)` with the dataset row (the G generations of a group
share its task), the model submits attempts with the `submit` tool, feedback comes back as the tool
result, and `get_reward()` is the episode return. Tested with TRL 1.16 and transformers 5.24 (TRL asks for
transformers >= 5.2 here), with a chat template TRL can parse tool calls from (`trl.chat_template_utils.
add_response_schema` knows Qwen2.5/3, Llama 3.x, GPT-OSS, ...):

    trainer = GRPOTrainer(model=..., args=GRPOConfig(..., max_tool_calling_iterations=3),
                          train_dataset=dataset("reasongym/CodeMultiTurn-v0", n=500),
                          environment_factory=ToolEnv.factory("reasongym/CodeMultiTurn-v0"))
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reasongym.core import Task
from reasongym.integrations.common import completion_text, rows, scorer, task_from_json, task_to_json


def dataset(env_id: str, n: int | None = None, *, seed: int = 0, **env_kwargs: Any):
    """A `datasets.Dataset` of n tasks of the env: `prompt` (chat messages), `task` (JSON), `task_id`,
    `env_id`, `env_kwargs` (JSON). n=None takes every task of a file env; a procedural env needs n."""
    from datasets import Dataset

    return Dataset.from_list(rows(env_id, n, seed=seed, **env_kwargs))


class RewardFunction:
    """TRL reward function over a reasongym env. `env_id` is the default; a row's `env_id` column wins."""

    def __init__(self, env_id: str | None = None, **env_kwargs: Any):
        self.env_id, self.env_kwargs = env_id, env_kwargs
        self.__name__ = "reasongym" if env_id is None else env_id.split("/")[-1]  # TRL's metric name

    def __call__(self, prompts: list | None = None, completions: list | None = None,
                 completion_ids: list | None = None, *, task: list | None = None, env_id: list | None = None,
                 env_kwargs: list | None = None, **kwargs: Any) -> list[float | None]:
        completions = list(completions or [])
        rewards: list[float | None] = []
        correct: list[float] = []
        for i, completion in enumerate(completions):
            row_task = task[i] if task is not None else None
            row_env = (env_id[i] if env_id is not None else None) or self.env_id
            if row_task is None or row_env is None:
                rewards.append(None)
                continue
            row_kwargs = json.loads(env_kwargs[i]) if env_kwargs is not None and env_kwargs[i] else self.env_kwargs
            reward, verdict = self._score(row_env, row_kwargs, row_task, completion_text(completion))
            rewards.append(reward)
            correct.append(float(verdict))
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and correct:
            log_metric("reasongym/correct", sum(correct) / len(correct))
        return rewards

    @staticmethod
    def _score(env_id: str, env_kwargs: dict, task_json: Any, text: str) -> tuple[float, bool]:
        try:
            task = task_from_json(task_json)
            reward, verdict = scorer(env_id, env_kwargs).verdict(task, text)
            return reward, bool(verdict.correct)
        except Exception:  # noqa: BLE001 - a malformed row or an env that will not build pays 0.0
            return 0.0, False


def reward_function(env_id: str | None = None, **env_kwargs: Any) -> RewardFunction:
    """The reward function to pass as `GRPOTrainer(reward_funcs=...)`."""
    return RewardFunction(env_id, **env_kwargs)


def score(env_id: str, task: Task | str, completion_text: str, **env_kwargs: Any) -> float:
    """The audit's entry: one completion scored exactly as `reward_function` scores it inside TRL."""
    task_json = task if isinstance(task, str) else task_to_json(task)
    out = RewardFunction(env_id, **env_kwargs)(prompts=[None], task=[task_json],
                                               completions=[[{"role": "assistant", "content": completion_text}]])
    return float(out[0] or 0.0)


class ToolEnv:
    """A reasongym env as TRL's `environment_factory` object: `reset(**row)`, the `submit` tool, `get_reward()`."""

    env_id: str = ""
    env_kwargs: dict[str, Any] = {}

    def __init__(self):
        from reasongym.registry import make

        self.env = make(self.env_id, **self.env_kwargs)
        self.total, self.done = 0.0, True

    @classmethod
    def factory(cls, env_id: str, **env_kwargs: Any) -> Callable[[], ToolEnv]:
        """A zero-argument factory for `GRPOTrainer(environment_factory=...)` over this env id."""
        name = "ReasongymEnv_" + "".join(ch if ch.isalnum() else "_" for ch in env_id.split("/")[-1])
        return type(name, (cls,), {"env_id": env_id, "env_kwargs": dict(env_kwargs)})

    def reset(self, **row: Any) -> str | None:
        """Start an episode on the row's task (or a seeded draw when the row has no `task` column)."""
        self.total, self.done = 0.0, False
        if row.get("task") is not None:
            self.env.reset(options={"task": task_from_json(row["task"])})
            return None  # the prompt column already shows the task
        obs, _ = self.env.reset(seed=row.get("seed"))
        return obs[-1]["content"]

    def submit(self, answer: str) -> str:
        """Submit an attempt at the task and get the grader's feedback.

        Args:
            answer: The full answer: the final result in \\boxed{} for math, a ```python code block for code.

        Returns:
            "Correct." when solved, else what was wrong; later attempts may fix it while turns remain.
        """
        if self.done:
            return "The episode is over: no attempts left."
        try:
            obs, reward, terminated, truncated, info = self.env.step(str(answer))
        except Exception as exc:  # noqa: BLE001 - the tool result tells the model; the reward stays as it is
            self.done = True
            return f"The grader failed on this attempt ({type(exc).__name__}); the episode is over."
        self.total += float(reward)
        self.done = terminated or truncated
        if info["verdict"].correct:
            return "Correct."
        return obs[-1]["content"] if not self.done else "Not correct, and no attempts are left."

    def get_reward(self) -> float:
        """The episode return: the score of the last attempt (the env's per-turn rewards summed)."""
        return float(self.total)
