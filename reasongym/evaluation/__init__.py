"""The parts of `python -m reasongym.evaluate` (reasongym/evaluate.py reads top to bottom and uses them).

    suites.py         which tasks each environment is scored on (bundled data files, fixed subsets)
    policies.py       what a `policy=` entry means and loading it (HF, run folders, checkpoints, oracle, HTTP)
    contamination.py  held-out integrity: evaluation tasks against the policy's training record
    samples.py        samples.jsonl rows (typed verdicts: answer, vote by the env's verifier, status), resume
    scoring.py        per-task scores -> means with intervals, breakdowns, pairwise comparisons
                      (the statistics themselves: reasongym/stats.py, shared with the reward-model report)
    report.py         results.json, leaderboard.md, console output, settings.json
    plot.py           leaderboard.png
"""
