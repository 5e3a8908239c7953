"""Statistics of evaluations and reward-model reports: pass@k, maj@k, bootstrap, paired tests (numpy only).

Every estimate is a mean over *tasks* of a per-task score, and every interval resamples tasks (the unit
that was drawn from the benchmark), never individual samples: 16 samples of one task are not 16
independent observations.

    pass_at_k(n=16, c=4, k=8)                  # unbiased estimator of Chen et al. (2021): 0.962
    maj_at_k(["12", "12", "7", None], [True, True, False, False])   # 1.0: the plurality answer is right
    estimate([1, 0, 1, 1])                     # Estimate(mean=0.75, lo=..., hi=..., n=4)
    compare(a_scores, b_scores, binary=True)   # b - a with a paired-bootstrap interval and McNemar's p

References: pass@k (Chen et al., "Evaluating Large Language Models Trained on Code", 2021, eq. 1 and its
numerically stable product form); pass@1 averaged over k samples at temperature 0.6 / top-p 0.95, and
majority voting over the k final answers (maj@k, which the DeepSeek-R1 paper writes cons@k), as in the
DeepSeek-R1 paper; the exact McNemar test is a two-sided binomial test on the discordant pairs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples, drawn without replacement from n with c correct, is right.

    1 - C(n-c, k) / C(n, k), computed as a product so that large n does not overflow.
    """
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n, got k={k} with n={n} samples")
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def maj_at_k(votes: Sequence[str | None], correct: Sequence[bool]) -> float:
    """Expected correctness of the most frequent answer among k samples (majority vote, maj@k).

    votes: each sample's normalised final answer, None when it gave none (it does not vote).
    correct: each sample's verdict; all samples with the same answer share one verdict.
    Ties between answers are broken uniformly at random, so a 2-2 tie of a right and a wrong answer
    scores 0.5 (an expectation, not a coin flip). No answer at all scores 0.
    """
    if len(votes) != len(correct):
        raise ValueError(f"maj_at_k: {len(votes)} votes but {len(correct)} verdicts")
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return 0.0
    top = max(counts.values())
    winners = [v for v, c in counts.items() if c == top]
    right = {v: any(ok for vv, ok in zip(votes, correct) if vv == v) for v in winners}
    return sum(right.values()) / len(winners)


def pass_ks(n: int) -> list[int]:
    """The k's worth reporting for n samples: 1, 2, 4, ... up to n, and n itself."""
    ks = [k for k in (2 ** i for i in range(0, 12)) if k <= n]
    return ks + ([n] if n and n not in ks else [])


@dataclass(frozen=True)
class Estimate:
    """A mean over n tasks and its bootstrap confidence interval [lo, hi]."""

    mean: float
    lo: float
    hi: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def fmt(self, scale: float = 100.0, digits: int = 1) -> str:
        """'42.0 [35.1, 49.0]' (percent by default)."""
        return f"{self.mean * scale:.{digits}f} [{self.lo * scale:.{digits}f}, {self.hi * scale:.{digits}f}]"


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, 20240521]))


def estimate(values: Sequence[float], *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
             confidence: float = CONFIDENCE) -> Estimate:
    """Mean of per-task values with a percentile-bootstrap interval over tasks."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    idx = _rng(seed).integers(0, x.size, size=(resamples, x.size))
    means = x[idx].mean(axis=1)
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(means, [tail, 1 - tail])
    return Estimate(float(x.mean()), float(lo), float(hi), int(x.size))


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts (a right & b wrong, a wrong & b right)."""
    m = a_only + b_only
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(0, min(a_only, b_only) + 1)) / 2 ** m
    return min(1.0, 2 * tail)


def sign_flip_p(diffs: Sequence[float], *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> float:
    """Two-sided paired permutation test: under 'no difference' each task's difference is as likely to
    have the opposite sign, so flip signs at random and count means at least as extreme as the observed."""
    d = np.asarray(diffs, dtype=float)
    if d.size == 0 or not np.any(d):
        return 1.0
    signs = _rng(seed + 1).choice([-1.0, 1.0], size=(resamples, d.size))
    null = np.abs((signs * d).mean(axis=1))
    return float((1 + np.sum(null >= abs(d.mean()) - 1e-12)) / (resamples + 1))


@dataclass(frozen=True)
class Comparison:
    """b - a on the same tasks: the difference, its paired-bootstrap interval, a p-value and the verdict."""

    a: str
    b: str
    metric: str
    n: int
    a_mean: float
    b_mean: float
    diff: float
    lo: float
    hi: float
    p: float
    test: str
    a_only: int | None = None  # binary metrics: tasks a solved and b did not
    b_only: int | None = None

    @property
    def significant(self) -> bool:
        return self.p < 1 - CONFIDENCE and (self.lo > 0 or self.hi < 0)

    @property
    def statement(self) -> str:
        if not self.significant:
            return f"no significant difference between {self.b} and {self.a} (p={self.p:.3g})"
        winner, loser = (self.b, self.a) if self.diff > 0 else (self.a, self.b)
        return f"{winner} beats {loser} by {abs(self.diff) * 100:.1f} points (p={self.p:.3g})"

    def as_dict(self) -> dict:
        return {**asdict(self), "significant": self.significant, "statement": self.statement}


def compare(a: Sequence[float], b: Sequence[float], *, names: tuple[str, str] = ("a", "b"), metric: str = "",
            binary: bool = False, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> Comparison:
    """Paired comparison of two policies' per-task scores (same tasks, same order).

    The interval of b - a comes from resampling tasks (both policies together: the pairing is kept).
    binary=True (per-task 0/1, e.g. greedy accuracy): exact McNemar p-value; otherwise (per-task means
    such as pass@1 over k samples): a sign-flip permutation p-value.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"compare: {names[0]} has {x.size} task scores but {names[1]} has {y.size}; "
                         "pair them on the same tasks")
    d = y - x
    ci = estimate(d, seed=seed, resamples=resamples)
    if binary:
        a_only, b_only = int(np.sum((x > 0.5) & (y < 0.5))), int(np.sum((x < 0.5) & (y > 0.5)))
        return Comparison(names[0], names[1], metric, int(d.size), float(x.mean()), float(y.mean()),
                          ci.mean, ci.lo, ci.hi, mcnemar_p(a_only, b_only), "McNemar exact", a_only, b_only)
    return Comparison(names[0], names[1], metric, int(d.size), float(x.mean()), float(y.mean()), ci.mean,
                      ci.lo, ci.hi, sign_flip_p(d, seed=seed, resamples=resamples), "paired sign-flip")
