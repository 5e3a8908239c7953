"""The reward-hacking guard: the detector on synthetic curves (hacked, healthy, noisy, unstable), the text
signals, and the guard inside `python -m reasongym.train` (signals logged, stop, best/ kept, plot)."""

import json

import numpy as np
import pytest

from reasongym.agents.guard.detect import Detector, distinct2, rep3
from reasongym.config import GuardConfig
from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main
from tests.test_trainer import toy_args


def curve(n=30, hack_at=None, seed=0, noise=0.02, judge=False):
    """Synthetic per-step rows: the reward climbs slowly; from `hack_at` on it climbs fast while replies
    loop (rep3 up, distinct2 down, longer) and the judge falls."""
    rng = np.random.default_rng(seed)
    rows = []
    for step in range(1, n + 1):
        h = max(0, step - hack_at) if hack_at else 0
        row = {"step": step, "reward": 0.1 + 0.005 * step + 0.08 * h + rng.normal(0, noise), "reward_std": 0.1,
               "rep3": min(0.9, 0.05 + 0.06 * h) + rng.normal(0, noise), "distinct2": max(0.05, 0.8 - 0.06 * h),
               "completion_len": 60 + 12 * h + rng.normal(0, 3), "kl_ref": 0.01 * step}
        if judge:
            row["judge_score"] = 0.5 + 0.03 * min(step, hack_at or n) - 0.15 * h + rng.normal(0, noise)
            row["judge_std"] = 0.5
        rows.append(row)
    return rows


def run(rows, **cfg):
    det = Detector(GuardConfig(**cfg))
    return [det.update(r) for r in rows]


def test_hacked_curve_stops_soon_after_the_collapse_and_keeps_the_pre_collapse_step():
    verdicts = run(curve(hack_at=15, judge=True))
    stop = next(v for v in verdicts if v.stop)
    assert 17 <= stop.step <= 23, [(v.step, v.status) for v in verdicts]
    assert not any(v.stop for v in verdicts if v.step < stop.step)
    assert stop.best_by == "judge_score" and 13 <= stop.best_step <= 16
    assert "reward rose" in stop.message and "judge score fell" in stop.message
    assert f"best checkpoint by judge_score is step {stop.best_step}" in stop.message


def test_without_a_judge_the_best_is_the_reward_before_anything_collapsed():
    verdicts = run(curve(hack_at=15))
    stop = next(v for v in verdicts if v.stop)
    assert stop.best_by == "reward" and stop.best_step < stop.step - 2 and stop.best_step >= 12
    assert "reward rose" in stop.message and any(s in stop.message for s in ("rep3", "distinct2", "length"))


def test_healthy_and_noisy_runs_never_stop():
    for seed in range(10):
        verdicts = run(curve(n=40, seed=seed, noise=0.05))
        assert not any(v.status != "ok" for v in verdicts), [(v.step, v.reasons) for v in verdicts if v.reasons]
        assert verdicts[-1].best_step >= 30  # late in a steadily improving run


def test_collapse_without_a_reward_rise_is_a_warning_not_a_stop():
    rows = curve(hack_at=10)
    for r in rows:
        r["reward"] = 0.1  # the reward does not move: instability, not hacking
    verdicts = run(rows)
    assert not any(v.stop for v in verdicts) and any(v.status == "warn" for v in verdicts)


def test_patience_and_stop_flag():
    rows = curve(hack_at=15)
    late = next(v for v in run(rows, patience=6) if v.stop).step
    early = next(v for v in run(rows, patience=1) if v.stop).step
    assert early < late
    assert not any(v.stop for v in run(rows, stop=False))


def test_verified_accuracy_drop_counts_as_collapse():
    rows = [{"step": s, "reward": 0.1 * s, "reward_std": 0.2, "verified_accuracy": 0.4 if s < 12 else 0.05}
            for s in range(1, 25)]
    stop = next(v for v in run(rows) if v.stop)
    assert "verified accuracy fell" in stop.message and stop.best_by == "verified_accuracy"
    assert stop.best_step <= 12


def test_a_normalised_reward_hides_the_rise_so_the_detector_watches_the_raw_score():
    rows = curve(hack_at=15)
    for r in rows:  # what a group z-score logs: every step's mean reward is 0, its spread 1
        r["rm_score"], r["rm_score_std"], r["reward"], r["reward_std"] = r["reward"], r["reward_std"], 0.0, 1.0
    stop = next(v for v in run(rows) if v.stop)
    assert "raw reward-model score rose" in stop.message and 17 <= stop.step <= 23
    hidden = [{k: v for k, v in r.items() if not k.startswith("rm_score")} for r in rows]
    assert not any(v.stop for v in run(hidden))  # the z-scores alone never show a rise


def test_text_signals():
    assert rep3("the the the the the the the") > 0.7
    assert rep3("a quick brown fox jumps over the lazy dog") == 0.0
    assert rep3("hi") == 0.0
    assert distinct2(["great great great"] * 8) < 0.1
    assert distinct2(["a b c d", "e f g h"]) == 1.0
    assert rep3([5] * 20) > 0.8 and distinct2([[1, 2, 3], [1, 2, 3]]) == 0.5  # token ids


def test_guard_stops_a_training_run_keeps_best_and_writes_evidence(tiny_model_dir, tmp_path):
    # a KL budget of ~0 makes every updated step "collapse"; with no rise required the guard must stop
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=12", "eval_every=0", "save_every=2",
                                 "guard.enabled=true", "guard.max_kl=1e-12", "guard.min_reward_rise=-1000",
                                 "guard.patience=2", "guard.warmup=2", "guard.window=1", "plots=true"))
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo"]
    assert {"rep3", "distinct2", "kl_ref", "reward_std"} <= set(rows[0])
    assert len(rows) == 4  # warm-up 2 steps, then 2 divergent steps in a row
    summary = json.loads((folder / "summary.json").read_text())
    g = summary["guard"]
    assert g["stopped"] and g["stop_step"] == 4 and "KL to the reference" in g["message"]
    assert g["best_step"] in (1, 2) and (folder / "best" / "config.json").exists()
    assert json.loads((folder / "best" / "guard_best.json").read_text())["step"] == g["best_step"]
    assert (folder / "plots" / "guard.png").exists() and (folder / "guard.json").exists()


@pytest.mark.parametrize("enabled, expect", [("false", False), ("null", False), ("true", True)])
def test_guard_is_off_by_default_for_verifiable_rewards(tiny_model_dir, tmp_path, enabled, expect):
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", "eval_every=0", f"guard.enabled={enabled}"))
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo"]
    assert ("rep3" in rows[0]) == expect
