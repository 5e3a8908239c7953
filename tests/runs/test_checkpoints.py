"""The run machinery's parts without a model: checkpoints (atomic, latest by stage order, pruning), JSONL
logs cut back to a checkpoint (torn last lines), run names, ETA and intervals, plots.

    python -m pytest -q tests/runs/test_checkpoints.py      # a few seconds
"""

import json
import os
import time

import pytest
import torch
from accelerate import Accelerator

from reasongym.cli import ConfigError, check_name
from reasongym.runs.checkpoints import Checkpoints, load_checkpoint
from reasongym.runs.log import RunLog, next_run_dir, read_jsonl
from reasongym.runs.optim import lr_lambda
from reasongym.runs.plots import plot_run
from reasongym.runs.progress import accuracy_line, eta_seconds, wilson


@pytest.fixture(scope="module")
def parts():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(0, 10, "constant"))
    return Accelerator(cpu=True), model, opt, sched


def test_latest_goes_by_stage_then_step_not_by_clock(tmp_path, parts):
    acc, model, opt, sched = parts
    ck = Checkpoints(acc, tmp_path, stages=("sft", "grpo"), keep=10)
    for stage, step in (("grpo", 2), ("grpo", 4), ("sft", 8)):  # the cold-start one written last
        ck.save(model, opt, sched, {"stage": stage, "step": step})
    os.utime(tmp_path / "step-grpo-00004", (0, 0))  # an old mtime must not matter
    assert ck.latest().name == "step-grpo-00004"
    assert [p.name for p in ck.complete()] == ["step-sft-00008", "step-grpo-00002", "step-grpo-00004"]


def test_pruning_never_drops_a_later_stage(tmp_path, parts):
    acc, model, opt, sched = parts
    ck = Checkpoints(acc, tmp_path, stages=("sft", "grpo"), keep=2)
    for stage, step in (("sft", 4), ("grpo", 0), ("grpo", 2), ("sft", 8)):
        ck.save(model, opt, sched, {"stage": stage, "step": step})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-grpo-00000", "step-grpo-00002"]


def test_a_partial_tmp_is_ignored_and_cleared(tmp_path, parts):
    acc, model, opt, sched = parts
    ck = Checkpoints(acc, tmp_path, stages=("sft", "grpo"), keep=2)
    ck.save(model, opt, sched, {"stage": "grpo", "step": 2})
    tmp = tmp_path / "step-grpo-00004.tmp"  # what a kill in the middle of a save leaves
    tmp.mkdir()
    (tmp / "model.pt").write_bytes(b"\x80partial")
    (tmp_path / "step-grpo-00006").mkdir()  # a folder without state.json is not complete either
    assert ck.latest().name == "step-grpo-00002"
    state = load_checkpoint(acc, ck.latest(), model, opt, sched)
    assert state["step"] == 2
    ck.save(model, opt, sched, {"stage": "grpo", "step": 4})
    assert not tmp.exists() and ck.latest().name == "step-grpo-00004"


def test_single_stage_names_stay_short(tmp_path, parts):
    acc, model, opt, sched = parts
    ck = Checkpoints(acc, tmp_path, keep=1)
    ck.save(model, opt, sched, {"step": 5})
    ck.save(model, opt, sched, {"step": 10})
    assert [p.name for p in tmp_path.iterdir()] == ["step-00010"]


