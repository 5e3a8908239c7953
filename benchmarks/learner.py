"""Learner benchmark: seconds per GRPO learner step (forward, backward, optimiser step) on rows shaped like
the quick start's, with each group's prompt run through the decoder once (the default) and with every row
run whole, alternating in the same run.

    python benchmarks/learner.py                        # SmolLM2 fp32, 6 groups x 8 rows, 3 repeats
    python benchmarks/learner.py --groups 16 --repeats 2
    python benchmarks/learner.py --gradient-checkpointing --out benchmarks/results/learner_checkpointing.json

Rows: the prompts of reasongym/Math-v0 tasks in the policy's chat template (55-70 tokens), each with G
completions of random tokens whose lengths are drawn uniformly from 20-70 (the quick start's replies
average ~45 tokens), advantages +-1 so that every row trains. Also reports the token positions that went
through the decoder per step and the matmul rate this implies (forward and backward: 6 x the decoder's
weights x positions, plus 6 x the output head's x completion tokens), against a matmul rate measured in
the same run. Writes benchmarks/results/learner.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from sampler import matmul_gflops, prompts_of

import reasongym.lm.logprobs as logprobs
from reasongym.agents.rollout import Row


def rows_of(policy, groups: int, group: int, seed: int = 0) -> list[Row]:
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for k, prompt in enumerate(prompts_of(policy, groups, group, seed=seed)):
        n = int(torch.randint(20, 71, (1,), generator=gen))
        reply = torch.randint(100, policy.tokenizer.vocab_size, (n,), generator=gen).tolist()
        rows.append(Row(prompt + reply, [0] * len(prompt) + [1] * n, advantage=1.0 if k % 2 else -1.0))
    return rows


def positions(model, run) -> int:
    """Token positions that went through the decoder while `run()` ran."""
    seen = []
    embed = logprobs.causal_lm(model).get_decoder().embed_tokens
    hook = embed.register_forward_hook(lambda m, a, out: seen.append(a[0].numel()))
    try:
        run()
    finally:
        hook.remove()
    return sum(seen)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smollm2")
    p.add_argument("--groups", type=int, default=6)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--micro-batch-size", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--gradient-checkpointing", action="store_true", help="recompute decoder layers in backward")
    p.add_argument("--out", default="benchmarks/results/learner.json")
    args = p.parse_args()
    from accelerate import Accelerator

    from reasongym.agents.learner import Learner
    from reasongym.agents.policies.hf import HFPolicy

    policy = HFPolicy.load(args.model, precision="fp32")
    learner = Learner(policy, Accelerator(cpu=True), lr=1e-6, total_steps=10 * args.repeats,
                      micro_batch_size=args.micro_batch_size, gradient_checkpointing=args.gradient_checkpointing)
    rows = rows_of(policy, args.groups, args.group)
    head = policy.model.get_output_embeddings().weight.numel()
    body = sum(q.numel() for q in logprobs.causal_lm(policy.model).get_decoder().parameters())
    body -= logprobs.causal_lm(policy.model).get_decoder().embed_tokens.weight.numel()  # a lookup, not a matmul
    targets = sum(sum(r.mask) for r in rows)
    share, whole = logprobs.can_share, lambda lm: False
    learner.grpo_step(rows)  # warm-up: allocator, oneDNN primitives
    times: dict[str, list[float]] = {"shared prompt": [], "whole rows": []}
    seen: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, rule in (("shared prompt", share), ("whole rows", whole)):
            logprobs.can_share = rule
            t = time.perf_counter()
            seen[name] = positions(policy.model, lambda: learner.grpo_step(rows))
            times[name].append(time.perf_counter() - t)
    logprobs.can_share = share
    rate = matmul_gflops(512, policy.model.config.hidden_size)
    results = {}
    print(f"{len(rows)} rows ({args.groups} groups x {args.group}), micro-batches of {args.micro_batch_size}, "
          f"threads {torch.get_num_threads()}, gradient checkpointing {'on' if args.gradient_checkpointing else 'off'}; "
          f"prefill-shaped matmul rate {rate:.1f} GFLOP/s")
    for name, ts in times.items():
        sec = statistics.median(ts)
        passes = 8 if args.gradient_checkpointing else 6  # the recompute is one more forward (2 x weights)
        gflops = (passes * body * seen[name] + 6 * head * targets) / sec / 1e9
        results[name] = {"seconds": ts, "median_s": sec, "decoder_positions": seen[name],
                         "implied_gflops": gflops, "share_of_matmul_rate": gflops / rate}
        print(f"  {name:13} {sec:6.1f} s/step (median of {len(ts)}), {seen[name]:5} positions through the "
              f"decoder, ~{gflops:.0f} GFLOP/s ({gflops / rate:.0%} of the matmul rate)")
    speedup = results["whole rows"]["median_s"] / results["shared prompt"]["median_s"]
    print(f"  shared prompt: {speedup:.2f}x the steps/s of whole rows")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "threads": torch.get_num_threads(), "rows": len(rows),
                               "matmul_gflops": rate, "results": results, "speedup": speedup}, indent=1))


if __name__ == "__main__":
    main()
