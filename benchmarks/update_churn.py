"""Churn benchmark: does a training run's weight update change held-out greedy answers more, or more
usefully, than a random update of the same size?

    python benchmarks/update_churn.py runs/cs32/final runs/quick-shared26/final
    python benchmarks/update_churn.py BEFORE AFTER --limit 200 --seeds 2 --json benchmarks/results/update_churn_X.json

BEFORE and AFTER are two model folders of the same architecture (a cold start and the GRPO run that
started from it). For each seed it writes a third model, BEFORE plus random noise whose Frobenius norm
equals that of AFTER - BEFORE tensor by tensor, then scores all of them greedily on the trainer's
held-out tasks (`python -m reasongym.evaluate ... env=math-heldout samples=0`) and reads, against BEFORE,
the tasks that went right -> wrong and wrong -> right (evaluate's paired McNemar comparison, with its p),
and counts the completions that changed at all. If AFTER's counts look like the random update's, the run
moved the held-out answers about as a blind step of its size would; gains show up as wrong -> right
exceeding right -> wrong by more than the random update's spread. Writes the report to --json
(benchmarks/results/update_churn.json unless given); the graded completions stay in --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from reasongym.evaluate import main as evaluate
from reasongym.runs.log import read_jsonl

RESULTS = Path(__file__).parent / "results" / "update_churn.json"


def random_updates(before: str, after: str, folders: list[Path]) -> dict:
    """Save one BEFORE + noise model per folder (seed = its index; per tensor, the noise has the norm of
    AFTER - BEFORE); return the update's size. Both models are read once, the deltas' norms taken once."""
    model = AutoModelForCausalLM.from_pretrained(before, dtype=torch.float32)
    moved = dict(AutoModelForCausalLM.from_pretrained(after, dtype=torch.float32).named_parameters())
    with torch.no_grad():
        start = {name: p.detach().clone() for name, p in model.named_parameters()}
        norms = {name: (moved[name] - p).norm() for name, p in start.items()}
    del moved
    sq_delta = sum(float(n) ** 2 for n in norms.values())
    sq_weights = sum(float(p.norm()) ** 2 for p in start.values())
    for seed, out in enumerate(folders):
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in model.named_parameters():
                noise = torch.randn(p.shape, generator=gen)
                p.copy_(start[name] + noise * (norms[name] / noise.norm().clamp_min(1e-12)))
        model.save_pretrained(out)
        for f in Path(before).iterdir():  # tokenizer and chat template
            if f.name.startswith(("tokenizer", "chat_template", "special_tokens")):
                shutil.copy(f, out / f.name)
    return {"update_norm": sq_delta ** 0.5, "relative": (sq_delta / sq_weights) ** 0.5}


def churn(out: Path, reference: str) -> dict[str, dict]:
    """Against `reference`, per policy: evaluate's paired greedy comparison (its discordant tasks are the
    right -> wrong and wrong -> right flips, with McNemar's p) and how many completions changed at all."""
    doc = json.loads((out / "results.json").read_text())
    completions: dict[str, dict] = {}
    for r in read_jsonl(out / "samples.jsonl"):
        completions.setdefault(r["policy"], {})[r["task_id"]] = r["completion"]
    ref = completions[reference]
    counts: dict[str, dict] = {}
    for c in doc["comparisons"]:
        if c["metric"] == "greedy" and c["a"] == reference:
            counts[c["b"]] = {"right_to_wrong": c["a_only"], "wrong_to_right": c["b_only"],
                              "accuracy": c["b_mean"], "mcnemar_p": c["p"],
                              "completions_changed": sum(ref[t] != done for t, done in completions[c["b"]].items())}
            counts["reference_accuracy"] = c["a_mean"]
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--out", default="evals/update-churn", help="evaluation folder (samples.jsonl stays there)")
    ap.add_argument("--json", type=Path, default=RESULTS, help="where the report goes (default: %(default)s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folders = [Path(tmp) / f"random-{seed}" for seed in range(args.seeds)]
        size = random_updates(args.before, args.after, folders)
        randoms = [str(f) for f in folders]
        out = Path(args.out)
        shutil.rmtree(out, ignore_errors=True)  # the random models are new each run: nothing to resume
        policies = [args.before, args.after, *randoms]
        evaluate([f"policy=[{','.join(policies)}]", "env=math-heldout", f"limit={args.limit}", "samples=0",
                  "precision=fp32", f"out={out}"])
        counts = churn(out, args.before)
    report = {"before": args.before, "after": args.after, "tasks": args.limit,
              "update": size, "after_vs_before": counts[args.after],
              "random_vs_before": [counts[r] for r in randoms], "before_accuracy": counts["reference_accuracy"]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
