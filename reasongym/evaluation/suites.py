"""Evaluation suites: an environment name plus the fixed list of tasks it is scored on.

Any registered id or alias works (`python -m reasongym.envs` lists them). The benchmark environments
that read a file get the bundled copy by default, so `env=gsm8k` needs no `env.path=`:

    math-heldout   reasongym/Math-v0, split=heldout: the first `limit` distinct held-out tasks (200 when
                   limit=0) drawn with seed 12345, the same list the trainer's held-out evaluation uses
    gsm8k          reasongym/GSM8K-v0  <data>/gsm8k_test.jsonl   (1319 problems)
    math500        reasongym/MATH500-v0 <data>/math500_test.jsonl (500 problems, levels 1-5)
    humaneval      reasongym/HumanEval-v0 <data>/HumanEval.jsonl.gz (164 problems)
    mbpp           reasongym/MBPP-v0   <data>/mbpp.jsonl, split=heldout (MBPP's test split, tasks 11-510)
                   unless env.split= says otherwise

<data> is $REASONGYM_DATA when set, else the copy shipped in the package (reasongym/datasets), else
`shared/data` beside the checkout (`reasongym.data.data_file`). A file-based suite takes its first `limit` tasks in file order
(all when limit=0), so `limit=200` is a fixed, reproducible subset.

    suite = load_suite("gsm8k", {}, limit=200)
    suite.tasks, suite.fingerprint()          # the tasks and a hash of their ids, for results.json
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasongym.core import Task, content_hash
from reasongym.data import HELDOUT_SEED, data_dirs, data_file  # noqa: F401 - data_dirs re-exported (tests/test_audit_builtin.py)
from reasongym.registry import make, resolve

DATA_FILES = {
    "reasongym/GSM8K-v0": "gsm8k_test.jsonl",
    "reasongym/MATH500-v0": "math500_test.jsonl",
    "reasongym/HumanEval-v0": "HumanEval.jsonl.gz",
    "reasongym/MBPP-v0": "mbpp.jsonl",
}
EVAL_DEFAULTS = {"reasongym/MBPP-v0": {"split": "heldout"}}  # the benchmark is MBPP's test split (tasks 11-510)
ENDLESS_DEFAULT = 200  # tasks taken from a procedural (endless) task set when limit=0


def default_path(env_id: str) -> str | None:
    """The bundled data file of a benchmark environment, or None for environments that need none."""
    name = DATA_FILES.get(env_id)
    if name is None:
        return None
    try:
        return str(data_file(name))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{env_id} needs its data file: {exc} (or pass env.path=<file>)") from None


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class Suite:
    """One environment of an evaluation and the tasks it is scored on."""

    name: str
    env_id: str
    kwargs: dict[str, Any]
    tasks: list[Task]
    source: str = ""  # the task set's name (file, split, difficulty)
    files: dict[str, str] = field(default_factory=dict)  # data file -> sha256

    def fingerprint(self) -> str:
        """A hash of the ordered task ids: two results with the same fingerprint scored the same tasks."""
        return content_hash([t.id for t in self.tasks], length=32)

    def describe(self) -> dict[str, Any]:
        return {"env_id": self.env_id, "kwargs": self.kwargs, "source": self.source,
                "n_tasks": len(self.tasks), "tasks_sha": self.fingerprint(), "files": self.files,
                "task_ids": [t.id for t in self.tasks]}


def suite_kwargs(name: str, overrides: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(gymnasium id, constructor kwargs): alias defaults, then the bundled data file, then overrides."""
    env_id, kwargs = resolve(name)
    kwargs = {**EVAL_DEFAULTS.get(env_id, {}), **kwargs}
    if "path" not in overrides and "hf" not in overrides and "path" not in kwargs:
        path = default_path(env_id)
        if path is not None:
            kwargs["path"] = path
    return env_id, {**kwargs, **overrides}


def load_suite(name: str, overrides: dict[str, Any] | None = None, *, limit: int = 0,
               task_seed: int = HELDOUT_SEED) -> Suite:
    """Build the environment once and fix its task list (see the module docstring for the rules)."""
    env_id, kwargs = suite_kwargs(name, dict(overrides or {}))
    try:
        env = make(env_id, **kwargs)
    except TypeError as exc:
        raise TypeError(f"env {name!r} ({env_id}) rejected its arguments {kwargs}: {exc}. "
                        "With several envs, give per-env arguments as env.<name>.<key>=value") from exc
    source = getattr(env.unwrapped, "tasks", None)
    if source is None or not hasattr(source, "take"):
        raise ValueError(f"env {name!r} ({env_id}) exposes no task set (env.unwrapped.tasks with take()); "
                         "build it on reasongym.envs.base.TextEnv to evaluate it")
    finite = hasattr(source, "__len__")
    n = (limit or None) if finite else (limit or ENDLESS_DEFAULT)
    tasks = list(source.take(n, seed=task_seed))
    env.close()
    if not tasks:
        raise ValueError(f"env {name!r} ({env_id}) gave no tasks (limit={limit})")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"env {name!r}: task {dup} appears twice in the evaluation list; a benchmark must "
                         "not count a task twice (deduplicate the data file)")
    files = {str(kwargs["path"]): sha256_file(kwargs["path"])} if isinstance(kwargs.get("path"), str) and \
        Path(kwargs["path"]).is_file() else {}
    return Suite(name, env_id, kwargs, tasks, getattr(source, "name", ""), files)
