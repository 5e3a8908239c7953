"""Reward-model benchmark: held-out pairwise accuracy on hh-rlhf harmless-base, on the embedded default backbone.

    OMP_NUM_THREADS=1 python benchmarks/reward_model.py       # the recipe below: ~20 min on 2 shared cores
    python benchmarks/reward_model.py trainable=lora lr=2e-4 # any `reasongym.reward train` override

On a CPU shared with other jobs, one torch thread is several times faster than two (measured here: a
SmolLM2 forward pass ran at ~940 tokens/s with 1 thread and ~100 tokens/s with 2 under a load of 5).

Trains `python -m reasongym.reward train` on the train split of
../shared/data/hh_rlhf_harmless_base_test.jsonl.gz (the fixed split by a hash of the first user message:
1871 train / 441 held-out pairs). The run scores the held-out pairs at the end with the report of
`python -m reasongym.reward eval`: pairwise accuracy with a 95% bootstrap interval, an exact sign test
against chance, and the "shorter reply wins" / "longer reply wins" baselines on the same pairs
(harmless-base prefers the shorter reply 55% of the time, so a length-only model is not at chance).

The recipe fits a CPU: SmolLM2-135M-Instruct with a 1-output head, the last `top_layers` decoder layers and
the final norm trainable (the backward pass stops there), the last prompt turn and the reply only
(prompt_turns=1, max_len=256), one epoch, bf16 autocast. Writes benchmarks/results/reward_model.json with
the accuracy, interval, split sizes, wall-clock times and the load average of the machine around the run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

from reasongym.reward import main as reward

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
RECIPE = ["base=smollm2", "trainable=top", "top_layers=4", "prompt_turns=1", "max_len=256", "epochs=1",
          "batch_size=16", "micro_batch_size=16", "lr=2e-4", "warmup_frac=0.05", "schedule=linear",
          "save_every=20", "precision=auto"]


def main(argv: list[str]) -> dict:
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs the shared data folder next to the repo")
    load_before = os.getloadavg()
    t0 = time.time()
    folder = reward(["train", f"data={DATA}", *RECIPE, *argv])
    wall_s = time.time() - t0
    summary = json.loads((folder / "summary.json").read_text())
    report = summary["heldout"]  # the same report as `python -m reasongym.reward eval` on the held-out split
    result = {
        "data": str(DATA.relative_to(ROOT.parent)), "split": summary["split"], "recipe": RECIPE + argv,
        "run": str(folder), "heldout_pairwise_accuracy": report["pairwise_accuracy"], "ci95": report["ci95"],
        "sign_test_p_vs_chance": report["sign_test_p_vs_chance"], "bt_loss": report["bt_loss"],
        "shorter_wins_accuracy": report["shorter_wins_accuracy"], "longer_wins_accuracy": report["longer_wins_accuracy"],
        "vs_best_length_baseline": report["vs_best_length_baseline"],
        "wall_s": wall_s, "train_s": summary["train_seconds_this_session"], "eval_s": summary["eval_seconds"],
        "trainable_params": summary["trainable_params"],
        "precision": summary["precision"], "cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "load_avg_before": load_before, "load_avg_after": os.getloadavg(),
        "note": "wall-clock on a 2-core machine shared with other jobs; see load_avg_*",
    }
    out = ROOT / "benchmarks" / "results" / "reward_model.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    acc, (lo, hi) = result["heldout_pairwise_accuracy"], result["ci95"]
    print(f"\nheld-out pairwise accuracy {100 * acc:.1f}% [95% CI {100 * lo:.1f}, {100 * hi:.1f}] on "
          f"{summary['split']['heldout_pairs']} pairs (chance 50%, shorter-wins {100 * result['shorter_wins_accuracy']:.1f}%); "
          f"{wall_s / 60:.1f} min in all (training {summary['train_seconds_this_session'] / 60:.1f}, held-out "
          f"scoring {summary['eval_seconds'] / 60:.1f}) on {os.cpu_count()} cores -> {out}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
