"""Learning benchmark: does GRPO make the embedded default policy better at held-out math?

    python benchmarks/learning.py                          # the default recipe of `reasongym.train env=math`
    python benchmarks/learning.py steps=60 agent.lr=3e-5   # any train override
    python benchmarks/learning.py --report runs/math-001   # the numbers of a finished or stopped run

Runs `python -m reasongym.train` (cold start, then GRPO) with greedy held-out evaluation on a fixed list
of held-out tasks (eval_tasks, at least 200), and reports the accuracy of the base policy, of the
cold-start checkpoint and after GRPO, with Wilson 95% intervals and wall-clock times, and where the
generated tokens went: the share that reached the loss over the run (dynamic sampling), the groups without
signal, the harness errors, the difficulty mix per step (curriculum). Writes benchmarks/results/learning.json
and a plot of held-out accuracy against wall-clock minutes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from reasongym.runs.log import read_jsonl
from reasongym.runs.progress import wilson
from reasongym.train import main as train

DEFAULTS = ["env=math", "eval_tasks=200"]


def main(argv: list[str]) -> None:
    if argv[:1] == ["--report"]:  # a finished or stopped run's folder: its numbers, no training
        report(Path(argv[1]), None, ["--report", argv[1]])
        return
    t0 = time.time()
    folder = train(DEFAULTS + argv)
    report(folder, time.time() - t0, DEFAULTS + argv)


def report(folder: Path, wall: float | None, argv: list[str]) -> None:
    metrics = read_jsonl(folder / "metrics.jsonl")
    evals = [r for r in metrics if "heldout_accuracy" in r]
    path = folder / "summary.json"  # written at the end of a stage; a stopped run's numbers come from metrics
    summary = json.loads(path.read_text()) if path.exists() else {
        f"{ph}_heldout_accuracy": r["heldout_accuracy"] for r in evals for ph in ("base", "sft") if r["phase"] == ph}
    summary["sft_seconds"] = sum(r.get("step_time", 0.0) for r in metrics if r.get("phase") == "sft")
    n = evals[0]["eval_tasks"]
    last_grpo = [r["heldout_accuracy"] for r in evals if r.get("phase") == "grpo"]
    final = summary.get("final_heldout_accuracy", last_grpo[-1] if last_grpo else None)
    stages = {"base": summary.get("base_heldout_accuracy"), "cold start": summary.get("sft_heldout_accuracy"),
              "after GRPO": final}
    print(f"\nheld-out greedy accuracy on {n} fixed tasks ({folder}):")
    rows = {}
    for name, acc in stages.items():
        if acc is None:
            continue
        lo, hi = wilson(acc, n)
        rows[name] = {"accuracy": acc, "ci95": [lo, hi]}
        print(f"  {name:11} {acc:6.1%}  [{lo:.1%}, {hi:.1%}]")
    last_eval = max((i for i, r in enumerate(metrics) if r.get("phase") == "grpo" and "heldout_accuracy" in r),
                    default=len(metrics))  # steps after the last evaluation (a stopped run) do not count
    grpo = [r for r in metrics[:last_eval] if r.get("phase") == "grpo" and "step_time" in r]
    times = {"cold_start_s": summary.get("sft_seconds"), "grpo_s": sum(r["step_time"] for r in grpo),
             "grpo_steps": len(grpo), "total_wall_s": wall,
             "run_minutes_with_evaluations": max((r.get("minutes", 0.0) for r in metrics), default=None),
             "out_of_time": summary.get("out_of_time")}  # GRPO ended early on time_budget_min: where
    if "cold start" in rows and "after GRPO" in rows:
        gain = rows["after GRPO"]["accuracy"] - rows["cold start"]["accuracy"]
        print(f"  GRPO gain over the cold start: {gain * 100:+.1f} points in {times['grpo_s'] / 60:.1f} min "
              f"({len(grpo)} steps)")
    times["rollouts"] = rollout_stats(grpo)
    curve, clock = [], 0.0  # every held-out evaluation, with the GRPO minutes spent before it
    for r in metrics:
        clock += r.get("step_time", 0.0) if r.get("phase") == "grpo" else 0.0
        if "heldout_accuracy" in r:
            lo, hi = wilson(r["heldout_accuracy"], n)
            curve.append({"phase": r["phase"], "step": r["step"], "accuracy": r["heldout_accuracy"],
                          "ci95": [lo, hi], "grpo_minutes": round(clock / 60, 2),
                          "run_minutes": r.get("minutes")})  # wall-clock of the run, evaluations included
            print(f"  {r['phase']:5} step {r['step']:3}  {r['heldout_accuracy']:6.1%}  "
                  f"after {clock / 60:5.1f} min of GRPO")
    out = Path("benchmarks/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning.json").write_text(json.dumps({"run": str(folder), "eval_tasks": n, "stages": rows,
                                                   "times": times, "curve": curve, "argv": argv}, indent=1))
    _plot(metrics, out / "learning.png")


def rollout_stats(grpo: list[dict]) -> dict:
    """Generated tokens and the share that reached the loss over the run; the difficulty mix per step."""
    gen = sum(r.get("gen_tokens", 0) for r in grpo)
    trained = sum(r.get("trained_tokens", 0) for r in grpo)
    mix = [{"step": r["step"], **{k: round(v, 3) for k, v in r.items() if k.startswith(("difficulty_", "kind_mix_"))}}
           for r in grpo]
    kinds = {k[len("kind_mix_"):]: sum(r.get(k, 0) * r.get("groups", 0) for r in grpo)
             for k in sorted({k for r in grpo for k in r if k.startswith("kind_mix_")})}
    out = {"gen_tokens": gen, "trained_tokens": trained, "tokens_to_loss_frac": trained / gen if gen else None,
           "zero_var_frac_mean": sum(r.get("zero_var_frac", 0) for r in grpo) / max(len(grpo), 1),
           "harness_error_frac_mean": sum(r.get("harness_error_frac", 0) for r in grpo) / max(len(grpo), 1),
           "groups": sum(r.get("groups", 0) for r in grpo), "groups_trained": sum(r.get("groups_trained", 0) for r in grpo),
           "groups_screened_out": sum(r.get("groups_screened_out", 0) for r in grpo),  # agent.screen_size
           "groups_replayed": sum(r.get("groups_replayed", 0) for r in grpo),  # agent.replay
           "replayed_with_signal": sum(r.get("groups_replayed", 0) * r.get("replay_signal_frac", 0) for r in grpo),
           "extra_rounds": [r.get("extra_rounds") for r in grpo], "difficulty_mix": mix,
           "groups_by_kind": {k: round(v) for k, v in kinds.items()}}
    if gen:
        print(f"  generated tokens {gen}, reached the loss {trained:.0f} ({trained / gen:.0%}); groups without "
              f"signal {out['zero_var_frac_mean']:.0%} (mean over steps); harness errors "
              f"{out['harness_error_frac_mean']:.1%}")
        print(f"  groups sampled {out['groups']}, trained on {out['groups_trained']}, stopped after their "
              f"screen {out['groups_screened_out']}, drawn again from the signal replay {out['groups_replayed']} "
              f"({out['replayed_with_signal']:.0f} of them with signal)")
        print("  difficulty mean per step: " + " ".join(f"{m.get('difficulty_mean', 0):.2f}" for m in mix))
        if kinds:
            print("  groups sampled by kind: " + ", ".join(f"{k} {v:.0f}" for k, v in kinds.items()))
    return out


def _plot(metrics: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    clock, xs, ys, labels = 0.0, [], [], []
    for r in metrics:
        clock += r.get("step_time", 0.0)
        if "heldout_accuracy" in r:
            xs.append(clock / 60)
            ys.append(r["heldout_accuracy"])
            labels.append(r.get("phase", ""))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(xs, ys, marker="o")
    for x, y, lab in zip(xs, ys, labels):
        ax.annotate(lab, (x, y), textcoords="offset points", xytext=(0, 6), fontsize=7, ha="center")
    ax.set_xlabel("training wall-clock (min, evaluation excluded)")
    ax.set_ylabel("held-out greedy accuracy")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1:])
