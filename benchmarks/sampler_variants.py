"""Decode-step variants of the static sampler: int8 products (measured and not adopted: how much faster, and
how far the int8 policy drifts from the fp32 one the learner trains) and, with --compile, the compiled step.

    python benchmarks/sampler_variants.py               # SmolLM2: fp32 vs int8, 4 prompts x 8 samples x 128 tokens
    python benchmarks/sampler_variants.py --compile     # instead: static_compiled against static
    python benchmarks/sampler_variants.py --model runs/cs32/final

Why it was tried: on this CPU (AVX2, no bf16 or VNNI) a decode step of 32 rows is bound by fp32 matmul rate,
and the issue's sampler target (3x the plain sampler) sits at that roofline. Int8 products run at 2-4x the
fp32 rate here, so they are the one way past it.
Why it is not a sampler option: GRPO's gradient assumes the completions were drawn from the policy whose
log-probabilities it differentiates (the learner's fp32 model; `old_logp` is its own value at mu=1). The
mismatch is measured here teacher-forced on completions the fp32 model sampled: per-token KL(fp32 || int8),
how often the two argmaxes agree, and the per-completion log importance ratio log p/q summed over tokens,
whose spread says how far off-policy a group would be.
Speed is timed with no end-of-sequence token (every row samples all its new tokens), twice per variant,
alternating. Variants: every linear product in int8 (weights per output channel, activations per tensor, fbgemm's
reduced range), or only the output head (the largest single product, 49k x 576).
`static_compiled` (agents/policies/static_sampler.py): the decode step compiled by torch.compile. Reported:
the first round's seconds (compiling included), greedy tokens/s of both alternating, rows identical.
Writes benchmarks/results/sampler_variants.json (with --compile: sampler_compile.json).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import torch
from sampler import load, measure, parser, prompts_of, roofline

from reasongym.agents.policies import static_sampler
from reasongym.agents.policies.sampler import make_sampler

DEFAULT_OUT = "benchmarks/results/sampler_variants.json"


def _int8(module):
    """fbgemm's packed int8 copy of a Linear's weight (symmetric, one scale per output channel)."""
    weight, bias = static_sampler._linear(module)
    w = weight.detach().float()
    scale = (w.abs().amax(1) / 127).clamp(min=1e-8).double()
    with warnings.catch_warnings():  # quantized tensors are deprecated in torch 2.x but still run
        warnings.simplefilter("ignore")
        wq = torch.quantize_per_channel(w, scale, torch.zeros(len(scale), dtype=torch.long), 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(wq, None if bias is None else bias.detach().float()), None


def _linear(x, weight, bias):
    if isinstance(weight, torch.ScriptObject):
        return torch.ops.quantized.linear_dynamic(x, weight, True)
    return torch.nn.functional.linear(x, weight, bias)


class Int8Weights(static_sampler.Weights):
    """The static sampler's weights with the output head (and, unless head_only, every layer product) in int8."""

    head_only = False

    def __init__(self, model, pack: bool = False):
        super().__init__(model, pack=False)
        self.linear = _linear
        self.lm_head, self.lm_bias = _int8(model.get_output_embeddings())
        if self.head_only:
            return
        for names, layer in zip(self.layers, model.model.layers):
            a, m = layer.self_attn, layer.mlp
            for key, module in (("q", a.q_proj), ("k", a.k_proj), ("v", a.v_proj), ("o", a.o_proj),
                                ("gate", m.gate_proj), ("up", m.up_proj), ("down", m.down_proj)):
                names[key] = _int8(module)


class HeadInt8Weights(Int8Weights):
    head_only = True


def with_weights(cls, fn):
    """Run fn with the static sampler building its weights as `cls`."""
    before = static_sampler.Weights
    static_sampler.Weights = cls
    try:
        return fn()
    finally:
        static_sampler.Weights = before


