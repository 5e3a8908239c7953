"""`python -m reasongym.reward train|eval`: learned reward models from human rankings (the RLHF recipe).

    python -m reasongym.reward train data=../shared/data/hh_rlhf_harmless_base_test.jsonl.gz base=smollm2
    python -m reasongym.reward eval rm=runs/rm-001/final data=../shared/data/hh_rlhf_harmless_base_test.jsonl.gz
    python -m reasongym.reward train resume=runs/rm-001          # continue a killed run
    python -m reasongym.reward train --help                      # every field, its doc and default

`train` fits a reward model (reasongym/rlhf/train.py) and saves it in Hugging Face format under
runs/<name>/final; `eval` scores a saved one on the held-out split of a ranking file (the same split by
prompt that training used: same file, same heldout_percent) and reports pairwise accuracy with a 95%
bootstrap interval over rankings, an exact sign test against chance, the Bradley-Terry loss, and the
"longer answer wins" / "shorter answer wins" baselines on the same pairs, so a model that only learned
length is visible. Train a policy on it with
`python -m reasongym.train env=preference env.rm=runs/rm-001/final env.prompts=prompts.jsonl`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reasongym.cli import PRECISIONS, ConfigError, check_name, check_values, parse_cli, run_cli
from reasongym.rlhf.preferences import PreferenceDataError, load_rankings, split_rankings
from reasongym.rlhf.report import describe, pairwise_report
from reasongym.runs.progress import Progress
from reasongym.runs.run import load_resumed


@dataclass
class RewardTrainConfig:
    """Train a reward model on pairs or K-rankings (Bradley-Terry on every ordered pair, or Plackett-Luce).

    python -m reasongym.reward train data=pairs.jsonl base=smollm2 trainable=lora lora_r=16
    """

    data: str = ""
    """JSONL(.gz) of pairs (chosen/rejected, hh-rlhf dialogues or prompt + replies) or rankings (prompt/responses)."""
    base: str = "smollm2"
    """Backbone: smollm2 (the embedded default), a Hugging Face name, or a local folder."""
    trainable: str = "lora"
    """What trains besides the new head: lora (adapters), full (every weight), top (the last top_layers layers)."""
    lora_r: int = 16
    """LoRA rank (trainable=lora)."""
    lora_alpha: int = 0
    """LoRA alpha; 0 means 2 * lora_r."""
    top_layers: int = 4
    """Decoder layers that train with trainable=top (the last ones, with the final norm); 0: only the head."""
    layers: int = 0
    """Keep only the first N decoder layers of the backbone (a smaller, faster reward model); 0: all."""
    loss: str = "pairs"
    """pairs: Bradley-Terry on every ordered pair of a ranking, averaged per ranking; plackett-luce: the
    likelihood of the whole order (needs rankings without ties)."""
    max_len: int = 384
    """Longest scored sequence in tokens; longer conversations keep their last max_len tokens (the reply)."""
    prompt_turns: int = 0
    """Keep only the last N prompt messages before the reply (0: the whole conversation)."""
    heldout_percent: int = 20
    """Share of prompts held out (split by a hash of the first user message: fixed across runs)."""
    limit: int = 0
    """Read only the first N rows of the file (0: all)."""
    train_limit: int = 0
    """Train on only the first N training rankings (0: all); the held-out split is unchanged."""
    epochs: float = 1.0
    """Passes over the training rankings (fractions allowed)."""
    batch_size: int = 16
    """Rankings per optimisation step (over all processes)."""
    micro_batch_size: int = 8
    """Sequences per forward/backward (whole rankings); gradients accumulate to the full step."""
    lr: float = 1e-4
    """Peak learning rate (AdamW). LoRA or top layers: ~1e-4..5e-4; full fine-tuning: ~1e-5."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_frac: float = 0.05
    """Share of the steps spent warming the learning rate up linearly."""
    schedule: str = "linear"
    """Learning-rate schedule after warm-up: constant, linear or cosine (to zero at the last step)."""
    max_grad_norm: float = 1.0
    """Clip the gradient norm to this value (0: no clipping)."""
    eval_every: int = 0
    """Held-out evaluation before the first step and every N steps (0: only at the end, on the whole split)."""
    eval_limit: int = 0
    """Rankings in the periodic held-out evaluations (0: all); the final one always uses all."""
    save_every: int = 50
    """Checkpoint every N steps (weights, optimizer, scheduler, RNG, step)."""
    save_every_min: float = 0.0
    """Also checkpoint when this many minutes have passed since the last one (0: off)."""
    keep_checkpoints: int = 2
    """How many recent checkpoints to keep on disk."""
    precision: str = "auto"
    """Compute precision: auto (bf16 where the hardware is fast at it), bf16 or fp32."""
    seed: int = 0
    """Seed of the data order and the head's initialisation."""
    run_dir: str = "runs"
    """Folder that holds the runs."""
    name: str = ""
    """Run name (runs/<name>); empty: rm-NNN, the next free number."""
    resume: str = ""
    """Path of a reward-model run folder to continue from its last checkpoint (its config is reused)."""
    plots: bool = True
    """Write PNG plots of the curves."""


