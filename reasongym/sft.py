"""`python -m reasongym.sft env=math sft.steps=8`: the supervised cold start on its own.

Fine-tunes a policy on the environment's worked solutions (`task.meta["solution"]`, written by the
procedural generators) and saves it in Hugging Face format under runs/<name>/final, ready for
`python -m reasongym.train model=runs/<name>/final sft.steps=0` or `python -m reasongym.evaluate`.
It is stage 1 of the default `train` recipe, run alone; it takes the same config (see --help).
"""

from __future__ import annotations

from pathlib import Path

from reasongym.cli import parse_cli, run_cli
from reasongym.config import TrainConfig
from reasongym.train import run


def main(argv: list[str] | None = None) -> Path:
    cfg = parse_cli(TrainConfig, argv, prog="reasongym.sft")
    if cfg.sft.steps <= 0:
        raise SystemExit("reasongym.sft: sft.steps must be > 0")
    return run(cfg, stages=("sft",))


if __name__ == "__main__":
    run_cli(main, "reasongym.sft")
