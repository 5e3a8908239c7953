"""One PNG with the reward-hacking guard's evidence: the reward against every independent signal.

    plot_guard(rows, Path("runs/x/plots/guard.png"), {"stop_step": 27, "best_step": 12})

Each panel is one signal over the GRPO steps; a red line marks where the guard stopped the run, a green
one the step whose weights were kept as best/, and shaded steps are the ones it flagged (a collapsed
signal, with or without a rising reward).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PANELS = [("reward", "reward (the learned reward)"), ("judge_score", "held-out judge score"),
          ("verified_accuracy", "verified accuracy"), ("rep3", "repetition (repeated 3-grams)"),
          ("distinct2", "diversity (distinct-2)"), ("completion_len", "reply length (tokens)"),
          ("kl_ref", "KL to reference (per token)")]


def plot_guard(rows: list[dict], path: Path, info: dict, title: str = "reward-hacking guard") -> Path | None:
    panels = [(k, label) for k, label in PANELS if any(isinstance(r.get(k), (int, float)) for r in rows)]
    if not panels:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = 2
    nrows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(10, 2.6 * nrows), squeeze=False)
    flagged = [v["step"] for v in info.get("flagged", []) if v.get("reasons")]
    for ax, (key, label) in zip(axes.flat, panels):
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=2.5, lw=1.2)
        for s in flagged:
            ax.axvspan(s - 0.5, s + 0.5, color="orange", alpha=0.15, lw=0)
        if info.get("best_step") is not None:
            ax.axvline(info["best_step"], color="green", ls="--", lw=1.2, label=f"best/ kept: step {info['best_step']}")
        if info.get("stop_step") is not None:
            ax.axvline(info["stop_step"], color="red", lw=1.5, label=f"guard stop: step {info['stop_step']}")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if axes.flat[0].get_legend_handles_labels()[0]:
        axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.supxlabel("GRPO step", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
