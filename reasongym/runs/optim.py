"""Optimiser helpers shared by the GRPO learner and the reward-model trainer: schedule, accumulate, step.

    scheduler = LambdaLR(optimizer, lr_lambda(warmup, total, "cosine"))
    with accumulating(acc, module, last=k == len(chunks) - 1):   # DDP syncs gradients on the last chunk
        acc.backward(loss * acc.num_processes)
    stats = optimizer_step(acc, params, optimizer, scheduler, max_grad_norm)   # clip, step, schedule

The scheduler stays unprepared by accelerate (it would step it once per process).
"""

from __future__ import annotations

import math
from contextlib import nullcontext

SCHEDULES = ("constant", "linear", "cosine")


def lr_lambda(warmup: int, total: int, schedule: str):
    """Multiplier of the peak learning rate at a step: linear warm-up, then constant, linear or cosine."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}: use constant, linear or cosine")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        frac = (step - warmup) / max(1, total - warmup)
        if schedule == "linear":
            return max(0.0, 1 - frac)
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        return 1.0

    return factor


def accumulating(acc, module, last: bool):
    """Context of one micro-batch: no gradient all-reduce except on the step's last micro-batch."""
    return nullcontext() if last else acc.no_sync(module)


def optimizer_step(acc, params, optimizer, scheduler, max_grad_norm: float, step_scheduler: bool = True) -> dict:
    """Clip the gradient norm (0: no clipping), step, zero the gradients, advance the schedule."""
    norm = float(acc.clip_grad_norm_(params, max_grad_norm)) if max_grad_norm > 0 else 0.0
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    if step_scheduler:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return {"grad_norm": norm, "lr": lr}