def test_logs_are_cut_back_to_a_checkpoint_and_survive_a_torn_line(tmp_path):
    log = RunLog(tmp_path)
    for step in range(3):
        log.metrics({"step": step})
    log.samples([{"s": 1}, {"s": 2}])
    counts = log.counts()
    assert counts == {"metrics.jsonl": 3, "samples.jsonl": 2}
    log.metrics({"step": 3})
    log.append("train_tasks.jsonl", [{"id": "x"}])
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "rew')  # killed mid-write
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [0, 1, 2, 3]
    log.truncate_to(counts)
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [0, 1, 2]
    assert (tmp_path / "metrics.jsonl").read_text().endswith("}\n")
    assert read_jsonl(tmp_path / "train_tasks.jsonl") == []  # born after the checkpoint: emptied
    assert [r["step"] for r in RunLog(tmp_path).history] == [0, 1, 2]
    (tmp_path / "bad.jsonl").write_text('{"a": 1}\nnot json\n{"a": 2}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2: not valid JSON"):
        read_jsonl(tmp_path / "bad.jsonl")


def test_run_names_stay_inside_run_dir(tmp_path):
    for bad in ("../../x", "/etc", "a/b", "..", ".hidden", "a b"):
        with pytest.raises(ConfigError, match="run name is one folder name"):
            check_name(bad)
    check_name("math-001")
    (tmp_path / "math-002").mkdir()
    assert next_run_dir(tmp_path, "math").name == "math-003"


def test_eta_from_the_mean_step_and_wilson_intervals():
    assert eta_seconds(0, 60, 100.0) is None
    assert eta_seconds(2, 60, 200.0) == pytest.approx(5800.0)  # 58 steps x 100 s, after two steps
    lo, hi = wilson(0.365, 200)
    assert lo == pytest.approx(0.301, abs=2e-3) and hi == pytest.approx(0.434, abs=2e-3)
    assert wilson(0.0, 4)[0] == 0.0 and wilson(0.5, 0) == (0.5, 0.5)
    line = accuracy_line("at GRPO step 10", 0.365, 200, since=0.085)
    assert "36.5% [95% CI 30.1, 43.4] on 200 tasks (+28.0 points since the cold start)" in line


def test_plots_exist_from_the_first_evaluation_and_keep_stages_apart(tmp_path):
    rows = [{"phase": "base", "step": 0, "heldout_accuracy": 0.04, "eval_tasks": 200, "minutes": 4.0}]
    assert {p.name for p in plot_run(rows, tmp_path)} == {"heldout.png"}
    rows += [{"phase": "sft", "step": s, "loss": 2.0 / s, "minutes": 4 + s} for s in (1, 2)]
    rows += [{"phase": "grpo", "step": s, "reward": 0.1 * s, "accuracy": 0.1, "kl": 0.0, "minutes": 8 + s}
             for s in (1, 2, 3)]
    names = {p.name for p in plot_run(rows, tmp_path)}
    assert {"heldout.png", "training.png"} <= names
    assert time.time() - (tmp_path / "training.png").stat().st_mtime < 60
    json.dumps(rows)  # rows are plain JSON


def test_time_cadence_and_a_failed_start_leaves_no_folder(tmp_path):
    from types import SimpleNamespace

    from reasongym.runs.run import open_run

    cfg = SimpleNamespace(resume="", run_dir=str(tmp_path), name="timed", keep_checkpoints=2, seed=0,
                          save_every=100, save_every_min=0.02)
    with open_run(cfg, prefix="x", command="python -m x", config_yaml="a: 1\n") as run:
        assert not run.due(1, 10)  # not yet 1.2 s since the run opened
        time.sleep(1.3)
        assert run.due(2, 10) and run.due(100, 1000) and run.due(10, 10)
        run.save_every_min = 0
        assert not run.due(3, 10)
    assert (tmp_path / "timed" / "config.yaml").exists()
    cfg.name = "broken"
    with pytest.raises(RuntimeError, match="model failed"):
        with open_run(cfg, prefix="x", command="python -m x", config_yaml="a: 1\n"):
            raise RuntimeError("model failed to load")
    assert not (tmp_path / "broken").exists()


def test_a_run_refuses_accelerate_state_that_another_trainer_fixed_in_this_process():
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    from reasongym.cli import ConfigError
    from reasongym.runs.run import accelerator

    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        Accelerator(cpu=True, mixed_precision="bf16")  # what TRL's trainer leaves behind
        with pytest.raises(ConfigError, match="fresh Python process"):
            accelerator()
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    assert accelerator().mixed_precision == "no"
