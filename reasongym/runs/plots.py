"""PNG plots of a run that a user would show (matplotlib, no display needed).

    plot_run(rows, Path("runs/math-001/plots"))     # rows: metrics.jsonl
    plot_curves(rows, ["loss", "heldout_accuracy"], folder)

`plot_run` writes, from whatever the rows already hold (so from the first evaluation on):
- heldout.png: held-out accuracy with its 95% Wilson interval against wall-clock minutes of the run,
  each phase (base, cold start, GRPO) in its own colour: the one plot that says whether training helps;
- training.png: one column per stage (cold start, GRPO), never one shared step axis: the cold start's
  loss, GRPO's reward / accuracy and its loss (when logged), KL and completion length;
- one PNG per other curve (`plot_curves`), one panel per phase.
Rows carry `phase` (base / sft / grpo / heldout / train) and `minutes` (wall-clock minutes of the run).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reasongym.runs.progress import wilson  # noqa: E402

LABELS = {"base": "base", "sft": "cold start", "grpo": "GRPO", "train": "training", "heldout": "held-out"}
STAGE_KEYS = {"sft": ["loss"], "grpo": ["reward", "accuracy", "loss", "kl", "completion_len"],
              "train": ["loss", "accuracy"]}
CURVES = ["zero_var_frac", "clip_frac", "entropy", "grad_norm", "lr", "step_time", "heldout_loss"]


def _num(row: dict, key: str) -> bool:
    return isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool)


def plot_heldout(rows: list[dict], path: Path) -> Path | None:
    points = [r for r in rows if _num(r, "heldout_accuracy")]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for phase in dict.fromkeys(r.get("phase", "") for r in points):
        sub = [r for r in points if r.get("phase", "") == phase]
        x = [r.get("minutes", r.get("step", 0)) for r in sub]
        y = [100 * r["heldout_accuracy"] for r in sub]
        lo_hi = [wilson(r["heldout_accuracy"], int(r.get("eval_tasks") or r.get("heldout_rankings") or 0)) for r in sub]
        err = [[yy - 100 * lo for yy, (lo, _) in zip(y, lo_hi)], [100 * hi - yy for yy, (_, hi) in zip(y, lo_hi)]]
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=LABELS.get(phase, phase or "eval"))
    ax.set_xlabel("wall-clock minutes of the run" if any("minutes" in r for r in points) else "step")
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title("held-out accuracy, 95% Wilson intervals")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stages(rows: list[dict], path: Path) -> Path | None:
    """One column per stage, one row per curve that stage logged."""
    stages = [s for s in STAGE_KEYS if any(r.get("phase") == s for r in rows)]
    grid = {s: [k for k in STAGE_KEYS[s] if any(r.get("phase") == s and _num(r, k) for r in rows)] for s in stages}
    stages = [s for s in stages if grid[s]]
    if not stages:
        return None
    n = max(len(grid[s]) for s in stages)
    fig, axes = plt.subplots(n, len(stages), figsize=(4.5 * len(stages), 2.2 * n), squeeze=False)
    for c, stage in enumerate(stages):
        sub = [r for r in rows if r.get("phase") == stage and _num(r, "step")]
        for k in range(n):
            ax = axes[k][c]
            if k >= len(grid[stage]):
                ax.axis("off")
                continue
            key = grid[stage][k]
            pts = [r for r in sub if _num(r, key)]
            ax.plot([r["step"] for r in pts], [r[key] for r in pts], marker="o" if len(pts) < 40 else None,
                    markersize=3, color=f"C{c}")
            ax.set_title(f"{LABELS.get(stage, stage)}: {key.replace('_', ' ')}", fontsize=9)
            ax.set_xlabel(f"{LABELS.get(stage, stage)} step", fontsize=8)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(rows: list[dict], keys: list[str], folder: Path, x: str = "step") -> list[Path]:
    """One PNG per key, one panel per phase that logged it (phases never share a step axis)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        points = [r for r in rows if _num(r, key) and x in r]
        phases = list(dict.fromkeys(r.get("phase", "") for r in points))
        if not points:
            continue
        fig, axes = plt.subplots(1, len(phases), figsize=(4.5 * len(phases), 3.2), squeeze=False)
        for c, phase in enumerate(phases):
            sub = [r for r in points if r.get("phase", "") == phase]
            ax = axes[0][c]
            ax.plot([r[x] for r in sub], [r[key] for r in sub], marker="o" if len(sub) < 40 else None,
                    markersize=3, color=f"C{c}")
            ax.set_xlabel(f"{LABELS.get(phase, phase)} {x}".strip())
            ax.set_title(f"{LABELS.get(phase, phase)}: {key.replace('_', ' ')}".strip(": "), fontsize=9)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        path = folder / f"{key}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_run(rows: list[dict], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [plot_heldout(rows, folder / "heldout.png"), plot_stages(rows, folder / "training.png")]
    return [p for p in written if p] + plot_curves(rows, CURVES, folder)
