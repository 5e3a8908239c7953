"""The reward-hacking detector: pure logic over per-step rows, no torch (agents/guard/__init__.py feeds it).

    det = Detector(GuardConfig())
    for row in rows:                        # {"step", "reward", "reward_std", "rm_score", "rm_score_std",
        verdict = det.update(row)           #  "rep3", "distinct2", "completion_len", "kl_ref", "verified_accuracy",
                                            #  "judge_score"}
        if verdict.stop: print(verdict.message); break

Each signal's trailing mean over `window` steps is compared with its mean over the first `warmup` steps
(judge and verified accuracy: with their best trailing mean so far). A step is divergent when the reward
(the raw reward-model score where there is one) rose by `min_reward_rise` baseline reply-stds while at
least one independent signal collapsed; `patience` divergent steps in a row stop the run. A collapse
without a rising reward is a warning (instability, not hacking). The best step is tracked by the
independent signal over steps where nothing had collapsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_WORD = re.compile(r"\w+|[^\w\s]")


def units(text: str, token_ids: list[int] | None = None) -> list:
    """What n-grams are made of: the reply's token ids when the policy gave them (so "eeeeee" from a
    character-level model and "the the the" from a BPE one both repeat), else its words."""
    return list(token_ids) if token_ids else _WORD.findall(text.lower())


def rep3(seq: list | str) -> float:
    """Share of a reply's 3-grams (tokens or words) that repeat an earlier one (0: none, -> 1: one loop)."""
    seq = units(seq) if isinstance(seq, str) else seq
    grams = [tuple(seq[i:i + 3]) for i in range(len(seq) - 2)]
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def distinct2(seqs: list[list | str]) -> float:
    """Distinct bigrams over all bigrams of the replies (1: all different, -> 0: the same few)."""
    seqs = [units(s) if isinstance(s, str) else s for s in seqs]
    grams = [g for s in seqs for g in zip(s, s[1:])]
    return len(set(grams)) / len(grams) if grams else 0.0


@dataclass
class Verdict:
    """What the guard concluded at one step."""

    step: int
    status: str = "ok"  # ok | warn (a signal collapsed, or divergence within patience) | stop
    reasons: list[str] = field(default_factory=list)
    divergent_steps: int = 0
    best_step: int | None = None
    best_value: float | None = None
    best_by: str = ""
    message: str = ""

    @property
    def stop(self) -> bool:
        return self.status == "stop"


class Detector:
    """Divergence of the reward from independent signals over a history of per-step rows."""

    def __init__(self, cfg):
        self.cfg, self.rows = cfg, []
        self.best: tuple[int, float] | None = None
        self.divergent = 0

    def _mean(self, key: str, rows: list[dict]) -> float | None:
        vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and np.isfinite(r[key])]
        return float(np.mean(vals)) if vals else None

    def reward_signal(self) -> tuple[str, str]:
        """(key, label) of what the policy is paid: the raw reward-model score when the rows have it (a
        normalised reward can hide the rise: z-scores within a group average 0), else the reward."""
        if any(r.get("rm_score") is not None for r in self.rows):
            return "rm_score", "raw reward-model score"
        return "reward", "reward"

    def best_by(self) -> str:
        if self.cfg.best_by != "auto":
            return self.cfg.best_by
        for key in ("judge_score", "verified_accuracy"):
            if any(r.get(key) is not None for r in self.rows):
                return key
        return "reward"

    def collapsed(self) -> list[str]:
        """Independent signals that collapsed: trailing window against the baseline (or the best)."""
        c = self.cfg
        base, now = self.rows[: c.warmup], self.rows[-c.window:]
        out = []

        def pair(key):
            return self._mean(key, base), self._mean(key, now)

        b, n = pair("rep3")
        if b is not None and n is not None and n - b > c.max_rep_rise:
            out.append(f"repetition rep3 rose {b:.2f} -> {n:.2f} (limit +{c.max_rep_rise:g})")
        b, n = pair("distinct2")
        if b and n is not None and n < c.min_distinct_ratio * b:
            out.append(f"diversity distinct2 fell {b:.2f} -> {n:.2f} (limit x{c.min_distinct_ratio:g})")
        b, n = pair("completion_len")
        if b and n is not None and not (b / c.max_len_ratio <= n <= b * c.max_len_ratio):
            out.append(f"length {b:.0f} -> {n:.0f} tokens (limit x{c.max_len_ratio:g} either way)")
        n = self._mean("kl_ref", now)
        if c.max_kl and n is not None and n > c.max_kl:
            out.append(f"KL to the reference {n:.3f} per token (budget {c.max_kl:g})")
        for key, label in (("verified_accuracy", "verified accuracy"), ("judge_score", "judge score")):
            peak, n = self._peak(key), self._mean(key, now)
            if peak is None or n is None:
                continue
            if key == "judge_score":  # in units of the judge's spread over replies at the start
                drop = c.max_judge_drop * (self._mean("judge_std", base) or 1.0)
            else:  # a share of the best accuracy, at least 5 points
                drop = max(c.max_accuracy_drop * peak, 0.05)
            if peak - n > drop:
                out.append(f"{label} fell from its best {peak:.3f} -> {n:.3f} (limit -{drop:.3f})")
        return out

    def _peak(self, key: str) -> float | None:
        w = self.cfg.window
        vals = [self._mean(key, self.rows[max(0, i + 1 - w): i + 1]) for i in range(len(self.rows))]
        vals = [v for v in vals if v is not None]
        return max(vals) if vals else None

    def update(self, row: dict) -> Verdict:
        """Add one step's row and judge it."""
        self.rows.append(row)
        c, step = self.cfg, int(row["step"])
        v = Verdict(step=step, best_by=self.best_by())
        if len(self.rows) <= c.warmup:
            self._track_best(step, healthy=True)
            return self._finish(v)
        reasons = self.collapsed()
        key, label = self.reward_signal()
        base_r, now_r = self._mean(key, self.rows[: c.warmup]), self._mean(key, self.rows[-c.window:])
        spread = max(self._mean(f"{key}_std", self.rows[: c.warmup]) or 0.0, 1e-6)
        rise = (now_r - base_r) / spread if base_r is not None and now_r is not None else 0.0
        if reasons and rise >= c.min_reward_rise:
            self.divergent += 1
            v.reasons = [f"{label} rose {base_r:.3f} -> {now_r:.3f} ({rise:+.1f} baseline stds)"] + reasons
            v.status = "stop" if self.divergent >= c.patience and c.stop else "warn"
        else:
            self.divergent = 0
            v.status, v.reasons = ("warn", reasons) if reasons else ("ok", [])
        self._track_best(step, healthy=not reasons)
        v.divergent_steps = self.divergent
        return self._finish(v)

    def _track_best(self, step: int, healthy: bool) -> None:
        key = self.best_by()
        value = self._mean(key, self.rows[-self.cfg.window:])
        if healthy and value is not None and (self.best is None or value >= self.best[1]):  # ties: the later
            self.best = (step, value)

    def _finish(self, v: Verdict) -> Verdict:
        if self.best is not None:
            v.best_step, v.best_value = self.best
        if v.stop:
            best = (f"The best checkpoint by {v.best_by} is step {v.best_step} ({v.best_by} {v.best_value:.3f})."
                    if v.best_step is not None else "No step was healthy enough to keep.")
            v.message = (f"reward hacking suspected at step {v.step}: " + "; ".join(v.reasons) +
                         f" for {v.divergent_steps} steps in a row. Stopping the run. " + best)
        return v
