"""What every trainer adapter shares: tasks as JSON rows, and one scoring path through the env's own verifier.

Other trainers (TRL, verl, OpenRLHF, verifiers) see strings and dataset columns, not `Task` objects. A task
travels as JSON (`task_to_json`), and `task_from_json` re-derives its content-hash id, so a row that was
edited in transit is refused instead of graded against the wrong answer.

Scoring (`EnvScorer.score`) resets the registered environment on the given task and steps it with the
completion text, so the reward is exactly what `env.step` pays in reasongym's own trainer: the env's
verifier, its reward weights, its final-form and sandbox rules. Like every reward path it never raises:
a malformed row or a crashed grader scores 0.0 and is counted under `status` ("harness_error").

    from reasongym.integrations.common import score, rows
    task_json = rows("reasongym/Math-v0", 4)[0]["task"]
    score("reasongym/Math-v0", task_json, "... \\boxed{42}")      # the audit calls each adapter this way
"""

from __future__ import annotations

import json
import threading
from typing import Any

from reasongym.core import Task, Verdict, content_hash

_SCORERS: dict[str, EnvScorer] = {}
_SCORERS_LOCK = threading.Lock()


def task_to_json(task: Task) -> str:
    """A task as one JSON string (id, prompt, answer, meta); meta values that are not JSON become strings."""
    return json.dumps({"id": task.id, "prompt": task.prompt, "answer": task.answer, "meta": task.meta},
                      ensure_ascii=False, default=str)


def task_from_json(text: str | dict) -> Task:
    """The task back from `task_to_json`; raises ValueError if it is malformed or its id does not match."""
    row = json.loads(text) if isinstance(text, str) else dict(text)
    missing = {"id", "prompt", "answer"} - set(row)
    if missing:
        raise ValueError(f"task row lacks {sorted(missing)}; build rows with reasongym.integrations.common.rows")
    task = Task(id=row["id"], prompt=[dict(m) for m in row["prompt"]], answer=row["answer"],
                meta=dict(row.get("meta") or {}))
    if content_hash(task.prompt, task.answer) != task.id:
        raise ValueError(f"task {task.id}: the prompt or answer was changed after export (id mismatch); "
                         "re-export the data set")
    return task


def env_key(env_id: str, env_kwargs: dict[str, Any] | None) -> str:
    return json.dumps([env_id, env_kwargs or {}], sort_keys=True, default=str)


class EnvScorer:
    """One environment instance used only to score (task, text) pairs; a lock makes it thread-safe."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None):
        from reasongym.registry import make

        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        self.env = make(env_id, **self.env_kwargs)
        self.lock = threading.Lock()

    def verdict(self, task: Task, text: str) -> tuple[float, Verdict]:
        """(reward of one env step on this task, the verdict); a crash is (0.0, harness_error verdict)."""
        try:
            with self.lock:
                self.env.reset(options={"task": task})
                _, reward, _, _, info = self.env.step(text if isinstance(text, str) else str(text))
            return float(reward), info.get("verdict") or Verdict(float(reward), False)
        except Exception as exc:  # noqa: BLE001 - a reward path never raises; the failure is counted
            return 0.0, Verdict(0.0, False, {"error": f"{type(exc).__name__}: {exc}"}, status="harness_error")

    def score(self, task: Task | str | dict, text: str) -> float:
        try:
            task = task if isinstance(task, Task) else task_from_json(task)
        except Exception:  # noqa: BLE001 - a malformed row pays nothing rather than crashing the trainer
            return 0.0
        return self.verdict(task, text)[0]


def scorer(env_id: str, env_kwargs: dict[str, Any] | None = None) -> EnvScorer:
    """A cached EnvScorer per (env id, kwargs): building an env (a file env reads its file) happens once."""
    key = env_key(env_id, env_kwargs)
    with _SCORERS_LOCK:
        if key not in _SCORERS:
            _SCORERS[key] = EnvScorer(env_id, env_kwargs)
        return _SCORERS[key]


def score(env_id: str, task: Task | str | dict, completion_text: str, **env_kwargs: Any) -> float:
    """The env's reward for one completion of one task (the plain path the audit and tests call)."""
    return scorer(env_id, env_kwargs).score(task, completion_text)


def tasks_of(env_id: str, n: int | None = None, *, seed: int = 0, **env_kwargs: Any) -> list[Task]:
    """n fixed tasks of an env (distinct for procedural envs; the first n of a file env, all when n=None)."""
    from reasongym.registry import make

    tasks = make(env_id, **env_kwargs).unwrapped.tasks
    if n is None and not hasattr(tasks, "__len__"):
        raise ValueError(f"{env_id} is procedural (endless): pass n=, the number of tasks to export")
    return list(tasks.take(n, seed=seed)) if n is not None else list(tasks)


def rows(env_id: str, n: int | None = None, *, seed: int = 0, **env_kwargs: Any) -> list[dict[str, Any]]:
    """Plain rows every adapter builds on: prompt messages, the task as JSON, the env id and its kwargs."""
    kwargs = json.dumps(env_kwargs, sort_keys=True, default=str)
    return [{"prompt": t.prompt, "task": task_to_json(t), "task_id": t.id, "env_id": env_id, "env_kwargs": kwargs}
            for t in tasks_of(env_id, n, seed=seed, **env_kwargs)]


def completion_text(completion: Any) -> str:
    """The completion text from a plain string or chat messages (assistant turns joined)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, list):
        parts = [m.get("content") for m in completion if isinstance(m, dict) and m.get("role", "assistant") ==
                 "assistant"]
        return "\n".join(p if isinstance(p, str) else "" for p in parts)
    return "" if completion is None else str(completion)
