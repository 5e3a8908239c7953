"""`samples.jsonl`: one JSON line per (policy, env, task, sample), appended as they finish, read back to resume.

A row holds everything needed to re-score without re-generating: the prompt, the completion (and the
whole transcript for multi-turn episodes), the reward, the verdict's info and status, the extracted answer
and the vote used by maj@k (the env's verifier's `vote_key`), lengths and the finish reason. Its key is
(policy, env, task_id, mode, sample) with mode "greedy" (sample 0) or "sample" (0..k-1).

    store = SampleStore(Path("evals/x/samples.jsonl"))
    store.done(key)            # True when a finished run already wrote it: a resumed run skips it
    store.append(rows)         # one write per batch; a kill mid-write leaves at most one torn last line
"""

from __future__ import annotations

import json
import math
import warnings
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from reasongym.core import Rollout, Verdict, Verifier

Key = tuple[str, str, str, str, int]


def answer_of(verdict: Verdict | None) -> str | None:
    """The extracted final answer: the typed field, else info's `extracted` (verifiers written before it)."""
    if verdict is None:
        return None
    answer = verdict.answer if verdict.answer is not None else verdict.info.get("extracted")
    return None if answer is None or not str(answer).strip() else str(answer)


def vote_of(verdict: Verdict | None, verifier: Verifier | None) -> str | None:
    """What majority voting counts: the env's verifier's `vote_key` (the math verifier votes `0.5`, `1/2`
    and `\\frac{1}{2}` together; other verifiers say what is the same answer), or the answer as written when
    no verifier is given. None: no answer, no vote."""
    answer = answer_of(verdict)
    if answer is None:
        return None
    if verifier is None:
        return answer.strip()
    if verdict.answer is None:  # an older verifier that reports the answer in info only
        verdict = replace(verdict, answer=answer)
    return verifier.vote_key(verdict) or None


def format_failure(verdict: Verdict | None) -> bool | None:
    """Whether the verifier found no answer to judge (status no_answer; for older verifiers: an empty
    info `extracted`, or status `no_code`). None for verifiers that say neither."""
    if verdict is None:
        return None
    if verdict.status == "no_answer":
        return True
    if verdict.answer is not None:
        return False
    info = verdict.info
    if "extracted" in info:
        return info["extracted"] is None or str(info["extracted"]).strip() == ""
    if "status" in info:
        return info["status"] == "no_code"
    return None


def jsonable(value: Any) -> Any:
    """Verdict info made JSON-safe (sympy objects, sets and tuples become strings and lists)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def sample_row(policy: str, env: str, mode: str, sample: int, rollout: Rollout,
               verifier: Verifier | None = None) -> dict[str, Any]:
    """The samples.jsonl row of one finished episode; `verifier` (the env's) decides what votes in maj@k."""
    last = rollout.turns[-1]
    info = jsonable(last.verdict.info) if last.verdict is not None else {}
    tokens = [len(t.completion.token_ids) if t.completion.token_ids is not None
              else t.completion.meta.get("completion_tokens") for t in rollout.turns]
    row = {
        "policy": policy, "env": env, "task_id": rollout.task.id, "mode": mode, "sample": sample,
        "prompt": rollout.turns[0].observation,
        "completion": last.completion.text,
        "reward": rollout.reward, "correct": rollout.correct,
        "extracted": answer_of(last.verdict),
        "status": last.verdict.status if last.verdict is not None else None,
        "vote": vote_of(last.verdict, verifier),
        "format_failure": format_failure(last.verdict),
        "completion_tokens": None if any(t is None for t in tokens) else int(sum(tokens)),
        "completion_chars": sum(len(t.completion.text) for t in rollout.turns),
        "finish_reason": last.completion.finish_reason,
        "turns": len(rollout.turns), "terminated": rollout.terminated, "truncated": rollout.truncated,
        "verdict": info,
    }
    if len(rollout.turns) > 1:
        row["transcript"] = [{"observation": t.observation[-1]["content"], "completion": t.completion.text,
                              "reward": t.reward} for t in rollout.turns]
    return row


def row_key(row: dict[str, Any]) -> Key:
    return (row["policy"], row["env"], row["task_id"], row["mode"], int(row["sample"]))


class SampleStore:
    """The append-only samples.jsonl of an evaluation folder, indexed by key."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: dict[Key, dict[str, Any]] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        lines = self.path.read_text().splitlines()
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                if n == len(lines):  # torn by a kill mid-write: drop it, its batch is redone
                    warnings.warn(f"{self.path}:{n}: incomplete last line dropped (interrupted write)",
                                  stacklevel=2)
                    self.path.write_text("".join(x + "\n" for x in lines[: n - 1]))
                    break
                raise ValueError(f"{self.path}:{n}: not valid JSON ({exc.msg}); fix or delete that line") from exc
            self.rows[row_key(row)] = row

    def done(self, key: Key) -> bool:
        return key in self.rows

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            f.flush()
        for r in rows:
            self.rows[row_key(r)] = r

    def by_task(self, policy: str, env: str) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """{task_id: {"greedy": [row], "sample": [rows sorted by sample index]}} for one policy and env."""
        out: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
        for (p, e, task_id, mode, _), row in self.rows.items():
            if p == policy and e == env:
                out[task_id][mode].append(row)
        for modes in out.values():
            for rows in modes.values():
                rows.sort(key=lambda r: r["sample"])
        return out
