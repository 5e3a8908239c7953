"""What a run leaves on disk: run folders, `metrics.jsonl`, `samples.jsonl`, PNG plots of the curves.

    log = RunLog(Path("runs/math-001"))
    log.metrics({"step": 1, "reward": 0.4})          # one JSON line per step, flushed at once
    log.plot(["reward", "accuracy", "completion_len"])   # runs/math-001/plots/*.png

Only the main process writes (pass `enabled=False` on the others). Resuming truncates `metrics.jsonl` to
the checkpoint's step, so a resumed run continues one clean curve.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def next_run_dir(root: str | Path, prefix: str) -> Path:
    """runs/<prefix>-NNN with the next free number (e.g. runs/math-003)."""
    root = Path(root)
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", prefix).strip("-") or "run"
    taken = [int(m.group(1)) for p in root.glob(f"{prefix}-*") if (m := re.fullmatch(rf"{re.escape(prefix)}-(\d+)", p.name))]
    return root / f"{prefix}-{max(taken, default=0) + 1:03d}"


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
    return rows


class RunLog:
    def __init__(self, folder: Path, enabled: bool = True):
        self.folder, self.enabled = Path(folder), enabled
        if enabled:
            self.folder.mkdir(parents=True, exist_ok=True)

    def metrics(self, row: dict[str, Any]) -> None:
        self.append("metrics.jsonl", [row])

    def samples(self, rows: list[dict[str, Any]]) -> None:
        self.append("samples.jsonl", rows)

    def append(self, name: str, rows: list[dict[str, Any]]) -> None:
        """Append JSON lines to a file of the run (flushed at once, so a kill loses nothing written)."""
        if self.enabled and rows:
            with open(self.folder / name, "a") as f:
                f.write("".join(json.dumps(row, default=str) + "\n" for row in rows))

    def truncate(self, name: str, keep) -> None:
        """Keep only the rows for which keep(row) is true (used on resume)."""
        if not self.enabled or not (self.folder / name).exists():
            return
        rows = [r for r in read_jsonl(self.folder / name) if keep(r)]
        (self.folder / name).write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))

    def plot(self, keys: list[str], x: str = "step") -> list[Path]:
        if not self.enabled:
            return []
        from reasongym.plots import plot_curves

        return plot_curves(read_jsonl(self.folder / "metrics.jsonl"), keys, self.folder / "plots", x=x)