@dataclass
class RewardEvalConfig:
    """Held-out pairwise accuracy of a saved reward model, with a 95% interval and length baselines.

    python -m reasongym.reward eval rm=runs/rm-001/final data=pairs.jsonl
    """

    rm: str = ""
    """The reward model: a folder written by `reasongym.reward train` (runs/<name>/final)."""
    data: str = ""
    """The ranking file; its held-out split is scored (split=all scores every row)."""
    split: str = "heldout"
    """heldout, train or all."""
    heldout_percent: int = 20
    """Must match training's to score the same held-out prompts."""
    limit: int = 0
    """Read only the first N rows (0: all)."""
    batch_size: int = 16
    """Sequences per forward."""
    precision: str = "auto"
    """auto, bf16 or fp32."""
    out: str = ""
    """Where to write the JSON report; empty: <rm>/eval-<data file name>-<split>.json."""


def evaluate_rm(cfg: RewardEvalConfig) -> dict:
    """Score every ranking of the chosen split; returns (and writes) the report."""
    from reasongym.rlhf.model import RewardModel

    if not cfg.rm or not cfg.data:
        raise ConfigError("eval needs rm=<folder of a trained reward model> and data=<ranking file>")
    check_values([("split", cfg.split, cfg.split in ("heldout", "train", "all"), "use heldout, train or all"),
                  ("batch_size", cfg.batch_size, cfg.batch_size >= 1, "must be >= 1"),
                  ("precision", cfg.precision, cfg.precision in PRECISIONS, f"use one of {', '.join(PRECISIONS)}"),
                  ("heldout_percent", cfg.heldout_percent, 0 < cfg.heldout_percent < 100, "must be in 1..99")])
    if not (Path(cfg.rm) / "config.json").exists():
        raise ConfigError(f"rm={cfg.rm}: not a saved reward model (no config.json); pass runs/<name>/final")
    if not Path(cfg.data).exists():
        raise ConfigError(f"data={cfg.data}: no such file")
    rankings = load_rankings(cfg.data, limit=cfg.limit or None)
    if cfg.split != "all":
        rankings = split_rankings(rankings, cfg.heldout_percent)[cfg.split == "heldout"]
    rm = RewardModel.load(cfg.rm, precision=cfg.precision)
    t0 = time.time()
    seqs = [rm.encode(r.messages, x) for r in rankings for x in r.responses]
    bar, scores = Progress(len(seqs), "scoring responses"), []
    for b in range(0, len(seqs), cfg.batch_size):  # the bar moves every batch of batch_size sequences
        scores += rm.score_ids(seqs[b:b + cfg.batch_size], cfg.batch_size)
        bar.update(len(seqs[b:b + cfg.batch_size]))
    bar.close()
    report = {"rm": cfg.rm, "data": cfg.data, "split": cfg.split, "heldout_percent": cfg.heldout_percent,
              **pairwise_report(rankings, scores), "seconds": time.time() - t0, "precision": rm.precision}
    out = Path(cfg.out) if cfg.out else Path(cfg.rm) / f"eval-{Path(cfg.data).name.split('.')[0]}-{cfg.split}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"reasongym.reward eval: {describe(report)} on the {cfg.split} split -> {out}")
    return report