@torch.inference_mode()
def forced_logits(sampler, weights, prompts, rows) -> torch.Tensor:
    """(n, L, vocab) next-token logits along the given completions (all of length L), teacher-forced."""
    n_new = len(rows[0])
    cache, logits, valid, pos = sampler._prefill(weights, prompts, n_new)
    column, tokens, out = valid.shape[1] - n_new, torch.tensor(rows), [logits]
    for t in range(n_new - 1):
        valid[:, column + t] = True
        hidden = sampler._step(weights, cache, tokens[:, t].clone(), pos, valid[:, : column + t + 1], column + t)
        out.append(sampler._head(weights, hidden))
        pos = pos + 1
    return torch.stack(out, 1).float()


def mismatch(sampler, model, prompts, length: int, weights_cls) -> dict:
    """Teacher-forced on fp32 samples of at least `length` tokens (cut to `length`): how int8 differs."""
    torch.manual_seed(1)
    rows = sampler.sample(prompts, temperature=1.0, top_p=1.0, max_new_tokens=length)
    keep = [i for i, r in enumerate(rows) if len(r) >= length]
    prompts, rows = [prompts[i] for i in keep], [rows[i][:length] for i in keep]
    lp = forced_logits(sampler, static_sampler.Weights(model), prompts, rows).log_softmax(-1)
    lq = forced_logits(sampler, weights_cls(model), prompts, rows).log_softmax(-1)
    kl = (lp.exp() * (lp - lq)).sum(-1)
    tok = torch.tensor(rows)[:, :, None]
    log_ratio = (lp.gather(-1, tok) - lq.gather(-1, tok)).squeeze(-1).sum(-1)  # log p/q per completion
    w = log_ratio.exp()
    return {"completions": len(rows), "tokens_each": length, "kl_per_token_mean": float(kl.mean()),
            "kl_per_token_max": float(kl.max()), "argmax_agree": float((lp.argmax(-1) == lq.argmax(-1)).float().mean()),
            "log_ratio_per_completion_mean": float(log_ratio.mean()),
            "log_ratio_per_completion_std": float(log_ratio.std()),
            "effective_sample_share": float(w.sum() ** 2 / (w ** 2).sum() / len(w))}


@torch.inference_mode()
def outlier_channels(model, prompts) -> dict:
    """Per kind of product: the largest ratio, over layers, of the largest input channel's |max| to the
    median channel's, on prompt forwards. A per-tensor int8 scale is set by the largest channel."""
    ratios: dict[str, float] = {}

    def hook(kind):
        def record(module, inputs, output):
            channel = inputs[0].reshape(-1, inputs[0].shape[-1]).abs().amax(0)
            ratios[kind] = max(ratios.get(kind, 0.0), float(channel.max() / channel.median()))
        return record

    handles = [m.register_forward_hook(hook(name.rsplit(".", 1)[-1])) for name, m in model.named_modules()
               if isinstance(m, torch.nn.Linear)]
    try:
        for p in prompts:
            model(torch.tensor([p]))
    finally:
        for h in handles:
            h.remove()
    return ratios


