"""Sharpening bound: how high can GRPO lift a policy's greedy accuracy if it only makes reliable what the
policy already samples?

    python -m reasongym.evaluate policy=runs/cs32/final env=math-heldout samples=16 temperature=1.3 \
        top_p=1.0 limit=200 max_new_tokens=128 precision=fp32 out=evals/passk-cs32-t13
    python benchmarks/sharpening_bound.py evals/passk-cs32-t13 --json benchmarks/results/sharpening_bound_cs32.json

GRPO with a binary reward learns from groups that hold a right and a wrong answer, so within a short run it
mostly moves probability onto answers the policy already writes. A task counts as reachable when the policy
got it right greedily or in at least one of its k samples (at the training temperature). The bound is the
share of reachable tasks: greedy accuracy after GRPO above it needs answers the policy never produced in
k tries, i.e. new skill rather than sharpening. Reads the evaluate folder (results.json and samples.jsonl;
one environment; --policy picks one of several policies), rebuilds the task list to group the tasks by
`meta["kind"]`, prints a table and writes it as JSON (--json).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from reasongym.evaluation.samples import SampleStore
from reasongym.evaluation.suites import load_suite
from reasongym.runs.progress import wilson


def bound(folder: Path, policy: str = "") -> dict:
    """Per kind and overall: tasks, greedy right, reachable (greedy or >= 1 of k samples right), for `policy`
    (may be left out when the evaluation has one policy)."""
    doc = json.loads((folder / "results.json").read_text())
    cfg = doc["config"]
    if len(doc["envs"]) != 1:
        raise ValueError(f"{folder / 'results.json'}: {len(doc['envs'])} environments ({', '.join(doc['envs'])}); "
                         "evaluate one environment per folder for this bound")
    policies = list(doc.get("policies") or [])
    if not policies:
        raise ValueError(f"{folder / 'results.json'} names no policy: is it a reasongym.evaluate results.json?")
    if not policy:
        if len(policies) > 1:
            raise ValueError(f"{folder / 'results.json'} holds {len(policies)} policies ({', '.join(policies)}): "
                             "name one with --policy")
        policy = policies[0]
    elif policy not in policies:
        raise ValueError(f"--policy {policy!r} is not in {folder / 'results.json'} ({', '.join(policies)})")
    if not cfg.get("samples"):
        raise ValueError(f"{folder / 'results.json'}: samples=0, so nothing beyond greedy to count; "
                         "evaluate with samples=16 (at the training temperature)")
    (env_name, env_doc), = doc["envs"].items()
    suite = load_suite(env_name, env_doc["kwargs"], limit=cfg["limit"], task_seed=cfg["task_seed"])
    kind = {t.id: str(t.meta.get("kind", "(no kind)")) for t in suite.tasks}
    by_task = SampleStore(folder / "samples.jsonl").by_task(policy, env_name)  # one row per key, as evaluate reads it
    greedy = {t: bool(modes["greedy"][0]["correct"]) for t, modes in by_task.items() if modes.get("greedy")}
    hits = {t: sum(bool(r["correct"]) for r in modes.get("sample", [])) for t, modes in by_task.items()}
    missing = [t for t in kind if t not in greedy] if cfg.get("greedy", True) else []
    if missing:
        raise ValueError(f"{folder / 'samples.jsonl'}: no greedy completion for {len(missing)} of {len(kind)} tasks "
                         "(an unfinished evaluation: run the same evaluate command again to finish it)")
    rows: dict[str, dict] = defaultdict(lambda: {"tasks": 0, "greedy": 0, "reachable": 0, "sampled_only": 0})
    for task_id, k in kind.items():
        for key in (k, "all"):
            r = rows[key]
            r["tasks"] += 1
            right = greedy.get(task_id, False)  # greedy=false evaluations: samples only
            r["greedy"] += right
            r["reachable"] += right or hits.get(task_id, 0) > 0
            r["sampled_only"] += (not right) and hits.get(task_id, 0) > 0
    for r in rows.values():
        r["bound_pct"] = round(100 * r["reachable"] / r["tasks"], 1)
        r["bound_interval"] = [round(100 * x, 1) for x in wilson(r["reachable"] / r["tasks"], r["tasks"])]
    return {"evaluation": cfg.get("out", str(folder)), "policy": policy, "command": doc["command"],
            "samples": cfg["samples"], "temperature": cfg["temperature"], "by_kind": dict(sorted(rows.items()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a reasongym.evaluate output folder with samples > 0")
    ap.add_argument("--policy", default="", help="which policy, when the evaluation holds several")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    report = bound(args.folder, args.policy)
    print(f"{'kind':<12} {'tasks':>5} {'greedy':>6} {'sampled only':>12} {'bound':>20}")
    for name, r in report["by_kind"].items():
        lo, hi = r["bound_interval"]
        print(f"{name:<12} {r['tasks']:>5} {r['greedy']:>6} {r['sampled_only']:>12} "
              f"{r['bound_pct']:>6.1f}% [{lo}, {hi}]")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