COMMANDS = {"train": RewardTrainConfig, "eval": RewardEvalConfig}


def main(argv: list[str] | None = None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        if argv and argv[0] in ("-h", "--help", "help"):
            print(__doc__)
            raise SystemExit(0)
        raise ConfigError(f"the first argument must be a command: {' or '.join(COMMANDS)} "
                          f"(got {argv[0] if argv else 'nothing'!r}); e.g. python -m reasongym.reward train data=...")
    command, rest = argv[0], argv[1:]
    cfg = parse_cli(COMMANDS[command], rest, prog=f"reasongym.reward {command}")
    from reasongym.lm.models import check_model

    try:
        if command == "eval":
            return evaluate_rm(cfg)
        cfg = load_resumed(cfg, RewardTrainConfig)
        check_train_config(cfg)
        train_set, heldout = training_data(cfg)  # before any folder or model: a bad row is one line
        check_model(cfg.base, key="base")
    except PreferenceDataError as exc:  # one clear line, no traceback
        raise ConfigError(str(exc)) from exc
    from reasongym.rlhf.train import train

    return train(cfg, train_set, heldout)


def training_data(cfg: RewardTrainConfig):
    rankings = load_rankings(cfg.data, limit=cfg.limit or None)
    train_set, heldout = split_rankings(rankings, cfg.heldout_percent)
    if cfg.train_limit:
        train_set = train_set[: cfg.train_limit]
    if not train_set or not heldout:
        raise ConfigError(f"data={cfg.data}: the split left {len(train_set)} training and {len(heldout)} held-out "
                          f"rankings; use more rows or another heldout_percent (now {cfg.heldout_percent})")
    return train_set, heldout


def check_train_config(cfg: RewardTrainConfig) -> None:
    """Fail before loading any model or making a folder: every value and the data file."""
    from reasongym.rlhf.model import TRAINABLE

    if not cfg.data:
        raise ConfigError("train needs data=<JSONL(.gz) of pairs or rankings>")
    if not Path(cfg.data).exists():
        raise ConfigError(f"data={cfg.data}: no such file")
    check_name(cfg.name)
    check_values([(key, value, value in allowed, f"use one of {', '.join(allowed)}") for key, value, allowed in (
        ("trainable", cfg.trainable, TRAINABLE), ("loss", cfg.loss, ("pairs", "plackett-luce")),
        ("schedule", cfg.schedule, ("constant", "linear", "cosine")), ("precision", cfg.precision, PRECISIONS))])
    check_values([
        ("lr", cfg.lr, cfg.lr > 0, "must be > 0"), ("epochs", cfg.epochs, cfg.epochs > 0, "must be > 0"),
        ("batch_size", cfg.batch_size, cfg.batch_size >= 1, "must be >= 1"),
        ("micro_batch_size", cfg.micro_batch_size, cfg.micro_batch_size >= 1, "must be >= 1"),
        ("save_every", cfg.save_every, cfg.save_every >= 1, "must be >= 1"),
        ("save_every_min", cfg.save_every_min, cfg.save_every_min >= 0, "must be >= 0 (0: off)"),
        ("keep_checkpoints", cfg.keep_checkpoints, cfg.keep_checkpoints >= 1, "must be >= 1"),
        ("eval_every", cfg.eval_every, cfg.eval_every >= 0, "must be >= 0"),
        ("heldout_percent", cfg.heldout_percent, 0 < cfg.heldout_percent < 100, "must be in 1..99"),
        ("warmup_frac", cfg.warmup_frac, 0 <= cfg.warmup_frac < 1, "must be in [0, 1)"),
        ("lora_r", cfg.lora_r, cfg.lora_r >= 1 or cfg.trainable != "lora", "must be >= 1 with trainable=lora"),
        ("max_len", cfg.max_len, cfg.max_len >= 8, "must be >= 8 tokens"),
        ("run_dir", cfg.run_dir, bool(cfg.run_dir), "must name a folder (e.g. runs)")])


if __name__ == "__main__":
    run_cli(main, "reasongym.reward")
