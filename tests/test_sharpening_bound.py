"""benchmarks/sharpening_bound.py: a task is reachable when greedy or any sample got it right, counted by kind."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from reasongym.evaluation.suites import HELDOUT_SEED, load_suite

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sharpening_bound.py"


def load_script():
    spec = importlib.util.spec_from_file_location("sharpening_bound", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_eval(folder: Path, rows: list[dict], limit: int, samples: int = 2) -> None:
    folder.mkdir()
    doc = {"command": "python -m reasongym.evaluate ...", "envs": {"math-heldout": {"kwargs": {"split": "heldout"}}},
           "policies": {p: {} for p in dict.fromkeys(r["policy"] for r in rows)},
           "config": {"limit": limit, "task_seed": HELDOUT_SEED, "samples": samples, "temperature": 1.3}}
    (folder / "results.json").write_text(json.dumps(doc))
    rows = [{"env": "math-heldout", "sample": 0, **r} for r in rows]
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_reachable_counts_greedy_or_any_sample(tmp_path):
    tasks = load_suite("math-heldout", limit=4).tasks
    right = {  # task index -> (greedy, sample 0, sample 1)
        0: (True, False, False), 1: (False, False, True), 2: (False, False, False), 3: (True, True, True)}
    modes = (("greedy", 0), ("sample", 0), ("sample", 1))
    rows = [{"policy": "a", "task_id": tasks[i].id, "mode": mode, "sample": n, "correct": flags[j]}
            for i, flags in right.items() for j, (mode, n) in enumerate(modes)]
    rows += [{**r, "policy": "b", "correct": True} for r in rows]  # a second policy that gets everything right
    write_eval(tmp_path / "eval", rows, limit=4)
    script = load_script()
    with pytest.raises(ValueError, match="holds 2 policies"):
        script.bound(tmp_path / "eval")
    assert script.bound(tmp_path / "eval", "b")["by_kind"]["all"]["bound_pct"] == 100.0
    report = script.bound(tmp_path / "eval", "a")
    every = report["by_kind"]["all"]
    assert (every["tasks"], every["greedy"], every["reachable"], every["sampled_only"]) == (4, 2, 3, 1)
    assert every["bound_pct"] == 75.0
    kinds = [str(t.meta["kind"]) for t in tasks]
    assert sum(report["by_kind"][k]["tasks"] for k in set(kinds)) == 4


def test_an_unfinished_evaluation_is_named(tmp_path):
    tasks = load_suite("math-heldout", limit=2).tasks
    write_eval(tmp_path / "eval", [{"policy": "a", "task_id": tasks[0].id, "mode": "greedy", "correct": True}], limit=2)
    with pytest.raises(ValueError, match="no greedy completion for 1 of 2 tasks"):
        load_script().bound(tmp_path / "eval")


def test_a_greedy_only_evaluation_is_refused(tmp_path):
    tasks = load_suite("math-heldout", limit=1).tasks
    write_eval(tmp_path / "eval", [{"policy": "a", "task_id": tasks[0].id, "mode": "greedy", "correct": True}],
               limit=1, samples=0)
    with pytest.raises(ValueError, match="samples=0"):
        load_script().bound(tmp_path / "eval")
