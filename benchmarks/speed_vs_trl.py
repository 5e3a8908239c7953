"""Speed benchmark: reasongym's GRPO step against TRL's GRPOTrainer, same model, LoRA, batch and length.

    pip install trl                                   # the optional peer (pyproject extra: bench)
    python benchmarks/speed_vs_trl.py --steps 4       # ~10 min on 2 CPU cores
    python benchmarks/speed_vs_trl.py --which ours    # only one side (ours-kv: ours with the old kv_cache sampler)
    python benchmarks/speed_vs_trl.py --precision auto   # both sides in bf16 where the CPU has it (default fp32)

Both sides train the embedded default SmolLM2-135M-Instruct with a LoRA adapter (r=16 on all linear
layers) on reasongym/Math-v0 tasks, 4 prompts x 8 samples x up to 128 new tokens per step, beta=0 (TRL's
default), one optimisation pass, gradient checkpointing (TRL's default), the reasongym math verifier as
the reward. Both start from the same
cold-start checkpoint (`python -m reasongym.sft env=math`, made first, or --model): from the bare base
policy every reward is 0, and a trainer that skips zero-advantage rows (ours does) would be timed on
sampling alone. Each side runs in its own
child process of this one (one process tree, one after the other so they do not share the cores) and
reports seconds per step (median after the first, warm-up, step), generated tokens per second and its
peak RSS. Our side runs without dynamic sampling and curriculum (TRL has neither), with the default static
sampler ("ours") and the plain kv_cache loop ("ours-kv"). A roofline probe (benchmarks/sampler.py: streaming
read bandwidth and decode matmul rate, measured in the same run) puts each side's generation tokens/s in
proportion to the limit they imply. Results print as a table and go to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPTS, GROUP, NEW_TOKENS, LORA_R, LR = 4, 8, 128, 16, 1e-4


def peak_rss_gb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux carries that across
    exec, so a child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_ours(steps: int, model: str, sampler: str = "static", precision: str = "fp32") -> dict:
    from reasongym.runs.log import read_jsonl
    from reasongym.train import main

    folder = main(["env=math", f"model={model}", "sft.steps=0", f"steps={steps}", f"agent.prompts_per_step={PROMPTS}",
                   f"agent.group_size={GROUP}", f"agent.max_new_tokens={NEW_TOKENS}", f"agent.lora_r={LORA_R}",
                   f"agent.lr={LR}", "agent.beta=0", "agent.gradient_checkpointing=true", "eval_every=0", "save_every=1000", "plots=false",
                   f"agent.sampler={sampler}", "agent.dynamic_sampling=false", "agent.curriculum=false",
                   "agent.replay=0", "agent.temperature=1.0", "time_budget_min=0",  # as TRL: temperature 1, all steps
                   f"precision={precision}", f"run_dir={tempfile.mkdtemp()}"])
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo" and "reward" in r]
    times = [r["step_time"] for r in rows]
    tokens = [r["completion_len"] * PROMPTS * GROUP for r in rows]
    return {"step_times": times, "tokens": tokens, "gen_times": [r["gen_time"] for r in rows]}


def run_trl(steps: int, model: str, precision: str = "fp32") -> dict:
    import numpy as np
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    import reasongym
    from reasongym.lm.models import resolve_model
    from reasongym.lm.precision import bf16_supported
    from reasongym.verifiers.math.verifier import MathVerifier

    env = reasongym.make("math")
    tasks = env.unwrapped.tasks.take(PROMPTS * (steps + 2), seed=7)
    data = Dataset.from_list([{"prompt": t.prompt, "answer": str(t.answer)} for t in tasks])
    verifier = MathVerifier()
    by_answer = {str(t.answer): t for t in tasks}

    def correctness(completions, answer, **_):
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [verifier.verify(by_answer[a], text).reward for a, text in zip(answer, texts)]

    path = resolve_model(model)
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    cfg = GRPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=PROMPTS * GROUP,
                     num_generations=GROUP, max_completion_length=NEW_TOKENS, learning_rate=LR, beta=0.0,
                     max_steps=steps, logging_steps=1, use_cpu=True, report_to="none", save_strategy="no",
                     temperature=1.0, top_p=1.0, seed=0, dataloader_num_workers=0,
                     bf16=precision == "auto" and bf16_supported("cpu"))  # as ours: auto is bf16 where the CPU has it
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **k):
            self.t0 = time.time()

        def on_step_end(self, *a, **k):
            times.append(time.time() - self.t0)

    trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[correctness], args=cfg,
                          train_dataset=data, peft_config=LoraConfig(r=LORA_R, lora_alpha=2 * LORA_R,
                                                                     target_modules="all-linear",
                                                                     task_type="CAUSAL_LM"),
                          callbacks=[Clock()])
    trainer.train()
    logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    tokens = [float(h["completions/mean_length"]) * PROMPTS * GROUP for h in logs]
    return {"step_times": times, "tokens": tokens, "gen_times": [float("nan")] * len(times),
            "config": {"gradient_checkpointing": cfg.gradient_checkpointing, "bf16": cfg.bf16,
                       "loss_type": cfg.loss_type}, "mean_reward": float(np.mean([h.get("reward", 0) for h in logs]))}


def summarise(name: str, res: dict) -> dict:
    times = res["step_times"][1:] or res["step_times"]
    tokens = res["tokens"][1:] or res["tokens"]
    return {"side": name, "sec_per_step": statistics.median(times),
            "gen_tokens_per_s": sum(tokens) / sum(times), "peak_rss_gb": res["peak_rss_gb"],
            "steps_timed": len(times), **{k: v for k, v in res.items() if k not in ("step_times", "tokens")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--which", default="ours,ours-kv,trl")
    ap.add_argument("--out", default="benchmarks/results/speed_vs_trl.json")
    ap.add_argument("--model", default="", help="policy both sides start from (default: a fresh cold start)")
    ap.add_argument("--precision", choices=("fp32", "auto"), default="fp32",
                    help="fp32 on both sides, or auto: bf16 on both where the CPU is fast at it (the roofline stays fp32)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child.startswith("ours"):
            res = run_ours(args.steps, args.model, "kv_cache" if args.child == "ours-kv" else "static", args.precision)
        else:
            res = run_trl(args.steps, args.model, args.precision)
        res["peak_rss_gb"] = peak_rss_gb()
        print("RESULT " + json.dumps(res))
        return
    if not args.model:
        from reasongym.sft import main as sft

        args.model = str(sft(["env=math", "plots=false", f"run_dir={tempfile.mkdtemp()}"]) / "final")
    results = []
    for side in args.which.split(","):
        print(f"--- {side}: {args.steps} steps of {PROMPTS} prompts x {GROUP} samples x {NEW_TOKENS} tokens")
        proc = subprocess.run([sys.executable, __file__, "--child", side, "--steps", str(args.steps),
                               "--model", args.model, "--precision", args.precision],
                              capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            sys.exit(f"{side} failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")
        results.append(summarise(side, json.loads(line[7:])))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1))  # each side as soon as it is measured
    roof = _roofline(args.model)
    print(f"\nroofline at {PROMPTS * GROUP} rows: {roof['bandwidth_gbs']:.1f} GB/s, {roof['matmul_gflops']:.1f} GFLOP/s "
          f"-> <= {roof['limit_tokens_per_s']:.0f} generated tokens/s")
    print(f"{'side':7} {'s/step':>8} {'gen tok/s':>10} {'of roof':>8} {'peak RSS GB':>12}")
    for r in results:
        r["share_of_roofline"] = r["gen_tokens_per_s"] / roof["limit_tokens_per_s"]
        print(f"{r['side']:7} {r['sec_per_step']:8.1f} {r['gen_tokens_per_s']:10.1f} {r['share_of_roofline']:8.0%} "
              f"{r['peak_rss_gb']:12.2f}")
    Path(args.out).write_text(json.dumps({"precision": args.precision, "sides": results, "roofline": roof}, indent=1))
    by = {r["side"]: r for r in results}
    if "ours" in by and "trl" in by:
        print(f"\nspeed-up {by['trl']['sec_per_step'] / by['ours']['sec_per_step']:.2f}x steps/s; "
              f"peak RSS ratio {by['ours']['peak_rss_gb'] / by['trl']['peak_rss_gb']:.2f}")


def _roofline(model: str) -> dict:
    """benchmarks/sampler.py's probe, in this (parent) process, after the children have finished."""
    from sampler import roofline  # benchmarks/ is this script's folder, so its first sys.path entry

    from reasongym.lm.models import load_model_and_tokenizer

    return roofline(load_model_and_tokenizer(model)[0], PROMPTS * GROUP)


if __name__ == "__main__":
    main()
