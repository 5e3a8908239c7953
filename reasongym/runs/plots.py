"""PNG plots of training curves (matplotlib, no display needed).

    plot_curves(rows, ["reward", "heldout_accuracy"], Path("runs/math-001/plots"))

Each key gets its own PNG; rows missing a key are skipped, so sparse metrics (held-out accuracy every N
steps) plot as points joined by lines. Rows may carry a `phase` (sft / grpo): phases get their own colour.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(rows: list[dict], keys: list[str], folder: Path, x: str = "step") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        points = [r for r in rows if isinstance(r.get(key), (int, float)) and x in r]
        if not points:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for phase in dict.fromkeys(r.get("phase", "") for r in points):
            sub = [r for r in points if r.get("phase", "") == phase]
            ax.plot([r[x] for r in sub], [r[key] for r in sub], marker="o" if len(sub) < 40 else None,
                    markersize=3, label=phase or None)
        ax.set_xlabel(x)
        ax.set_ylabel(key)
        ax.set_title(key.replace("_", " "))
        ax.grid(alpha=0.3)
        if any(r.get("phase") for r in points):
            ax.legend()
        fig.tight_layout()
        path = folder / f"{key}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
