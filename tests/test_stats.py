"""Evaluation statistics against hand-computed values, and the paired tests' error rates on simulated data."""

from math import comb

import numpy as np
import pytest

from reasongym.stats import (
    compare,
    estimate,
    maj_at_k,
    mcnemar_p,
    pass_at_k,
    pass_ks,
    sign_flip_p,
)


def test_pass_at_k_matches_hand_computed_values():
    # n=5 samples, c=2 correct: P(a k-subset has a correct one) = 1 - C(3,k)/C(5,k)
    assert pass_at_k(5, 2, 1) == pytest.approx(2 / 5)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)
    assert pass_at_k(5, 2, 3) == pytest.approx(1 - 1 / 10)
    assert pass_at_k(5, 2, 4) == 1.0  # only 3 wrong samples: any 4 include a right one
    assert pass_at_k(16, 4, 8) == pytest.approx(1 - 495 / 12870)
    assert pass_at_k(16, 0, 16) == 0.0
    assert pass_at_k(16, 16, 1) == 1.0


def test_pass_at_k_equals_the_combinatorial_formula_everywhere():
    for n in range(1, 21):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - comb(n - c, k) / comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12), (n, c, k)


def test_pass_at_k_is_unbiased_for_the_true_rate():
    # true per-sample success 0.3: pass@4 = 1 - 0.7^4. Averaging the estimator over many 16-sample draws
    # must land on it (the naive "any of the first 4" also would, but with more variance).
    rng = np.random.default_rng(0)
    draws = [pass_at_k(16, int(rng.binomial(16, 0.3)), 4) for _ in range(20000)]
    assert np.mean(draws) == pytest.approx(1 - 0.7 ** 4, abs=0.005)


def test_pass_at_k_rejects_impossible_arguments():
    with pytest.raises(ValueError, match="k <= n"):
        pass_at_k(4, 1, 8)
    with pytest.raises(ValueError, match="c <= n"):
        pass_at_k(4, 5, 1)


def test_maj_at_k_matches_hand_computed_values():
    assert maj_at_k(["12", "12", "7", None], [True, True, False, False]) == 1.0
    assert maj_at_k(["7", "7", "12"], [False, False, True]) == 0.0  # pass@3 would be 1, the vote is wrong
    assert maj_at_k(["7", "7", "12", "12"], [False, False, True, True]) == 0.5  # a tie: expected value
    assert maj_at_k(["7", "12", "9"], [False, True, False]) == pytest.approx(1 / 3)
    assert maj_at_k([None, None], [False, False]) == 0.0  # no answers, no vote
    assert maj_at_k([None, None, None, "5"], [False, False, False, True]) == 1.0  # silence does not vote
    with pytest.raises(ValueError):
        maj_at_k(["1"], [True, False])


def test_pass_ks():
    assert pass_ks(16) == [1, 2, 4, 8, 16]
    assert pass_ks(6) == [1, 2, 4, 6]
    assert pass_ks(1) == [1]


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_more_tasks():
    small = estimate([1, 0] * 10, seed=0)
    large = estimate([1, 0] * 500, seed=0)
    assert small.mean == large.mean == 0.5
    assert small.lo < 0.5 < small.hi and large.lo < 0.5 < large.hi
    assert (large.hi - large.lo) < (small.hi - small.lo) / 4
    # a binomial proportion's 95% interval at n=1000, p=0.5 is about +-3.1 points
    assert large.hi - large.lo == pytest.approx(0.062, abs=0.008)
    assert estimate([1, 1, 1]).lo == 1.0
    assert estimate([]).n == 0


def test_mcnemar_exact_p_values():
    assert mcnemar_p(0, 10) == pytest.approx(2 / 1024)
    assert mcnemar_p(1, 9) == pytest.approx(2 * 11 / 1024)
    assert mcnemar_p(5, 5) == 1.0
    assert mcnemar_p(0, 0) == 1.0


def test_sign_flip_on_no_difference_is_one():
    assert sign_flip_p([0, 0, 0]) == 1.0
    assert sign_flip_p([0.5] * 30) < 0.001


@pytest.mark.parametrize("binary", [True, False])
def test_paired_test_finds_a_real_difference_and_not_a_null_one(binary):
    """Simulated pairs of policies on 150 tasks: a 15-point gain is found almost always; with no gain the
    test fires at about its 5% level. Task difficulty is shared by both policies (that is the pairing)."""
    rng = np.random.default_rng(1)
    found_real = found_null = 0
    trials = 60
    for _ in range(trials):
        difficulty = rng.uniform(0.1, 0.9, size=150)  # per-task solve rate of policy a

        def scores(shift, difficulty=difficulty):
            p = np.clip(difficulty + shift, 0, 1)
            return (rng.random(150) < p).astype(float) if binary else rng.binomial(8, p) / 8

        a = scores(0.0)
        found_real += compare(a, scores(0.15), binary=binary, resamples=500).significant
        found_null += compare(a, scores(0.0), binary=binary, resamples=500).significant
    assert found_real >= 0.9 * trials
    assert found_null <= 0.15 * trials


def test_comparison_statement_names_the_winner():
    a = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0] * 10, dtype=float)
    b = np.ones_like(a)
    c = compare(a, b, names=("base", "rl"), metric="greedy", binary=True)
    assert c.significant and c.diff == pytest.approx(0.8) and c.lo > 0.6
    assert c.statement.startswith("rl beats base by 80.0 points")
    assert (c.a_only, c.b_only) == (0, 80)
    same = compare(a, a, names=("x", "y"), binary=True)
    assert not same.significant and same.p == 1.0 and "no significant difference" in same.statement
    with pytest.raises(ValueError, match="same tasks"):
        compare(a, b[:5])
