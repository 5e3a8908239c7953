"""From samples.jsonl rows to numbers: per-task scores, their means with intervals, breakdowns, comparisons.

    scores = task_scores(store.by_task("base", "gsm8k"), tasks, samples=16, greedy=True)
    summary(scores)                       # {"greedy": Estimate, "pass@1": ..., "pass@16": ..., "maj@16": ...}
    breakdown(scores, tasks)              # the same per difficulty / category, when tasks carry one
    comparisons({"base": s1, "rl": s2})   # every pair of policies, paired on the same tasks

What each metric is (per task, then averaged over tasks):
  greedy          1 if the temperature-0 completion is correct
  pass@1          share of the k sampled completions that are correct (pass@1 averaged over k samples)
  pass@j          unbiased estimate of "at least one of j samples is correct", from all k samples
  maj@k           whether the most frequent answer of the k samples is correct (ties: expected); answers
                  are the same when the env's verifier gives them the same `vote_key`
  reward          mean episode return of the sampled completions (of the greedy one when samples=0)
  format_failure  share of completions with no extractable answer (only for verifiers that extract one)
  completion_tokens / completion_chars   mean length of what the policy wrote
  truncated       share of completions cut by max_new_tokens
  tool_calls / tool_error / tool_used    tool envs only: calls per episode, share of episodes with a
                  failed call, share that called the tool; results.json's `tools` splits success by
                  whether the episode used the tool
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from reasongym.core import Task
from reasongym.stats import Comparison, Estimate, compare, estimate, maj_at_k, pass_at_k, pass_ks

BREAKDOWN_KEYS = ("difficulty", "level", "category", "subject", "kind")
BREAKDOWN_METRICS = ("greedy", "pass@1")
PAIRED_METRICS = {"greedy": True, "pass@1": False}  # metric -> binary per task (McNemar) or not


@dataclass
class TaskScores:
    """Per-task values of every metric, aligned with `task_ids` (tasks with every sample finished)."""

    task_ids: list[str]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    samples: int = 0
    unfinished: int = 0  # tasks left out because some of their samples are missing


def task_scores(by_task: Mapping[str, Mapping[str, list[dict[str, Any]]]], tasks: Sequence[Task], *,
                samples: int, greedy: bool) -> TaskScores:
    """Score each task from its rows (see SampleStore.by_task). Rows beyond `samples` are ignored."""
    ks = pass_ks(samples)
    # maj@k where the env's verifier votes (math answers, code): some row has a vote; never for a reward model
    votes = any(r.get("vote") is not None for modes in by_task.values() for rows in modes.values() for r in rows)
    per_task: list[dict[str, float]] = []
    ids, unfinished = [], 0
    for task in tasks:
        modes = by_task.get(task.id, {})
        greedy_rows = modes.get("greedy", [])[:1]
        sampled = [r for r in modes.get("sample", []) if r["sample"] < samples]
        if (greedy and not greedy_rows) or len(sampled) < samples:
            unfinished += 1
            continue
        v: dict[str, float] = {}
        if greedy:
            v["greedy"] = float(bool(greedy_rows[0]["correct"]))
        if samples:
            c = sum(bool(r["correct"]) for r in sampled)
            for k in ks:
                v[f"pass@{k}"] = pass_at_k(samples, c, k)
            if votes:
                v[f"maj@{samples}"] = maj_at_k([r["vote"] for r in sampled], [bool(r["correct"]) for r in sampled])
        rows = sampled if samples else greedy_rows
        v["reward"] = float(np.mean([r["reward"] for r in rows]))
        if all(r.get("format_failure") is not None for r in rows):
            v["format_failure"] = float(np.mean([bool(r["format_failure"]) for r in rows]))
        if all(r.get("completion_tokens") is not None for r in rows):
            v["completion_tokens"] = float(np.mean([r["completion_tokens"] for r in rows]))
        v["completion_chars"] = float(np.mean([r["completion_chars"] for r in rows]))
        v["truncated"] = float(np.mean([r["finish_reason"] == "length" for r in rows]))
        v.update(tool_values(rows))
        per_task.append(v)
        ids.append(task.id)
    metrics = [m for m in dict.fromkeys(k for v in per_task for k in v) if all(m in v for v in per_task)]
    values = {m: np.array([v[m] for v in per_task]) for m in metrics}
    return TaskScores(ids, values, samples, unfinished)


def tool_values(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Tool envs (their verdicts count `tool_calls`): calls per episode, share of episodes with a failed
    call, share that used the tool at all. Nothing for other envs."""
    verdicts = [r.get("verdict") or {} for r in rows]
    if not verdicts or not all("tool_calls" in v for v in verdicts):
        return {}
    return {"tool_calls": float(np.mean([v["tool_calls"] for v in verdicts])),
            "tool_error": float(np.mean([bool(v.get("tool_errors")) for v in verdicts])),
            "tool_used": float(np.mean([bool(v.get("tool_used")) for v in verdicts]))}


