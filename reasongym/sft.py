"""`python -m reasongym.sft env=math sft.steps=32`: the supervised cold start on its own.

Fine-tunes a policy on the environment's worked solutions (`task.meta["solution"]`, written by the
procedural generators) and saves it in Hugging Face format under runs/<name>/final, ready for
`python -m reasongym.train model=runs/<name>/final sft.steps=0` or `python -m reasongym.evaluate`.
It is stage 1 of the default `train` recipe, run alone, with the same config keys (the sft.* ones and
model, env, name, resume, ...); GRPO's keys are ignored. It evaluates on the held-out tasks only when
asked (sft_eval=true): two 200-task evaluations take about 3 minutes, most of the time of a 32-step cold start.
"""

from __future__ import annotations

from pathlib import Path

from reasongym.cli import parse_cli, run_cli
from reasongym.config import TrainConfig
from reasongym.train import run

HELP = """The supervised cold start alone: fine-tune on the environment's worked solutions, save runs/<name>/final.

    python -m reasongym.sft env=math sft.steps=32 name=math-sft
    python -m reasongym.train model=runs/math-sft/final sft.steps=0     # then GRPO from it

Keys that matter here: model, env, name, resume, run_dir, sft.*, agent.micro_batch_size, precision,
save_every, sft_eval (held-out evaluation before and after, off by default). GRPO keys are ignored."""


def main(argv: list[str] | None = None) -> Path:
    cfg = parse_cli(TrainConfig, argv, prog="reasongym.sft", doc=HELP)
    return run(cfg, stages=("sft",), command="python -m reasongym.sft")


if __name__ == "__main__":
    run_cli(main, "reasongym.sft")
