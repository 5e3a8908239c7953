"""The parts of `python -m reasongym.evaluate` (reasongym/evaluate.py reads top to bottom and uses them).

    suites.py         which tasks each environment is scored on (bundled data files, fixed subsets)
    policies.py       what a `policy=` entry means and loading it (HF, run folders, checkpoints, oracle, HTTP)
    contamination.py  held-out integrity: evaluation tasks against the policy's training record
    samples.py        samples.jsonl rows, majority-vote keys, and resuming from the file
    metrics.py        pass@k, maj@k, bootstrap intervals, McNemar and sign-flip paired tests (numpy only)
    scoring.py        per-task scores -> means with intervals, breakdowns, pairwise comparisons
    report.py         results.json, leaderboard.md, console output, settings.json
    plot.py           leaderboard.png
"""
