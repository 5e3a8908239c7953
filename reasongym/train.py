"""`python -m reasongym.train env=math`: cold start, then GRPO, on any reasongym environment.

    python -m reasongym.train env=math                          # the embedded default policy, CPU is fine
    python -m reasongym.train env=math model=Qwen/Qwen2.5-0.5B-Instruct agent.lora_r=16 agent.group_size=8
    python -m reasongym.train resume=runs/math-001              # after a crash, SIGKILL or Ctrl-C
    torchrun --nproc_per_node 2 -m reasongym.train env=math     # or `accelerate launch`: N processes
    python -m reasongym.train --help                            # every field, its doc and default

Read top to bottom: set up (accelerator, run folder, policy, environments), stage 1 the supervised cold
start on the environment's worked solutions (DeepSeek-R1's lesson: a policy that never answers in the
expected format gives GRPO zero-variance groups and nothing to learn from), stage 2 GRPO: pick tasks ->
G rollouts each through the Gymnasium API -> group advantages -> clipped loss -> step, with held-out
greedy evaluation and checkpoints along the way. A run leaves runs/<name>/: config.yaml, metrics.jsonl,
samples.jsonl, train_tasks.jsonl (for contamination checks), checkpoints/, plots/, final/, summary.json.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, gather_object, set_seed
from omegaconf import OmegaConf

from reasongym.agents.grpo import LossConfig, group_advantages
from reasongym.agents.guard import Guard, learned_reward
from reasongym.agents.policy import HFPolicy
from reasongym.agents.progress import Progress
from reasongym.agents.rollout import EnvPool, collect, pick_tasks, to_rows
from reasongym.agents.stages import evaluate_greedy, heldout_tasks, sft_rows, task_seeds
from reasongym.agents.trainer import Learner
from reasongym.cli import parse_cli, run_cli, to_yaml
from reasongym.config import TrainConfig
from reasongym.core import SamplingParams
from reasongym.registry import resolve
from reasongym.runlog import RunLog, next_run_dir, read_jsonl

CURVES = ["reward", "accuracy", "heldout_accuracy", "completion_len", "zero_var_frac", "kl", "clip_frac",
          "entropy", "loss", "step_time"]


def main(argv: list[str] | None = None) -> Path:
    return run(parse_cli(TrainConfig, argv, prog="reasongym.train"))


def run(cfg: TrainConfig, *, stages: tuple[str, ...] = ("sft", "grpo")) -> Path:
    # ---- set-up ----------------------------------------------------------------------------------
    acc = Accelerator(cpu=not torch.cuda.is_available())
    if cfg.resume:
        resume = Path(cfg.resume)
        if not (resume / "config.yaml").exists():
            raise FileNotFoundError(f"resume={cfg.resume}: no config.yaml there; is it a run folder?")
        cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(TrainConfig),
                                                  OmegaConf.load(resume / "config.yaml")))
        cfg.resume = str(resume)
    env_id, env_kwargs = resolve(cfg.env.name)
    env_kwargs.update(cfg.env.kwargs)
    folder = [Path(cfg.resume) if cfg.resume else
              (Path(cfg.run_dir) / cfg.name if cfg.name else next_run_dir(cfg.run_dir, cfg.env.name))]
    broadcast_object_list(folder)
    folder = folder[0]
    log = RunLog(folder, enabled=acc.is_main_process)
    set_seed(cfg.seed + acc.process_index)
    a = cfg.agent
    policy = HFPolicy.load(cfg.model, device=acc.device, precision=cfg.precision, lora_r=a.lora_r,
                           lora_alpha=a.lora_alpha or 2 * a.lora_r, lora_dropout=a.lora_dropout)
    if acc.is_main_process and not cfg.resume:
        (folder / "config.yaml").write_text(to_yaml(cfg))
    rank, world = acc.process_index, acc.num_processes
    if cfg.agent.prompts_per_step % world:
        raise ValueError(f"agent.prompts_per_step={a.prompts_per_step} must divide evenly over {world} processes")
    pool = EnvPool(env_id, env_kwargs, size=a.prompts_per_step // world * a.group_size)
    eval_pool, eval_tasks = heldout_tasks(cfg, env_id, env_kwargs)
    say = acc.print
    say(f"reasongym.train: {env_id} {env_kwargs} | policy {policy.name} ({policy.precision}, "
        f"{f'LoRA r={a.lora_r}' if a.lora_r else 'full fine-tuning'}) | {world} process(es) | {folder}")

    state = {"stage": "sft" if "sft" in stages and cfg.sft.steps > 0 else "grpo", "step": 0}
    ckpt_root = folder / "checkpoints"
    last = sorted(ckpt_root.glob("step-*"), key=lambda p: p.stat().st_mtime) if cfg.resume else []

    def evaluate(step: int, phase: str) -> float | None:
        if not eval_tasks:
            return None
        acc_value = evaluate_greedy(policy, eval_pool, eval_tasks, acc, a.max_new_tokens)
        log.metrics({"phase": phase, "step": step, "heldout_accuracy": acc_value, "eval_tasks": len(eval_tasks)})
        return acc_value

    summary: dict = {"run": str(folder), "env": env_id, "env_kwargs": env_kwargs, "model": policy.name}
    start_time = time.time()

    # ---- stage 1: supervised cold start ----------------------------------------------------------
    if state["stage"] == "sft":
        learner = Learner(policy, acc, lr=cfg.sft.lr, total_steps=cfg.sft.steps,
                          micro_batch_size=a.micro_batch_size, max_grad_norm=a.max_grad_norm,
                          gradient_checkpointing=a.gradient_checkpointing)
        if last and _stage_of(last[-1]) == "sft":
            state = learner.load(last[-1])
        if state["stage"] == "sft":
            if state["step"] == 0:
                summary["base_heldout_accuracy"] = evaluate(0, "base")
            log.truncate("metrics.jsonl", lambda r: r.get("phase") in ("base", None) or
                         (r.get("phase") == "sft" and r["step"] <= state["step"]))
            bar = Progress(cfg.sft.steps, "cold start", enabled=acc.is_main_process)
            bar.advance(state["step"])
            for step in range(state["step"] + 1, cfg.sft.steps + 1):
                t0 = time.time()
                seeds = task_seeds(cfg.sft.seed, "sft", step, cfg.sft.batch_size)[rank::world]
                tasks = pick_tasks(pool.envs[0], seeds)
                stats = learner.sft_step(sft_rows(policy, tasks, env_id))
                row = {"phase": "sft", "step": step, **stats, "step_time": time.time() - t0}
                log.metrics(row)
                _record_tasks(log, acc, tasks, "sft")
                bar.update(1, loss=stats["loss"])
                if step % cfg.save_every == 0 or step == cfg.sft.steps:
                    _checkpoint(learner, ckpt_root, "sft", step, cfg.keep_checkpoints)
            bar.close()
            summary["sft_heldout_accuracy"] = evaluate(cfg.sft.steps, "sft")
            summary["sft_seconds"] = time.time() - start_time
            state = {"stage": "grpo", "step": 0}
            _checkpoint(learner, ckpt_root, "grpo", 0, cfg.keep_checkpoints)
            last = sorted(ckpt_root.glob("step-*"), key=lambda p: p.stat().st_mtime)
        del learner
    if "grpo" not in stages or cfg.steps == 0:
        return _finish(cfg, acc, policy, log, folder, summary, start_time)

    # ---- stage 2: GRPO ---------------------------------------------------------------------------
    learner = Learner(policy, acc, lr=a.lr, total_steps=cfg.steps, warmup_steps=a.warmup_steps,
                      schedule=a.schedule, weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm,
                      micro_batch_size=a.micro_batch_size, gradient_checkpointing=a.gradient_checkpointing,
                      loss=LossConfig(a.clip_low, a.clip_high, a.beta, a.loss_norm, a.max_new_tokens))
    if last and _stage_of(last[-1]) == "grpo":
        state = learner.load(last[-1], weights_only_model=_step_of(last[-1]) == 0)
        say(f"resumed from {last[-1]} (GRPO step {state['step']})")
    log.truncate("metrics.jsonl", lambda r: r.get("phase") != "grpo" or r["step"] <= state["step"])
    guard = Guard(cfg.guard, policy, learner, acc, folder, learned=learned_reward(pool.envs[0]))
    guard.resume(read_jsonl(folder / "metrics.jsonl"))  # a resumed run continues the guard's history
    if state["step"] == 0 and "sft_heldout_accuracy" not in summary:
        summary["start_heldout_accuracy"] = evaluate(0, "grpo")
    sampling = SamplingParams(a.temperature, a.top_p, a.max_new_tokens)
    bar = Progress(cfg.steps, "GRPO", enabled=acc.is_main_process)
    bar.advance(state["step"])
    grpo_start = time.time()
    for step in range(state["step"] + 1, cfg.steps + 1):
        t0 = time.time()
        seeds = task_seeds(cfg.seed, "grpo", step, a.prompts_per_step)[rank::world]
        tasks = pick_tasks(pool.envs[0], seeds)  # this process's groups
        rollouts = collect(pool, policy, tasks, a.group_size, sampling)
        t_gen = time.time() - t0
        rewards = torch.tensor([r.reward for r in rollouts]).view(len(tasks), a.group_size)  # (N, G)
        adv = group_advantages(rewards, scale=a.scale_rewards).flatten().tolist()
        rows = to_rows(rollouts, policy, a.group_size)
        watch = guard.measure(rollouts, rows)  # signals the reward cannot game, before the update
        stats = learner.grpo_step(rows, adv, mu=a.mu)
        every = gather_object([(r.reward, r.correct, len(r.turns[-1].completion.token_ids or []),
                                r.turns[-1].completion.finish_reason == "length") for r in rollouts])
        zero_var = gather_object([float(g.std() == 0) for g in rewards])
        gen_tokens = sum(e[2] for e in every)
        row = {"phase": "grpo", "step": step, "reward": float(np.mean([e[0] for e in every])),
               "accuracy": float(np.mean([e[1] for e in every])),
               "completion_len": gen_tokens / len(every), "truncated_frac": float(np.mean([e[3] for e in every])),
               "zero_var_frac": float(np.mean(zero_var)), **stats, **watch, "gen_time": t_gen,
               "step_time": time.time() - t0, "gen_tokens_per_s": gen_tokens / max(t_gen, 1e-9)}
        log.metrics(row)
        verdict = guard.observe(row)  # divergence of reward and independent signals; best checkpoint
        log.samples([{"step": step, "task_id": r.task.id, "prompt": r.turns[0].observation[-1]["content"],
                      "completion": r.turns[-1].completion.text, "reward": r.reward, "correct": r.correct}
                     for r in rollouts[:: max(1, len(rollouts) // max(1, cfg.samples_to_log))]])
        _record_tasks(log, acc, tasks, "grpo")
        bar.update(1, reward=row["reward"], acc=row["accuracy"])
        if cfg.eval_every and (step % cfg.eval_every == 0 or step == cfg.steps):
            heldout = evaluate(step, "grpo")
            bar.update(0, heldout=heldout)
            if cfg.plots:
                log.plot(CURVES)
        if step % cfg.save_every == 0 or step == cfg.steps:
            _checkpoint(learner, ckpt_root, "grpo", step, cfg.keep_checkpoints)
            guard.checkpoint()
        if verdict.stop:
            break
    bar.close()
    summary["guard"] = guard.finish()
    if summary["guard"] and summary["guard"]["stopped"]:
        say(f"reasongym guard: {summary['guard']['message']} Kept: {summary['guard']['best_dir']}")
    summary["grpo_seconds_this_session"] = time.time() - grpo_start
    return _finish(cfg, acc, policy, log, folder, summary, start_time)


def _checkpoint(learner: Learner, root: Path, stage: str, step: int, keep: int) -> None:
    learner.save(root / f"step-{stage}-{step:05d}", {"stage": stage, "step": step})
    if learner.acc.is_main_process:
        old = sorted(root.glob("step-*"), key=lambda p: p.stat().st_mtime)[:-max(1, keep)]
        for p in old:
            shutil.rmtree(p, ignore_errors=True)


def _stage_of(path: Path) -> str:
    return path.name.split("-")[1]


def _step_of(path: Path) -> int:
    return int(path.name.split("-")[2])


def _record_tasks(log: RunLog, acc: Accelerator, tasks, phase: str) -> None:
    """Every task the policy trained on, for held-out contamination checks by reasongym.evaluate."""
    rows = gather_object([{"phase": phase, "id": t.id, "question": t.question} for t in tasks])
    log.append("train_tasks.jsonl", rows)


def _finish(cfg, acc, policy, log, folder, summary, start_time) -> Path:
    acc.wait_for_everyone()
    if acc.is_main_process:
        policy.save(str(folder / "final"))
        evals = [r for r in read_jsonl(folder / "metrics.jsonl") if "heldout_accuracy" in r and r.get("phase") == "grpo"]
        if evals:
            summary["final_heldout_accuracy"] = evals[-1]["heldout_accuracy"]
        summary["seconds_total_this_session"] = time.time() - start_time
        summary["config"] = asdict(cfg)
        (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
        if cfg.plots:
            log.plot(CURVES)
        print(f"reasongym.train: done -> {folder}/final ; summary {folder}/summary.json")
    acc.wait_for_everyone()
    return folder


if __name__ == "__main__":
    run_cli(main, "reasongym.train")
