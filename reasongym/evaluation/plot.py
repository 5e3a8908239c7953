"""leaderboard.png: grouped bars (one group per environment, one bar per policy) with 95% interval whiskers.

    plot_leaderboard(results, Path("evals/x/leaderboard.png"), metrics=("greedy", "pass@1"))

`results` is results.json's `results`: {policy: {env: {"metrics": {name: {mean, lo, hi, n}}}}}. One panel
per metric that any policy has; values in percent.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_leaderboard(results: dict, path: Path, metrics: tuple[str, ...] = ("greedy", "pass@1")) -> Path | None:
    policies = list(results)
    envs = list(dict.fromkeys(e for by_env in results.values() for e in by_env))
    panels = [m for m in metrics if any(m in results[p][e]["metrics"] for p in policies for e in results[p])]
    if not panels or not envs:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(max(4.5, 1.1 * len(envs) * len(policies) + 2) * len(panels), 3.8),
                             squeeze=False)
    width = 0.8 / len(policies)
    x = np.arange(len(envs))
    for ax, metric in zip(axes[0], panels):
        for i, policy in enumerate(policies):
            cells = [results[policy].get(e, {}).get("metrics", {}).get(metric) for e in envs]
            mean = np.array([c["mean"] * 100 if c else np.nan for c in cells])
            lo = np.array([(c["mean"] - c["lo"]) * 100 if c else 0 for c in cells])
            hi = np.array([(c["hi"] - c["mean"]) * 100 if c else 0 for c in cells])
            pos = x - 0.4 + width * (i + 0.5)
            ax.bar(pos, mean, width, yerr=[lo, hi], capsize=3, label=policy)
            for px, m, up in zip(pos, mean, hi):
                if np.isfinite(m):
                    ax.text(px, m + up + 1, f"{m:.0f}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, envs)
        ax.set_ylim(0, 110)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(f"{metric}, 95% bootstrap interval")
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=8, loc="lower center", ncol=min(4, len(policies)), frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.04 * ((len(policies) - 1) // 4), 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
