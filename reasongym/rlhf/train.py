"""Training a reward model on rankings: the loop behind `python -m reasongym.reward train`.

    python -m reasongym.reward train data=../shared/data/hh_rlhf_harmless_base_test.jsonl.gz base=smollm2

Read top to bottom: load the rankings and split them by prompt (a fixed held-out share, the same split
every time) -> a 1-output head on the backbone (LoRA, full, or the top layers) -> for each step, a batch of
rankings in a seeded order, each process its share, micro-batches of whole rankings, loss = Bradley-Terry
on every ordered pair of a ranking (or Plackett-Luce), averaged per ranking over the whole step and all
processes -> clip, AdamW, schedule -> held-out pairwise accuracy and loss every `eval_every` steps.
The run machinery of reasongym/runs (folder, resume, seeding, checkpoints) shared with the GRPO recipe: `accelerate launch`
runs it on N processes; checkpoints (weights, optimizer, scheduler, RNG, step) are atomic, so a killed run
continues with `resume=runs/rm-001`. A run leaves runs/<name>/: config.yaml, split.json, metrics.jsonl,
checkpoints/, plots/, final/ (Hugging Face format + reward_model.json), summary.json.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import gather_object

from reasongym.cli import to_yaml
from reasongym.lm.models import resolve_model
from reasongym.lm.precision import autocast, resolve_precision
from reasongym.rlhf.model import (
    RewardModel,
    bradley_terry_loss,
    pairwise_metrics,
    plackett_luce_loss,
)
from reasongym.rlhf.preferences import Ranking
from reasongym.rlhf.report import describe, pairwise_report
from reasongym.runs.checkpoints import load_checkpoint
from reasongym.runs.optim import accumulating, lr_lambda, optimizer_step
from reasongym.runs.progress import Progress
from reasongym.runs.run import open_run

LOSSES = ("pairs", "plackett-luce")


def batch_indices(n: int, batch: int, step: int, seed: int) -> list[int]:
    """The rankings of a step (1-based): consecutive slices of per-epoch seeded permutations, so the step
    number is the data position (a resumed run, or one on more processes, sees the same batches)."""
    start, out = (step - 1) * batch, []
    while len(out) < batch:
        epoch, offset = divmod(start + len(out), n)
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        out += perm[offset: offset + batch - len(out)].tolist()
    return out


def ranking_loss(scores: torch.Tensor, ranking: Ranking, loss: str) -> torch.Tensor:
    """Loss of one ranking from its responses' scores (K,): mean BT over its pairs, or Plackett-Luce."""
    if loss == "plackett-luce":
        if not ranking.strict:
            raise ValueError(f"{ranking.source}: the ranking has ties; Plackett-Luce needs a strict order "
                             "(use loss=pairs, where tied responses simply form no pair)")
        order = sorted(range(len(ranking.ranks)), key=lambda i: ranking.ranks[i])
        return plackett_luce_loss(scores[order])
    pairs = ranking.pairs()
    better, worse = scores[[i for i, _ in pairs]], scores[[j for _, j in pairs]]
    return bradley_terry_loss(better, worse).mean()


