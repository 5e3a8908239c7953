"""Held-out integrity: were any evaluation tasks in the policy's training data?

A training run records every task it trained on in `runs/<run>/train_tasks.jsonl` (rows
{phase, id, question}). For a policy that is a run folder or lives inside one (`runs/a`, `runs/a/final`,
`runs/a/final/adapter`, `runs/a/checkpoints/step-grpo-00010`), those tasks are compared with each
evaluation suite by `reasongym.envs.tasks.overlap`: shared task ids, and near-duplicate questions (rare
word 3-gram overlap, same numbers). Extra training sets can be named for any policy (`train_tasks=`):
a train_tasks.jsonl, a run folder, or a data file with a `question` field per row.

    record = training_record("runs/math-001/final")           # Path of its train_tasks.jsonl, or None
    report = check(load_training_tasks(record), suite.tasks)  # an OverlapReport
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from reasongym.core import Task, content_hash, user
from reasongym.envs.tasks import OverlapReport, overlap

RECORD = "train_tasks.jsonl"


def training_record(policy_path: str | Path) -> Path | None:
    """The train_tasks.jsonl of the run a policy folder belongs to (itself or up to three parents)."""
    path = Path(policy_path)
    if not path.exists():
        return None
    for folder in [path, *list(path.resolve().parents)[:3]]:
        if (folder / RECORD).is_file():
            return folder / RECORD
    return None


def resolve_training_source(source: str | Path) -> Path:
    """A run folder means its train_tasks.jsonl; a file is itself."""
    path = Path(source)
    if path.is_dir():
        if not (path / RECORD).is_file():
            raise FileNotFoundError(f"train_tasks={source}: the folder has no {RECORD}; name the file itself "
                                    "or a run folder written by reasongym.train")
        return path / RECORD
    if not path.is_file():
        raise FileNotFoundError(f"train_tasks={source}: no such file or folder")
    return path


def load_training_tasks(path: str | Path) -> list[Task]:
    """Tasks of a training record: rows need a `question` (and optionally an `id` to match exactly)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    tasks: dict[str, Task] = {}
    with opener(path, "rt") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
            question = row.get("question")
            if not isinstance(question, str):
                raise ValueError(f"{path}:{n}: no string field 'question'; a training record needs the "
                                 "question text of each task (rows {phase, id, question})")
            task_id = str(row.get("id") or content_hash(question))
            tasks.setdefault(task_id, Task(task_id, user(question), None, {"phase": row.get("phase")}))
    return list(tasks.values())


def check(train: list[Task], evaluation: list[Task], *, threshold: float = 0.7) -> OverlapReport:
    """Shared ids and near duplicates between training tasks (a) and evaluation tasks (b)."""
    return overlap(train, evaluation, near_threshold=threshold)


def flagged_ids(report: OverlapReport) -> set[str]:
    """Evaluation task ids the report found in the training data."""
    return set(report.shared_ids) | {d.b_id for d in report.near_duplicates}


def summarize(report: OverlapReport, source: str) -> dict[str, Any]:
    """The results.json entry of one (policy, suite) check."""
    flagged = flagged_ids(report)
    return {
        "checked": True, "source": source, "clean": report.clean, "train_tasks": report.n_a,
        "eval_tasks": report.n_b, "contaminated_tasks": len(flagged),
        "shared_ids": len(report.shared_ids), "near_duplicates": len(report.near_duplicates),
        "threshold": report.threshold, "flagged_task_ids": sorted(flagged),
        "examples": [{"eval_id": d.b_id, "train_id": d.a_id, "similarity": d.similarity,
                      "eval_question": d.b_question[:200], "train_question": d.a_question[:200]}
                     for d in report.near_duplicates[:5]],
    }
