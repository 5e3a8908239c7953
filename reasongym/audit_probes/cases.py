"""Labelled cases (`cases=FILE`): false positives and negatives of an env's reward on known answers.

A JSONL file, one case a line: `gold` (the reference answer), `pred` (the completion), and the label
`expected` (or `equal`): true when the completion must be paid. `group` (else `category`) groups the
counts. This is the format of ../shared/cases/math_adversarial.jsonl and math_equivalence.jsonl.

Each case becomes a task whose answer is the gold (prompt: "Put the final answer in \\boxed{}.") and goes
through the same reward path as the probes (`env.reset(options={"task": ...})` + `env.step(pred)`), timed
against the same bound. "Paid" (reward > 0 or correct) is the positive class: a false positive is a
wrong answer that was paid, a false negative a right answer that was not. The counts are also split by
whether the pred holds a box: a verifier that requires one (every built-in env's prompt asks for it)
rejects the bare answers that a bare-answer convention labels equal, by design.
"""

from __future__ import annotations

import json
from pathlib import Path

from reasongym.audit_probes.result import CaseCounts, CasesReport, snippet
from reasongym.core import Task

PROMPT = "Labelled case {id}: answer the question. Put the final answer in \\boxed{{}}."


class CasesError(ValueError):
    """A cases file that cannot be read: the message names the file, line and key."""


def load_cases(path: str | Path) -> list[dict]:
    """The rows of a cases file, checked: each has gold, pred and a boolean label."""
    path = Path(path)
    if not path.is_file():
        raise CasesError(f"cases file {path} not found (expected JSONL rows with gold, pred, expected)")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CasesError(f"{path}:{n}: not JSON ({exc.msg}); one case per line") from exc
        label = row.get("expected", row.get("equal"))
        missing = [k for k in ("gold", "pred") if not isinstance(row.get(k), str)]
        if missing or not isinstance(label, bool):
            what = f"string {', '.join(missing)}" if missing else "a boolean 'expected' (or 'equal') label"
            raise CasesError(f"{path}:{n}: the case needs {what}; got keys {sorted(row)}")
        rows.append({**row, "label": label, "line": n})
    if not rows:
        raise CasesError(f"cases file {path} has no cases")
    return rows


def run_cases(path: str | Path, scorer, bound_s: float, kind: str) -> CasesReport:
    """Score every case with `scorer` (a runner.Scorer) and count agreement per group."""
    if kind == "code":
        raise CasesError(f"cases={path}: labelled gold/pred cases need an answer env (math-like); this env "
                         "grades programs against tests")
    report = CasesReport(str(path))
    for row in load_cases(path):
        task = Task.create(PROMPT.format(id=row.get("id", row["line"])), row["gold"], source=f"{path}:{row['line']}")
        out = scorer.score(task, row["pred"])
        group = str(row.get("group") or row.get("category") or "all")
        boxed = "boxed preds" if "\\boxed" in row["pred"] or "\\fbox" in row["pred"] else "unboxed preds"
        for counts in (report.groups.setdefault(group, CaseCounts()), report.total,
                       report.by_box.setdefault(boxed, CaseCounts())):
            _count(counts, row["label"], out, bound_s)
        paid = "error" not in out and (out["reward"] > 0 or out["correct"])
        if "error" in out or paid != row["label"] or out["seconds"] > bound_s:
            report.wrong.append({"line": row["line"], "group": group, "label": row["label"], "paid": paid,
                                 "gold": snippet(row["gold"], 120), "pred": snippet(row["pred"], 160),
                                 "note": row.get("note", ""), "seconds": round(out["seconds"], 3),
                                 "reason": out.get("reason", ""), "error": out.get("error")})
    return report


def _count(counts: CaseCounts, label: bool, out: dict, bound_s: float) -> None:
    counts.max_s = max(counts.max_s, out["seconds"])
    counts.slow += int(out["seconds"] > bound_s)
    if "error" in out:
        counts.errors += 1
        return
    paid = out["reward"] > 0 or out["correct"]
    if paid:
        counts.tp += int(label)
        counts.fp += int(not label)
    else:
        counts.fn += int(label)
        counts.tn += int(not label)
