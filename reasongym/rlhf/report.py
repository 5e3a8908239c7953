"""The held-out report of a reward model: pairwise accuracy with an interval, sign test, length baselines.

    report = pairwise_report(rankings, scores)     # scores: every response of every ranking, in order
    print(describe(report))

Shared by `python -m reasongym.reward eval` (reasongym/reward.py) and the end of training
(reasongym/rlhf/train.py); it lives here so that neither imports the other.
"""

from __future__ import annotations

import statistics

from reasongym.stats import compare, estimate, mcnemar_p


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
