"""Stage 1 of the training recipe: the supervised cold start on the environment's worked solutions.

    cold_start(recipe, resume_from=None, then_grpo=True)     # called by reasongym/train.py

DeepSeek-R1's lesson: a policy that never answers in the expected format gives GRPO zero-variance groups
and nothing to learn from, so a few steps of negative log-likelihood on `task.meta["solution"]` come first.
A fresh stage evaluates the base policy first; a resumed one continues from its checkpoint (the base
evaluation is already in metrics.jsonl). At the end: the held-out evaluation after the cold start, then a
`step-grpo-00000` checkpoint, so a run killed later never repeats this stage.
"""

from __future__ import annotations

import time
from pathlib import Path

from reasongym.agents.learner import Learner
from reasongym.agents.rollout import pick_tasks
from reasongym.agents.stages import Recipe, record_tasks, sft_rows, task_seeds
from reasongym.runs.progress import Progress


def cold_start(r: Recipe, resume_from: Path | None = None, *, then_grpo: bool = True,
               evaluate: bool = True) -> None:
    cfg, run, a, total = r.cfg, r.run, r.cfg.agent, r.cfg.sft.steps
    acc, rank, world = run.acc, run.acc.process_index, run.acc.num_processes
    learner = Learner(r.policy, acc, lr=cfg.sft.lr, total_steps=total, micro_batch_size=a.micro_batch_size,
                      max_grad_norm=a.max_grad_norm, gradient_checkpointing=a.gradient_checkpointing)
    done = 0
    if resume_from is not None:
        done = learner.load(resume_from)["step"]
        run.say(f"resuming the cold start at step {min(done + 1, total)}/{total} from {resume_from}")
    elif evaluate:
        r.summary["base_heldout_accuracy"] = r.heldout(0, "base")
    bar = Progress(total, "cold start", enabled=run.main, done=done)
    try:
        for step in range(done + 1, total + 1):
            t0 = time.time()
            tasks = pick_tasks(r.pool.envs[0], task_seeds(cfg.sft.seed, "sft", step, cfg.sft.batch_size)[rank::world])
            stats = learner.sft_step(sft_rows(r.policy, tasks, r.env_id, r.pool.envs[0]))
            run.log.metrics({"phase": "sft", "step": step, **stats, "step_time": time.time() - t0,
                             "minutes": run.minutes()})
            record_tasks(run, tasks, "sft")
            bar.update(1, loss=stats["loss"])
            if run.due(step, total):
                run.save(r.policy.model, learner.optimizer, learner.scheduler, {"stage": "sft", "step": step})
            run.check_stop(f"cold-start step {step}/{total}")
    finally:
        bar.close()
    if evaluate:
        r.summary["sft_heldout_accuracy"] = r.heldout(total, "sft")
    if then_grpo:  # GRPO step 0: the cold start's weights (GRPO starts its own optimizer from them)
        run.save(r.policy.model, learner.optimizer, learner.scheduler, {"stage": "grpo", "step": 0})
    del learner
