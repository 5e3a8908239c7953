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
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reasongym.cli import ConfigError, parse_cli, run_cli
from reasongym.evaluation.metrics import compare, estimate, mcnemar_p
from reasongym.rlhf.preferences import PreferenceDataError, load_rankings, split_rankings


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
    if cfg.split not in ("heldout", "train", "all"):
        raise ConfigError(f"split must be heldout, train or all, got {cfg.split!r}")
    rankings = load_rankings(cfg.data, limit=cfg.limit or None)
    if cfg.split != "all":
        rankings = split_rankings(rankings, cfg.heldout_percent)[cfg.split == "heldout"]
    rm = RewardModel.load(cfg.rm, precision=cfg.precision)
    t0 = time.time()
    seqs = [rm.encode(r.messages, x) for r in rankings for x in r.responses]
    scores = rm.score_ids(seqs, cfg.batch_size)
    report = {"rm": cfg.rm, "data": cfg.data, "split": cfg.split, "heldout_percent": cfg.heldout_percent,
              **pairwise_report(rankings, scores), "seconds": time.time() - t0, "precision": rm.precision}
    out = Path(cfg.out) if cfg.out else Path(cfg.rm) / f"eval-{Path(cfg.data).name.split('.')[0]}-{cfg.split}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"reasongym.reward eval: {describe(report)} on the {cfg.split} split -> {out}")
    return report


def pairwise_report(rankings, scores: list[float]) -> dict:
    """Accuracy with a 95% bootstrap interval over rankings, sign test against chance, BT loss, and the
    length baselines on the same pairs, from the scores of every response (flattened in order)."""
    from reasongym.rlhf.model import pairwise_metrics

    accs, losses = pairwise_metrics(scores, rankings)
    longer, shorter = length_baselines(rankings)
    acc, right = estimate(accs), sum(accs)
    return {
        "rankings": len(rankings), "pairs": sum(len(r.pairs()) for r in rankings),
        "pairwise_accuracy": acc.mean, "ci95": [acc.lo, acc.hi], "bt_loss": sum(losses) / len(losses),
        "sign_test_p_vs_chance": mcnemar_p(round(len(accs) - right), round(right)),
        "longer_wins_accuracy": sum(longer) / len(longer), "shorter_wins_accuracy": sum(shorter) / len(shorter),
        "vs_best_length_baseline": compare(max((longer, shorter), key=sum), accs, names=("length", "rm"),
                                           metric="pairwise accuracy").as_dict(),
        "score_mean": sum(scores) / len(scores), "score_std": statistics.pstdev(scores),
    }


def describe(report: dict) -> str:
    lo, hi = report["ci95"]
    return (f"pairwise accuracy {100 * report['pairwise_accuracy']:.1f}% [95% CI {100 * lo:.1f}, {100 * hi:.1f}] "
            f"on {report['rankings']} rankings (sign test vs chance p={report['sign_test_p_vs_chance']:.2g}; "
            f"BT loss {report['bt_loss']:.3f}; shorter-wins {100 * report['shorter_wins_accuracy']:.1f}%, "
            f"longer-wins {100 * report['longer_wins_accuracy']:.1f}%)")


def length_baselines(rankings) -> tuple[list[float], list[float]]:
    """Per-ranking pairwise accuracy of "the longer reply wins" and "the shorter reply wins" (ties half)."""
    longer, shorter = [], []
    for r in rankings:
        pairs = r.pairs()
        n = [len(x) for x in r.responses]
        longer.append(sum(1.0 if n[i] > n[j] else 0.5 if n[i] == n[j] else 0.0 for i, j in pairs) / len(pairs))
        shorter.append(sum(1.0 if n[i] < n[j] else 0.5 if n[i] == n[j] else 0.0 for i, j in pairs) / len(pairs))
    return longer, shorter


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
    try:
        if command == "train":
            from reasongym.rlhf.train import train

            check_train_config(cfg)
            return train(cfg)
        return evaluate_rm(cfg)
    except (PreferenceDataError, FileNotFoundError) as exc:  # one clear line, no traceback
        raise ConfigError(str(exc)) from exc


def check_train_config(cfg: RewardTrainConfig) -> None:
    """Fail before loading any model: the choices and the data file of a training run."""
    from reasongym.rlhf.model import TRAINABLE

    if cfg.resume:
        return
    if not cfg.data:
        raise ConfigError("train needs data=<JSONL(.gz) of pairs or rankings>")
    if not Path(cfg.data).exists():
        raise ConfigError(f"data={cfg.data}: no such file")
    for key, value, allowed in (("trainable", cfg.trainable, TRAINABLE), ("loss", cfg.loss, ("pairs", "plackett-luce")),
                                ("schedule", cfg.schedule, ("constant", "linear", "cosine"))):
        if value not in allowed:
            raise ConfigError(f"{key}={value!r}: use one of {', '.join(allowed)}")


if __name__ == "__main__":
    run_cli(main, "reasongym.reward")
