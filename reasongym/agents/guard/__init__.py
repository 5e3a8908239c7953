"""The reward-hacking guard: watch the reward against signals it cannot game, keep the best checkpoint, stop.

RL finds the holes of a learned reward ("the the the" scoring as the best joke). Every GRPO step the guard
measures, on that step's rollouts and before the update, signals the reward model does not control:

    rep3               share of repeated token 3-grams inside a reply (degenerate loops), mean over replies
    distinct2          distinct token bigrams / all bigrams over the step's replies (diversity collapse)
    completion_len     reply length in tokens (verbosity or empty replies)
    kl_ref             per-token KL(policy || reference) on `kl_rows` rollouts (k3 estimate, on-policy)
    verified_accuracy  the environment's own verifier, when a learned reward carries one (env verifier=)
    judge_score        a second, held-out reward model (guard.judge=folder) scoring the same replies

`Detector` (detect.py: pure logic, tested on synthetic curves) compares trailing means over `window`
steps with the mean of the first `warmup` steps. A step is *divergent* when the reward rose by at least
`min_reward_rise` baseline reply-stds (for a learned reward: its raw score `rm_score`, whatever
normalisation the reward went through) while at least one independent signal collapsed (repetition up, diversity down,
length out of range, KL over budget, judge or verified accuracy down from its best). After `patience`
divergent steps in a row the run stops ("crop it") with a message that quotes the evidence. The best
checkpoint is kept by the independent signal: the judge, else verified accuracy, else the reward over
steps where nothing had collapsed; its weights are those that produced the step's rollouts.

A run with the guard leaves: the signals in metrics.jsonl, plots/guard.png (curves, the stop and best
steps marked), guard.json (verdicts, evidence) and best/ (Hugging Face format). Config: `guard.*` in
`python -m reasongym.train --help`; on by default for learned rewards, `guard.enabled=true` for any run.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from reasongym.agents.guard.detect import Detector, Verdict, distinct2, rep3, units
from reasongym.lm.logprobs import TokenLogProbs
from reasongym.lm.precision import autocast
from reasongym.runs.checkpoints import trainable_state


class Guard:
    """Measures the signals of each step, runs the Detector, keeps the best weights, writes the evidence."""

    def __init__(self, cfg, policy, learner, acc, folder: Path, *, learned: bool):
        self.cfg, self.policy, self.learner, self.acc, self.folder = cfg, policy, learner, acc, Path(folder)
        self.on = learned if cfg.enabled is None else bool(cfg.enabled)
        self.detector, self.verdicts = Detector(cfg), []
        self.pending: dict | None = None
        self.best_state: tuple[int, dict] | None = None
        self.ref_model = None
        if self.on and cfg.kl_rows and not (learner.is_lora or learner.ref is not None):
            self.ref_model = TokenLogProbs(copy.deepcopy(policy.model).eval().requires_grad_(False))
        self.judge = None
        if self.on and cfg.judge:
            from reasongym.rlhf.model import RewardModel

            self.judge = RewardModel.load(cfg.judge, device=acc.device, precision=policy.precision)

    # -- per step ----------------------------------------------------------------------------------
    def measure(self, rollouts, rows) -> dict:
        """Signals of this step's rollouts (all processes), and a snapshot of the weights that made them."""
        if not self.on:
            return {}
        from accelerate.utils import gather_object

        texts = [r.turns[-1].completion.text for r in rollouts]
        seqs = [units(t, r.turns[-1].completion.token_ids) for r, t in zip(rollouts, texts)]
        every = gather_object([(r.reward, rep3(s), s, _verified(r), _rm_score(r)) for r, s in zip(rollouts, seqs)])
        rewards = np.array([e[0] for e in every])
        out = {"reward_std": float(rewards.std()), "rep3": float(np.mean([e[1] for e in every])),
               "distinct2": distinct2([e[2] for e in every])}
        raw = [e[4] for e in every if e[4] is not None]
        if raw:  # a learned reward's raw score: what the Detector watches rise (the reward may be normalised)
            out["rm_score"], out["rm_score_std"] = float(np.mean(raw)), float(np.std(raw))
        verified = [e[3] for e in every if e[3] is not None]
        if verified:
            out["verified_accuracy"] = float(np.mean(verified))
        if self.judge is not None:
            scores = gather_object(self.judge.score([r.task.prompt for r in rollouts], texts))
            out["judge_score"], out["judge_std"] = float(np.mean(scores)), float(np.std(scores))
        if self.cfg.kl_rows:
            out["kl_ref"] = self._kl(rows)
        if self.acc.is_main_process:
            self.pending = {k: v.clone() for k, v in trainable_state(self.policy.model).items()}
        return out

    def observe(self, row: dict) -> Verdict:
        """Judge the logged row of a step; keeps the step's weights when it is the new best."""
        if not self.on:
            return Verdict(step=int(row["step"]))
        verdict = self.detector.update(row)
        if verdict.best_step == verdict.step and self.pending is not None:
            self.best_state = (verdict.step, self.pending)
        self.pending = None
        self.verdicts.append(verdict)
        if verdict.status != "ok":
            row_note = {"step": verdict.step, "status": verdict.status, "reasons": verdict.reasons}
            self.acc.print(f"reasongym guard: {json.dumps(row_note)}")
        return verdict

    def _kl(self, rows) -> float:
        from accelerate.utils import gather_object

        pick = rows[:: max(1, len(rows) // self.cfg.kl_rows)][: self.cfg.kl_rows]
        width = max(len(r.input_ids) for r in pick)
        pad = self.policy.tokenizer.pad_token_id
        ids = torch.full((len(pick), width), pad, dtype=torch.long)
        attn, mask = torch.zeros_like(ids), torch.zeros((len(pick), width), dtype=torch.float32)
        for i, r in enumerate(pick):
            ids[i, : len(r.input_ids)], attn[i, : len(r.input_ids)] = torch.tensor(r.input_ids), 1
            mask[i, : len(r.mask)] = torch.tensor(r.mask, dtype=torch.float32)
        dev = self.acc.device
        ids, attn, mask = ids.to(dev), attn.to(dev), mask[:, 1:].to(dev)
        with torch.no_grad(), autocast(dev, self.policy.precision):
            logp = TokenLogProbs(self.policy.model)(ids, attn)[0].float()
            if self.ref_model is not None:
                ref = self.ref_model(ids, attn)[0].float()
            elif self.learner.ref is not None:
                ref = self.learner.ref(ids, attn)[0].float()
            else:
                with self.policy.model.disable_adapter():
                    ref = TokenLogProbs(self.policy.model)(ids, attn)[0].float()
        delta = ref - logp
        k3 = ((torch.exp(delta) - delta - 1) * mask).sum()
        parts = gather_object([(float(k3), float(mask.sum()))])
        return sum(p[0] for p in parts) / max(1.0, sum(p[1] for p in parts))

    # -- resume, checkpoints, the end --------------------------------------------------------------
    def resume(self, rows: list[dict]) -> None:
        """Rebuild the history from a resumed run's metrics, and the best weights saved with checkpoints."""
        if not self.on:
            return
        from accelerate.utils import broadcast_object_list

        steps = [[r for r in rows if r.get("phase") == "grpo" and "reward" in r]]
        broadcast_object_list(steps)  # the main process's metrics: every process judges the same history
        for row in steps[0]:
            self.verdicts.append(self.detector.update(row))
        saved = self.folder / "guard_best.pt"
        if saved.exists():
            blob = torch.load(saved, map_location="cpu")
            self.best_state = (blob["step"], blob["weights"])

    def checkpoint(self) -> None:
        """Save the best weights so far next to the run's checkpoints (a killed run keeps them)."""
        if self.on and self.best_state is not None and self.acc.is_main_process:
            tmp = self.folder / "guard_best.pt.tmp"
            torch.save({"step": self.best_state[0], "weights": self.best_state[1]}, tmp)
            tmp.replace(self.folder / "guard_best.pt")

    def finish(self) -> dict | None:
        """Write best/ (HF format), guard.json and plots/guard.png; returns the summary entry."""
        if not self.on:
            return None
        last = self.verdicts[-1] if self.verdicts else Verdict(step=0)
        info = {"stopped": last.stop, "stop_step": last.step if last.stop else None, "message": last.message,
                "best_by": last.best_by, "best_step": last.best_step, "best_value": last.best_value,
                "best_dir": None, "config": asdict(self.cfg) if hasattr(self.cfg, "__dataclass_fields__") else None,
                "flagged": [asdict(v) for v in self.verdicts if v.status != "ok"]}
        if self.acc.is_main_process:
            if self.best_state is not None:
                info["best_dir"] = str(self.folder / "best")
                self._save_best()
            (self.folder / "guard.json").write_text(json.dumps(info, indent=1, default=str))
            from reasongym.agents.guard.plot import plot_guard

            plot_guard(self.detector.rows, self.folder / "plots" / "guard.png", info)
        return info

    def _save_best(self) -> None:
        step, weights = self.best_state
        model = self.policy.model
        now = {k: v.clone() for k, v in trainable_state(model).items()}
        params = dict(model.named_parameters())
        with torch.no_grad():
            for k, v in weights.items():
                params[k].copy_(v)
            self.policy.save(str(self.folder / "best"))
            for k, v in now.items():
                params[k].copy_(v)
        (self.folder / "best" / "guard_best.json").write_text(json.dumps({"step": step}))


def learned_reward(env) -> bool:
    """Whether an environment's reward comes from a learned model (its verifier says `learned = True`)."""
    return bool(getattr(getattr(env.unwrapped, "verifier", None), "learned", False))


def _rm_score(rollout) -> float | None:
    """The raw reward-model score of an episode's last reply (None for rewards that are not learned)."""
    verdict = rollout.turns[-1].verdict
    score = verdict.info.get("rm_score") if verdict is not None else None
    return float(score) if isinstance(score, (int, float)) else None


def _verified(rollout) -> float | None:
    """The environment's own verifier result on a learned-reward episode (None when there is none)."""
    verdict = rollout.turns[-1].verdict
    if verdict is None or "verifier_reward" not in verdict.info:
        return None
    return float(verdict.correct)
