"""What a run leaves on disk: run folders, JSONL logs (metrics, samples, train tasks), PNG plots.

    log = RunLog(Path("runs/math-001"))
    log.metrics({"phase": "grpo", "step": 1, "reward": 0.4})   # one JSON line, flushed at once
    counts = log.counts()          # {"metrics.jsonl": 12, ...}: stored in every checkpoint's state
    log.truncate_to(counts)        # on resume: every run file cut back to the checkpoint
    log.plot()                     # runs/math-001/plots/*.png

Only the main process writes (pass `enabled=False` on the others). A kill can leave a half-written last
line; `read_jsonl` skips such an unterminated tail (any other bad line is an error naming file:line), and
`truncate_to` keeps only whole lines. The metrics rows are also kept in memory (`log.history`), so the
end-of-run summary needs no re-read. Tests: tests/test_runs_log.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any


def next_run_dir(root: str | Path, prefix: str) -> Path:
    """runs/<prefix>-NNN with the next free number (e.g. runs/math-003)."""
    root = Path(root)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", prefix).strip("-") or "run"
    taken = [int(m.group(1)) for p in root.glob(f"{prefix}-*") if (m := re.fullmatch(rf"{re.escape(prefix)}-(\d+)", p.name))]
    return root / f"{prefix}-{max(taken, default=0) + 1:03d}"


def _lines(path: Path) -> list[str]:
    """The whole (newline-terminated) lines of a file; an unterminated last line is a torn write."""
    if not path.exists():
        return []
    text = path.read_text()
    lines = text.split("\n")
    return lines[:-1]  # the last element is "" for a clean file, or the torn tail


def read_jsonl(path: str | Path) -> list[dict]:
    """Rows of a JSONL file; skips an unterminated last line (a kill mid-write), raises on other bad lines."""
    path = Path(path)
    rows = []
    for n, line in enumerate(_lines(path), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg}); delete or fix that line") from exc
    return rows


class RunLog:
    def __init__(self, folder: Path, enabled: bool = True):
        self.folder, self.enabled = Path(folder), enabled
        self.history: list[dict] = []
        if enabled:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.history = read_jsonl(self.folder / "metrics.jsonl")

    def metrics(self, row: dict[str, Any]) -> None:
        self.history.append(row)
        self.append("metrics.jsonl", [row])

    def samples(self, rows: list[dict[str, Any]]) -> None:
        self.append("samples.jsonl", rows)

    def append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Append JSON lines to a file of the run (flushed at once, so a kill loses nothing written)."""
        if self.enabled and rows:
            with open(self.folder / name, "a") as f:
                f.write("".join(json.dumps(row, default=str) + "\n" for row in rows))

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("*.jsonl")) if self.enabled else []

    def counts(self) -> dict[str, int]:
        """Whole lines in every JSONL file of the run: what a checkpoint records."""
        return {p.name: len(_lines(p)) for p in self.files()}

    def truncate_to(self, counts: dict[str, int]) -> None:
        """Cut every JSONL file of the run back to `counts` lines (0 for files the checkpoint did not
        have), dropping a torn last line; rewritten atomically."""
        if not self.enabled:
            return
        for path in self.files():
            lines = _lines(path)
            keep = counts.get(path.name, 0)
            if len(lines) == keep and path.read_text().endswith("\n") or not path.stat().st_size:
                continue
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text("".join(line + "\n" for line in lines[:keep]))
            os.replace(tmp, path)
        self.history = read_jsonl(self.folder / "metrics.jsonl")

    def plot(self) -> list[Path]:
        if not self.enabled:
            return []
        from reasongym.runs.plots import plot_run

        return plot_run(self.history, self.folder / "plots")
