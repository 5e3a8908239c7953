"""Sampler benchmark: tokens/s of the built-in samplers on the same rows, in one run, against this
machine's roofline measured in the same run.

    python benchmarks/sampler.py                        # SmolLM2 fp32, 4 prompts x 8 samples x 128 new tokens
    python benchmarks/sampler.py --prompts 16 --group 8 # 128 rows (the quick start's round)
    OMP_NUM_THREADS=1 python benchmarks/sampler.py      # one core (a busy machine)

Roofline: a decode step of R rows reads every weight once (bytes = parameter bytes) and does 2 x params x R
floating-point operations, so tokens/s <= R / max(bytes / bandwidth, flops / matmul rate). The probe measures
the bandwidth as a streaming read (sum) of a 512 MB tensor and the matmul rate as decode-shaped matmuls
(R x hidden times hidden x 4 hidden), best of a few tries each. The limit is for R live rows; rows that end
early make later steps cheaper in flops but not in bytes, so a sampler whose rows finish at different
times stays below it. Greedy tokens of both samplers on the same rows are compared (they must agree).
Each sampler is timed --reps times (3), alternating, seeds 0, 1, 2: sampled rows end at different times, and
more rounds average that out. Writes benchmarks/results/sampler.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F


def bandwidth_gbs(mb: int = 512, tries: int = 5) -> float:
    x = torch.ones(mb * 2**20 // 4)
    x.sum()
    best = min(_timed(x.sum) for _ in range(tries))
    return x.numel() * 4 / best / 1e9


def matmul_gflops(rows: int, hidden: int, tries: int = 5) -> float:
    a, w = torch.randn(rows, hidden), torch.randn(4 * hidden, hidden)
    F.linear(a, w)
    best = min(_timed(lambda: [F.linear(a, w) for _ in range(10)]) for _ in range(tries))
    return 10 * 2 * rows * w.numel() / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def roofline(model, rows: int) -> dict:
    params = sum(p.numel() for p in model.parameters())
    nbytes = sum(p.numel() * p.element_size() for p in model.parameters())
    bw, rate = bandwidth_gbs(), matmul_gflops(rows, model.config.hidden_size)
    step = max(nbytes / (bw * 1e9), 2 * params * rows / (rate * 1e9))
    return {"params": params, "weight_gb": nbytes / 1e9, "bandwidth_gbs": bw, "matmul_gflops": rate,
            "rows": rows, "limit_tokens_per_s": rows / step,
            "bound": "memory" if nbytes / (bw * 1e9) > 2 * params * rows / (rate * 1e9) else "compute"}


def prompts_of(policy, n_prompts: int, group: int, seed: int = 0) -> list[list[int]]:
    from reasongym.registry import make

    env = make("reasongym/Math-v0")
    tasks = env.unwrapped.tasks.take(n_prompts, seed=seed)
    return [policy.encode_chat(t.prompt) for t in tasks for _ in range(group)]


def measure(sampler, prompts, temperature: float, new_tokens: int, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    t = time.perf_counter()
    rows = sampler.sample(prompts, temperature=temperature, top_p=1.0, max_new_tokens=new_tokens)
    dt = time.perf_counter() - t
    tokens = sum(len(r) for r in rows)
    return {"tokens": tokens, "seconds": dt, "tokens_per_s": tokens / dt, "rows": rows}


def parser(doc: str) -> argparse.ArgumentParser:
    """The arguments of every sampler benchmark: the model and the rows (prompts x group x new tokens)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--model", default="smollm2")
    p.add_argument("--prompts", type=int, default=4)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=128)
    return p


def load(args) -> tuple:
    """The policy in fp32, its rows (each prompt `group` times) and the keywords that make its samplers."""
    from reasongym.agents.policies.hf import HFPolicy

    policy = HFPolicy.load(args.model, precision="fp32")
    kw = {"eos_ids": policy.eos_ids, "pad_id": policy.tokenizer.pad_token_id, "dtype": torch.float32}
    return policy, prompts_of(policy, args.prompts, args.group), kw


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--reps", type=int, default=3, help="timed rounds per sampler, alternating")
    p.add_argument("--out", default="benchmarks/results/sampler.json")
    args = p.parse_args()
    from reasongym.agents.policies.sampler import make_sampler

    policy, prompts, kw = load(args)
    samplers = {name: make_sampler(name, policy.model, **kw) for name in ("kv_cache", "static", "static_compiled")}
    greedy = {n: measure(s, prompts, 0.0, 32)["rows"] for n, s in samplers.items()}  # compiles static_compiled
    same = {n: sum(a == b for a, b in zip(greedy["kv_cache"], rows)) for n, rows in greedy.items() if n != "kv_cache"}
    roof = roofline(policy.model, len(prompts))
    results: dict[str, dict] = {}
    for rep in range(args.reps):  # alternating, each with its own seed; totals over the repetitions
        for name, sampler in samplers.items():
            r = measure(sampler, prompts, args.temperature, args.new_tokens, seed=rep)
            total = results.setdefault(name, {"tokens": 0, "seconds": 0.0, "runs": []})
            total["tokens"] += r["tokens"]
            total["seconds"] += r["seconds"]
            total["runs"].append(round(r["tokens_per_s"], 1))
    for r in results.values():
        r["tokens_per_s"] = r["tokens"] / r["seconds"]
        r["share_of_roofline"] = r["tokens_per_s"] / roof["limit_tokens_per_s"]
    speedup = {n: r["tokens_per_s"] / results["kv_cache"]["tokens_per_s"] for n, r in results.items() if n != "kv_cache"}
    print(f"roofline at {len(prompts)} rows: {roof['bandwidth_gbs']:.1f} GB/s streaming read, "
          f"{roof['matmul_gflops']:.1f} GFLOP/s decode matmul, {roof['weight_gb']:.2f} GB of weights -> "
          f"<= {roof['limit_tokens_per_s']:.0f} tokens/s ({roof['bound']}-bound), threads {torch.get_num_threads()}")
    for name, r in results.items():
        print(f"  {name:15} {r['tokens']:5} tokens in {r['seconds']:6.1f} s: {r['tokens_per_s']:6.1f} tokens/s "
              f"({r['share_of_roofline']:.0%} of the roofline)")
    for name, x in speedup.items():
        print(f"  {name} / kv_cache: {x:.2f}x; greedy rows identical to kv_cache's: {same[name]}/{len(prompts)}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "threads": torch.get_num_threads(), "roofline": roof,
                               "samplers": results, "speedup": speedup, "greedy_identical": same, "rows": len(prompts)},
                              indent=1))


if __name__ == "__main__":
    main()