def compile_run(policy, prompts, new_tokens: int, kw: dict, reps: int = 4) -> dict:
    """`static_compiled` against `static` on the same greedy rows (same tokens), alternating after
    a first compiled round at full length (which pays for the compiling), `reps` times each."""
    from torch._dynamo.utils import counters

    samplers = {name: make_sampler(name, policy.model, **kw) for name in ("static", "static_compiled")}
    static = measure(samplers["static"], prompts, 0.0, new_tokens)["rows"]
    t = time.perf_counter()
    compiled = measure(samplers["static_compiled"], prompts, 0.0, new_tokens)["rows"]
    compile_s = time.perf_counter() - t
    timed: dict[str, list[float]] = {name: [] for name in samplers}
    for _ in range(reps):
        for name, sampler in samplers.items():
            timed[name].append(measure(sampler, prompts, 0.0, new_tokens)["tokens_per_s"])
    return {"compile_and_first_round_s": compile_s, "graphs_compiled": int(counters["stats"]["unique_graphs"]),
            "greedy_rows_identical": sum(a == b for a, b in zip(static, compiled)), "rows": len(prompts),
            "greedy_tokens_per_s": timed, "compiled_over_static": sum(timed["static_compiled"]) / sum(timed["static"])}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--mismatch-prompts", type=int, default=32)
    p.add_argument("--mismatch-tokens", type=int, default=48)
    p.add_argument("--compile", action="store_true",
                   help="instead: static_compiled against static (slow to compile)")
    p.add_argument("--out", default=DEFAULT_OUT)
    args = p.parse_args()
    policy, prompts, kw = load(args)
    plain, static = make_sampler("kv_cache", policy.model, **kw), make_sampler("static", policy.model, **kw)
    variants = {"kv_cache": (plain, None), "static fp32": (static, None),
                "static, int8 head": (static, HeadInt8Weights), "static, int8 everywhere": (static, Int8Weights)}
    for sampler in (plain, static):  # warm-up: first calls pay for allocations and kernel selection
        measure(sampler, prompts, 0.0, 8)
    roof = roofline(policy.model, len(prompts))
    if args.compile:  # its own run: inductor's compile workers would load the machine for the others
        result = compile_run(policy, prompts, args.new_tokens, kw)
        print(json.dumps(result, indent=1))
        out = Path(args.out if args.out != DEFAULT_OUT else "benchmarks/results/sampler_compile.json")
        out.write_text(json.dumps({"args": vars(args), "threads": torch.get_num_threads(), **result}, indent=1))
        return
    # speed: no end-of-sequence token, so every variant runs all rows for all new tokens (the same work;
    # sampled rows that end at different times would make the live row counts differ), alternating twice
    endless = {**kw, "eos_ids": []}
    fixed = {"kv_cache": make_sampler("kv_cache", policy.model, **endless),
             "static": make_sampler("static", policy.model, **endless)}
    speed: dict[str, dict] = {}
    for _ in range(2):
        for name, (sampler, cls) in variants.items():
            def run(sampler=fixed["kv_cache" if sampler is plain else "static"]):
                return measure(sampler, prompts, 1.0, args.new_tokens)
            r = with_weights(cls, run) if cls else run()
            entry = speed.setdefault(name, {"tokens": r["tokens"], "seconds": 0.0, "runs": []})
            entry["seconds"] += r["seconds"]
            entry["runs"].append(r["tokens_per_s"])
    for r in speed.values():
        r["tokens_per_s"] = len(r["runs"]) * r["tokens"] / r["seconds"]
        r["share_of_fp32_roofline"] = r["tokens_per_s"] / roof["limit_tokens_per_s"]
        r["x_kv_cache"] = r["tokens_per_s"] / speed["kv_cache"]["tokens_per_s"]
    mismatch_prompts = prompts_of(policy, args.mismatch_prompts, 1, seed=1)
    drift = {name: mismatch(static, policy.model, mismatch_prompts, args.mismatch_tokens, cls)
             for name, (_, cls) in variants.items() if cls}
    outliers = outlier_channels(policy.model, mismatch_prompts[:8])
    print(f"fp32 roofline at {len(prompts)} rows: {roof['limit_tokens_per_s']:.0f} tokens/s ({roof['bound']}-bound)")
    for name, r in speed.items():
        print(f"  {name:24} {r['tokens_per_s']:6.1f} tokens/s  {r['x_kv_cache']:.2f}x kv_cache  "
              f"{r['share_of_fp32_roofline']:.0%} of the fp32 roofline")
    for name, d in drift.items():
        print(f"  {name:24} KL(fp32||int8) {d['kl_per_token_mean']:.3f} nat/token (max {d['kl_per_token_max']:.2f}), "
              f"argmax agrees {d['argmax_agree']:.0%}, log p/q per {d['tokens_each']}-token completion "
              f"{d['log_ratio_per_completion_mean']:+.2f} +- {d['log_ratio_per_completion_std']:.2f}, "
              f"effective samples {d['effective_sample_share']:.0%} ({d['completions']} completions)")
    print("  input channel |max| / median channel's, worst layer: "
          + ", ".join(f"{k} {v:.0f}x" for k, v in outliers.items()))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "threads": torch.get_num_threads(), "roofline": roof,
                               "speed": speed, "mismatch": drift,
                               "outlier_channels": outliers}, indent=1))


if __name__ == "__main__":
    main()
