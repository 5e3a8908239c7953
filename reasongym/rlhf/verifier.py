"""The verifier of a learned reward: Verdict.reward is the reward model's score of (prompt, reply).

Preference-v0 (reasongym/envs/preference.py) scores every reply with it; the two reward components are
`rm` (the score, optionally z-scored with the statistics the model had on held-out human replies) and
`correct` (an optional inner verifier's reward, reported even at weight 0 for the reward-hacking guard).
The raw score is always in `info["rm_score"]`: the guard watches it rise.

    judge = RewardModelVerifier("runs/rm-001/final", verifier=MathVerifier())
    judge.verify(task, "the reply")        # Verdict(reward=score, correct=inner's, answer/feedback/status: inner's)

    python -m pytest -q tests/envs/test_preference.py
"""

from __future__ import annotations

import warnings

from reasongym.core import Task, Verdict, Verifier
from reasongym.rlhf.scorer import NORMALIZE, SharedScorer


class RewardModelVerifier(Verifier):
    """Verdict.reward = the (normalised) reward-model score; correct = the optional verifier's verdict."""

    learned = True  # the reward-hacking guard is on by default for learned rewards

    def __init__(self, rm: str, *, normalize: str = "none", verifier: Verifier | None = None,
                 device: str = "cpu", precision: str = "fp32", batch_size: int = 32):
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
        if normalize == "group":
            warnings.warn("Preference-v0 normalize='group' is deprecated and now means 'none': GRPO's advantage "
                          "already normalises each group's rewards in the learner, and the reward-hacking guard "
                          "needs the raw score. Drop env.normalize=group.", FutureWarning, stacklevel=3)
            normalize = "none"
        self.scorer = SharedScorer.get(rm, device, precision, batch_size=batch_size)
        self.normalize, self.inner = normalize, verifier

    def verify(self, task: Task, completion: str) -> Verdict:
        try:
            raw = value = self.scorer.score(task.prompt, completion)
        except Exception as exc:  # a reward path never raises: reward 0, counted as a harness error
            return Verdict(reward=0.0, correct=False, status="harness_error",
                           info={"rm_score": None, "rm": 0.0, "error": f"{type(exc).__name__}: {exc}"[:300]})
        if self.normalize == "dataset":
            stats = self.scorer.stats
            if not stats.get("std"):
                raise ValueError(f"{self.scorer.folder}: reward_model.json has no score statistics for "
                                 "normalize='dataset'; use normalize='none'")
            value = (raw - stats["mean"]) / stats["std"]
        info = {"rm_score": raw, "rm": value}
        if self.inner is None:
            return Verdict(reward=value, correct=False, info=info)
        inner = self.inner.verify(task, completion)
        info["verifier"], info["verifier_reward"] = inner.info, inner.reward
        return Verdict(reward=value, correct=inner.correct, info=info, answer=inner.answer,
                       feedback=inner.feedback, status=inner.status)


def rm_component(task: Task, completion: str, verdict: Verdict) -> float:
    return float(verdict.info["rm"])


def correct_component(task: Task, completion: str, verdict: Verdict) -> float:
    return float(verdict.info.get("verifier_reward", 0.0))
