"""Test helper: run `reasongym.train` and SIGKILL the process at an exact point, as a crash would.

    python -m tests.runs.kill after-step=5 <train args>            # right after GRPO step 5 is logged
    python -m tests.runs.kill mid-save=step-grpo-00006 <train args>  # inside that checkpoint's write

`mid-save` lets the checkpoint's model.pt land in its .tmp folder, then kills before the rest is written:
exactly what a kill during a slow 1.6 GB save leaves. Used by tests/test_runs_resume.py.
"""

import os
import signal
import sys

import torch


def kill_after_step(n: int) -> None:
    from reasongym.agents import grpo_stage

    real = grpo_stage.grpo_step

    def step(r, learner, guard, k):
        row = real(r, learner, guard, k)
        if k == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return row

    grpo_stage.grpo_step = step


def kill_mid_save(name: str) -> None:
    real = torch.save

    def save(obj, f, *args, **kwargs):
        out = real(obj, f, *args, **kwargs)
        if str(f).endswith(f"{name}.tmp/model.pt"):
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    torch.save = save


if __name__ == "__main__":
    how, value = sys.argv[1].split("=", 1)
    kill_after_step(int(value)) if how == "after-step" else kill_mid_save(value)
    from reasongym.train import main

    main(sys.argv[2:])