def tool_success(by_task: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> dict[str, dict] | None:
    """Success of the episodes that used the tool and of those that did not (every mode pooled), so a
    tool env's gain can be read apart from the tasks where the policy answered directly."""
    rows = [r for modes in by_task.values() for rs in modes.values() for r in rs
            if "tool_calls" in (r.get("verdict") or {})]
    if not rows:
        return None
    out = {}
    for name, used in (("with_tool", True), ("without_tool", False)):
        part = [r for r in rows if bool(r["verdict"].get("tool_used")) is used]
        out[name] = {"episodes": len(part),
                     "success": float(np.mean([bool(r["correct"]) for r in part])) if part else None}
    return out


def summary(scores: TaskScores, *, seed: int = 0, subset: np.ndarray | None = None,
            metrics: Sequence[str] | None = None) -> dict[str, Estimate]:
    """Mean and bootstrap interval of each metric (over the tasks in `subset`, a boolean mask, if given)."""
    out = {}
    for m, vals in scores.values.items():
        if metrics is None or m in metrics:
            out[m] = estimate(vals if subset is None else vals[subset], seed=seed)
    return out


def breakdown(scores: TaskScores, tasks: Sequence[Task], *, seed: int = 0) -> dict[str, dict[str, dict]]:
    """Metrics per value of each meta key (difficulty, category, ...) that splits the tasks in two or more."""
    meta = {t.id: t.meta for t in tasks}
    out: dict[str, dict[str, dict]] = {}
    for key in BREAKDOWN_KEYS:
        labels = np.array([str(meta[i].get(key, "?")) for i in scores.task_ids])
        groups = sorted(set(labels.tolist()), key=_natural)
        if len(groups) < 2 or all(meta[i].get(key) is None for i in scores.task_ids):
            continue
        out[key] = {g: {"n": int(np.sum(labels == g)),
                        **{m: e.as_dict() for m, e in summary(scores, seed=seed, subset=labels == g,
                                                              metrics=BREAKDOWN_METRICS).items()}}
                    for g in groups}
    return out


def _natural(label: str) -> tuple:
    return (0, float(label), "") if label.replace(".", "", 1).lstrip("-").isdigit() else (1, 0.0, label)


def comparisons(by_policy: Mapping[str, TaskScores], *, seed: int = 0) -> list[Comparison]:
    """Every pair of policies (earlier in the list = a, later = b) on the tasks both finished."""
    out = []
    for a, b in combinations(by_policy, 2):
        sa, sb = by_policy[a], by_policy[b]
        common = [i for i in sa.task_ids if i in set(sb.task_ids)]
        if not common:
            continue
        ia = {t: k for k, t in enumerate(sa.task_ids)}
        ib = {t: k for k, t in enumerate(sb.task_ids)}
        for metric, binary in PAIRED_METRICS.items():
            if metric in sa.values and metric in sb.values:
                x = sa.values[metric][[ia[t] for t in common]]
                y = sb.values[metric][[ib[t] for t in common]]
                out.append(compare(x, y, names=(a, b), metric=metric, binary=binary, seed=seed))
    return out