class RewardTrainer:
    """Optimises a RewardModel on rankings with accelerate (micro-batches of whole rankings)."""

    def __init__(self, rm: RewardModel, acc: Accelerator, cfg, total_steps: int):
        self.rm, self.acc, self.cfg = rm, acc, cfg
        self.params = [p for p in rm.parameters() if p.requires_grad]
        if not self.params:
            raise ValueError("the reward model has no trainable parameters (top_layers=0 still trains the head)")
        optimizer = torch.optim.AdamW(self.params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        warmup = math.ceil(cfg.warmup_frac * total_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(warmup, total_steps, cfg.schedule))
        self.module, self.optimizer = acc.prepare(rm, optimizer)

    def _global(self, value: float) -> float:
        t = torch.tensor([value], dtype=torch.float64, device=self.acc.device)
        return float(self.acc.reduce(t, reduction="sum").item()) if self.acc.num_processes > 1 else value

    def chunks(self, rankings: list[Ranking]) -> list[list[Ranking]]:
        """Whole rankings per micro-batch, at most micro_batch_size sequences (or one ranking)."""
        out, cur = [], []
        for r in rankings:
            if cur and sum(len(x.responses) for x in cur) + len(r.responses) > self.cfg.micro_batch_size:
                out.append(cur)
                cur = []
            cur.append(r)
        return out + ([cur] if cur else [])

    def step(self, rankings: list[Ranking], encoded: dict[int, list[list[int]]]) -> dict[str, float]:
        """One optimisation step on this process's rankings; the loss is the mean over the global batch."""
        n_global = self._global(len(rankings))
        rankings = sorted(rankings, key=lambda r: max(len(s) for s in encoded[id(r)]))  # less padding
        chunks = self.chunks(rankings)
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, correct, pairs, tokens = 0.0, 0.0, 0, 0
        for k, chunk in enumerate(chunks):
            seqs = [s for r in chunk for s in encoded[id(r)]]
            ids, mask = self.rm.batch(seqs, self.acc.device)
            with accumulating(self.acc, self.module, last=k == len(chunks) - 1):
                with autocast(self.acc.device, self.rm.precision):
                    scores = self.module(ids, mask)  # (B,)
                losses, start = [], 0
                for r in chunk:
                    s = scores[start: start + len(r.responses)]
                    start += len(r.responses)
                    losses.append(ranking_loss(s, r, self.cfg.loss))
                    with torch.no_grad():
                        for i, j in r.pairs():
                            correct += float(s[i] > s[j]) + 0.5 * float(s[i] == s[j])
                            pairs += 1
                loss = torch.stack(losses).sum() / max(n_global, 1.0)
                self.acc.backward(loss * self.acc.num_processes)
            loss_sum += float(loss.detach()) * n_global
            tokens += int(mask.sum())
        done = optimizer_step(self.acc, self.params, self.optimizer, self.scheduler, self.cfg.max_grad_norm)
        n_pairs = self._global(pairs)
        return {"loss": self._global(loss_sum) / max(n_global, 1.0), "accuracy": self._global(correct) / max(n_pairs, 1),
                **done, "tokens": self._global(tokens)}


def heldout_scores(rm: RewardModel, acc: Accelerator, rankings: list[Ranking], batch_size: int) -> list[float]:
    """Scores of every response of every ranking, flattened in order; processes split the rankings."""
    mine = list(range(acc.process_index, len(rankings), acc.num_processes))
    seqs = [rm.encode(rankings[i].messages, resp) for i in mine for resp in rankings[i].responses]
    flat = rm.score_ids(seqs, batch_size)
    per, k = [], 0
    for i in mine:
        per.append((i, flat[k: k + len(rankings[i].responses)]))
        k += len(rankings[i].responses)
    return [s for _, scores in sorted(gather_object(per)) for s in scores]


def evaluate(rm: RewardModel, acc: Accelerator, rankings: list[Ranking], batch_size: int) -> dict[str, float]:
    """Held-out pairwise accuracy (per-ranking mean, ties half) and Bradley-Terry loss."""
    accs, losses = pairwise_metrics(heldout_scores(rm, acc, rankings, batch_size), rankings)
    return {"heldout_accuracy": float(np.mean(accs)), "heldout_loss": float(np.mean(losses)),
            "heldout_rankings": len(rankings)}


def train(cfg, train_set: list[Ranking], heldout: list[Ranking]) -> Path:
    """Run (or resume) one reward-model training on already split rankings; returns the run folder.
    The caller (reasongym/reward.py) has checked every setting and loaded the data: nothing here is a
    user mistake that could leave a half-made run folder."""
    with open_run(cfg, prefix="rm", command="python -m reasongym.reward train", config_yaml=to_yaml(cfg)) as run:
        acc = run.acc
        precision = resolve_precision(cfg.precision, acc.device)
        rm = RewardModel.from_backbone(resolve_model(cfg.base), trainable=cfg.trainable, lora_r=cfg.lora_r,
                                       lora_alpha=cfg.lora_alpha, top_layers=cfg.top_layers, layers=cfg.layers,
                                       max_len=cfg.max_len, prompt_turns=cfg.prompt_turns, precision=precision)
        rm.to(acc.device)
        total = max(1, math.ceil(cfg.epochs * len(train_set) / cfg.batch_size))
        trainer = RewardTrainer(rm, acc, cfg, total)
        if run.fresh and run.main:
            (run.folder / "split.json").write_text(json.dumps(split_info(cfg, train_set, heldout), indent=1))
        run.say(f"reasongym.reward train: {cfg.data} ({len(train_set)} train / {len(heldout)} held-out rankings) | "
                f"{rm.name} {cfg.trainable} ({sum(p.numel() for p in trainer.params) / 1e6:.2f}M trainable, "
                f"{precision}) | {total} steps | {run.folder}")
        done = 0
        if run.latest is not None:
            done = load_checkpoint(acc, run.latest, rm, trainer.optimizer, trainer.scheduler)["step"]
            run.say(f"resuming reward-model training at step {min(done + 1, total)}/{total} from {run.latest}")
        loop(cfg, run, rm, trainer, train_set, heldout, done, total)
        return finish(cfg, run, rm, trainer, heldout, total, precision)


def split_info(cfg, train_set: list[Ranking], heldout: list[Ranking]) -> dict:
    return {"data": cfg.data, "heldout_percent": cfg.heldout_percent, "rule": "sha256(first user message) % 100",
            "train_rankings": len(train_set), "heldout_rankings": len(heldout),
            "train_pairs": sum(len(r.pairs()) for r in train_set), "heldout_pairs": sum(len(r.pairs()) for r in heldout)}


def loop(cfg, run, rm, trainer, train_set, heldout, done: int, total: int) -> None:
    acc, rank, world = run.acc, run.acc.process_index, run.acc.num_processes
    eval_set = heldout[: cfg.eval_limit] if cfg.eval_limit else heldout
    if cfg.eval_every and done == 0:  # the untrained head: the start of the held-out curve
        run.log.metrics({"phase": "heldout", "step": 0, **evaluate(rm, acc, eval_set, cfg.micro_batch_size),
                         "minutes": run.minutes()})
    bar = Progress(total, "reward model", enabled=run.main, done=done)
    try:
        for step in range(done + 1, total + 1):
            t0 = time.time()
            mine = [train_set[i] for i in batch_indices(len(train_set), cfg.batch_size, step, cfg.seed)[rank::world]]
            encoded = {id(r): [rm.encode(r.messages, x) for x in r.responses] for r in mine}
            stats = trainer.step(mine, encoded)
            run.log.metrics({"phase": "train", "step": step, **stats, "step_time": time.time() - t0,
                             "minutes": run.minutes()})
            bar.update(1, loss=stats["loss"], acc=stats["accuracy"])
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total:
                ev = evaluate(rm, acc, eval_set, cfg.micro_batch_size)
                run.log.metrics({"phase": "heldout", "step": step, **ev, "minutes": run.minutes()})
                bar.update(0, heldout=ev["heldout_accuracy"])
                if cfg.plots:
                    run.log.plot()
            if run.due(step, total):
                run.save(rm, trainer.optimizer, trainer.scheduler, {"step": step})
            run.check_stop(f"reward-model step {step}/{total}")
    finally:
        bar.close()


def finish(cfg, run, rm, trainer, heldout, total: int, precision: str) -> Path:
    acc, folder, t0 = run.acc, run.folder, time.time()
    report = pairwise_report(heldout, heldout_scores(rm, acc, heldout, cfg.micro_batch_size))
    if run.main:
        run.log.metrics({"phase": "heldout", "step": total, "heldout_accuracy": report["pairwise_accuracy"],
                         "heldout_loss": report["bt_loss"], "heldout_rankings": report["rankings"],
                         "minutes": run.minutes()})
        rm.stats = {"mean": report["score_mean"], "std": report["score_std"], "on": "held-out responses"}
        rm.save(folder / "final", base=cfg.base, data=cfg.data, heldout_percent=cfg.heldout_percent,
                heldout_accuracy=report["pairwise_accuracy"], heldout_loss=report["bt_loss"])
        summary = {"run": str(folder), "final": str(folder / "final"), "heldout": report,
                   "heldout_accuracy": report["pairwise_accuracy"], "steps": total, "minutes_total": run.minutes(),
                   "eval_seconds": time.time() - t0, "precision": precision,
                   "trainable_params": sum(p.numel() for p in trainer.params),
                   "split": json.loads((folder / "split.json").read_text())}
        (folder / "summary.json").write_text(json.dumps(summary, indent=1))
        if cfg.plots:
            run.log.plot()
        print(f"reasongym.reward train: held-out {describe(report)} -> {folder / 'final'}")
    acc.wait_for_everyone()
    return folder
