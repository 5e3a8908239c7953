"""Churn benchmark: does a training run's weight update change held-out greedy answers more, or more
usefully, than a random update of the same size?

    python benchmarks/update_churn.py runs/cs32/final runs/quick-shared26/final
    python benchmarks/update_churn.py BEFORE AFTER --limit 200 --seeds 2

BEFORE and AFTER are two model folders of the same architecture (a cold start and the GRPO run that
started from it). For each seed it writes a third model, BEFORE plus random noise whose Frobenius norm
equals that of AFTER - BEFORE tensor by tensor, then scores all of them greedily on the trainer's
held-out tasks (`python -m reasongym.evaluate ... env=math-heldout samples=0`) and counts, against BEFORE,
the tasks that went right -> wrong and wrong -> right, and the completions that changed at all. If AFTER's
counts look like the random update's, the run moved the held-out answers about as a blind step of its
size would; gains show up as wrong -> right exceeding right -> wrong by more than the random update's
spread. Writes benchmarks/results/update_churn.json; the graded completions stay in --out.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from reasongym.evaluate import main as evaluate

RESULTS = Path(__file__).parent / "results" / "update_churn.json"


def random_update(before: str, after: str, out: Path, seed: int) -> dict:
    """Save BEFORE + noise (same per-tensor norm as AFTER - BEFORE) to `out`; return the update's size."""
    a = AutoModelForCausalLM.from_pretrained(before, dtype=torch.float32)
    b = AutoModelForCausalLM.from_pretrained(after, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    sq_delta = sq_weights = 0.0
    with torch.no_grad():
        after_params = dict(b.named_parameters())
        for name, p in a.named_parameters():
            delta = after_params[name] - p
            noise = torch.randn(p.shape, generator=gen)
            p.add_(noise * (delta.norm() / noise.norm().clamp_min(1e-12)))
            sq_delta += float(delta.norm() ** 2)
            sq_weights += float(p.norm() ** 2)
    a.save_pretrained(out)
    for f in Path(before).iterdir():  # tokenizer and chat template
        if f.name.startswith(("tokenizer", "chat_template", "special_tokens")):
            shutil.copy(f, out / f.name)
    return {"update_norm": sq_delta ** 0.5, "relative": (sq_delta / sq_weights) ** 0.5}


def flips(samples: Path, reference: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in samples.read_text().splitlines() if line.strip()]
    by = {}
    for r in rows:
        by.setdefault(r["policy"], {})[r["task_id"]] = r
    ref = by[reference]
    out = {}
    for policy, tasks in by.items():
        if policy == reference:
            continue
        c = Counter((ref[t]["correct"], tasks[t]["correct"]) for t in ref)
        out[policy] = {"right_to_wrong": c[(True, False)], "wrong_to_right": c[(False, True)],
                       "right_kept": c[(True, True)], "accuracy": sum(r["correct"] for r in tasks.values()) / len(tasks),
                       "completions_changed": sum(ref[t]["completion"] != tasks[t]["completion"] for t in ref)}
    out["reference_accuracy"] = sum(r["correct"] for r in ref.values()) / len(ref)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--out", default="evals/update-churn", help="evaluation folder (samples.jsonl stays there)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sizes, randoms = {}, []
        for seed in range(args.seeds):
            folder = Path(tmp) / f"random-{seed}"
            sizes[str(folder)] = random_update(args.before, args.after, folder, seed)
            randoms.append(str(folder))
        out = Path(args.out)
        shutil.rmtree(out, ignore_errors=True)  # the random models are new each run: nothing to resume
        policies = [args.before, args.after, *randoms]
        evaluate([f"policy=[{','.join(policies)}]", "env=math-heldout", f"limit={args.limit}", "samples=0",
                  "precision=fp32", f"out={out}"])
        counts = flips(out / "samples.jsonl", args.before)
    report = {"before": args.before, "after": args.after, "tasks": args.limit,
              "update": next(iter(sizes.values())), "after_vs_before": counts[args.after],
              "random_vs_before": [counts[r] for r in randoms], "before_accuracy": counts["reference_accuracy"]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
