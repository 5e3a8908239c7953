"""Stage 2 of the training recipe: GRPO with held-out evaluations, checkpoints and the hacking guard.

    grpo(recipe, resume_from=None)      # called by reasongym/train.py after the cold start

Each step: pick tasks (the step number is the data position) -> G rollouts each through the Gymnasium API
-> rows that carry their group advantage (agents/rollout.py) -> the guard measures signals the reward
cannot game -> `Learner.grpo_step` (agents/learner.py, the loss in agents/grpo.py) -> one metrics row.
Held-out greedy evaluation every `eval_every` steps and at the end; checkpoints every `save_every` steps,
every `save_every_min` minutes, at the end and on Ctrl-C. A resumed stage continues after its checkpoint
with the optimizer, scheduler and RNG it had, so it follows the same curve as an uninterrupted run.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from accelerate.utils import gather_object

from reasongym.agents.grpo import LossConfig
from reasongym.agents.guard import Guard, learned_reward
from reasongym.agents.learner import Learner
from reasongym.agents.rollout import collect, pick_tasks, to_rows
from reasongym.agents.stages import Recipe, record_tasks, task_seeds
from reasongym.core import SamplingParams
from reasongym.runs.log import read_jsonl
from reasongym.runs.progress import Progress


def make_learner(r: Recipe) -> Learner:
    a = r.cfg.agent
    return Learner(r.policy, r.run.acc, lr=a.lr, total_steps=r.cfg.steps, warmup_steps=a.warmup_steps,
                   schedule=a.schedule, weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm,
                   micro_batch_size=a.micro_batch_size, gradient_checkpointing=a.gradient_checkpointing,
                   loss=LossConfig.of(a))


def grpo(r: Recipe, resume_from: Path | None = None) -> None:
    cfg, run, total = r.cfg, r.run, r.cfg.steps
    learner, done = make_learner(r), 0
    if resume_from is not None:
        weights_only = resume_from.name.endswith("-00000")  # the cold start's weights, GRPO's own optimizer
        done = learner.load(resume_from, weights_only_model=weights_only)["step"]
        run.say(f"resuming GRPO at step {min(done + 1, total)}/{total} from {resume_from}")
    run.acc.wait_for_everyone()  # metrics.jsonl is cut back to the checkpoint before anyone reads it
    guard = Guard(cfg.guard, r.policy, learner, run.acc, run.folder, learned=learned_reward(r.pool.envs[0]))
    guard.resume(read_jsonl(run.folder / "metrics.jsonl"))  # a resumed run continues the guard's history
    if done == 0 and cfg.sft.steps == 0:
        r.summary["start_heldout_accuracy"] = r.heldout(0, "grpo")
    bar = Progress(total, "GRPO", enabled=run.main, done=done)
    start = time.time()
    try:
        for step in range(done + 1, total + 1):
            row = grpo_step(r, learner, guard, step)
            verdict = guard.observe(row)  # divergence of reward and independent signals; best checkpoint
            bar.update(1, reward=row["reward"], acc=row["accuracy"])
            if cfg.eval_every and (step % cfg.eval_every == 0 or step == total):
                bar.update(0, heldout=r.heldout(step, "grpo"))
            if run.due(step, total):
                run.save(r.policy.model, learner.optimizer, learner.scheduler, {"stage": "grpo", "step": step})
                guard.checkpoint()
            if verdict.stop:
                break
            run.check_stop(f"GRPO step {step}/{total}")
    finally:
        bar.close()
    r.summary["guard"] = guard.finish()
    if r.summary["guard"] and r.summary["guard"]["stopped"]:
        run.say(f"reasongym guard: {r.summary['guard']['message']} Kept: {r.summary['guard']['best_dir']}")
    r.summary["grpo_seconds_this_session"] = time.time() - start


def grpo_step(r: Recipe, learner: Learner, guard: Guard, step: int) -> dict:
    """One GRPO step on this process's groups; logs and returns the metrics row (all processes' rollouts)."""
    cfg, run, a = r.cfg, r.run, r.cfg.agent
    rank, world = run.acc.process_index, run.acc.num_processes
    t0 = time.time()
    tasks = pick_tasks(r.pool.envs[0], task_seeds(cfg.seed, "grpo", step, a.prompts_per_step)[rank::world])
    rollouts = collect(r.pool, r.policy, tasks, a.group_size, SamplingParams(a.temperature, a.top_p, a.max_new_tokens))
    t_gen = time.time() - t0
    rows = to_rows(rollouts, r.policy, a.group_size, a.scale_rewards)  # rows carry their advantage
    watch = guard.measure(rollouts, rows)  # signals the reward cannot game, before the update
    stats = learner.grpo_step(rows, mu=a.mu)
    every = gather_object([(o.reward, o.correct, len(o.turns[-1].completion.token_ids or []),
                            o.turns[-1].completion.finish_reason == "length") for o in rollouts])
    groups = np.array([o.reward for o in rollouts]).reshape(len(tasks), a.group_size)  # (N, G)
    zero_var = gather_object([float(g.std() == 0) for g in groups])
    gen_tokens = sum(e[2] for e in every)
    row = {"phase": "grpo", "step": step, "reward": float(np.mean([e[0] for e in every])),
           "accuracy": float(np.mean([e[1] for e in every])), "completion_len": gen_tokens / len(every),
           "truncated_frac": float(np.mean([e[3] for e in every])), "zero_var_frac": float(np.mean(zero_var)),
           **stats, **watch, "gen_time": t_gen, "step_time": time.time() - t0,
           "gen_tokens_per_s": gen_tokens / max(t_gen, 1e-9), "minutes": run.minutes()}
    run.log.metrics(row)
    pick = rollouts[:: max(1, len(rollouts) // max(1, cfg.samples_to_log))] if cfg.samples_to_log else []
    run.log.samples([{"step": step, "task_id": o.task.id, "prompt": o.turns[0].observation[-1]["content"],
                      "completion": o.turns[-1].completion.text, "reward": o.reward, "correct": o.correct}
                     for o in pick])
    record_tasks(run, tasks, "grpo")
    return row
