"""The run's time budget (time_budget_min): GRPO stops taking steps once one more step, the final
evaluation and the final save would not fit, and still ends like a finished run; a resumed run that ended
on its budget trains no further.

    python -m pytest -q tests/runs/test_time_budget.py      # ~1 min (tiny models)
"""

import json
from types import MethodType, SimpleNamespace

from reasongym.agents.grpo_stage import out_of_time
from reasongym.runs.log import read_jsonl
from reasongym.runs.run import Run
from reasongym.train import main as train_main
from tests.runs.test_resume import recipe


def fake_recipe(minutes_so_far: float, budget: float, eval_seconds: float | None, save_seconds: float = 10.0):
    run = SimpleNamespace(budget_min=budget, save_seconds=save_seconds, minutes=lambda: minutes_so_far,
                          _agree=lambda v: v)
    run.out_of_time = MethodType(Run.out_of_time, run)
    cfg = SimpleNamespace(eval_every=10)
    return SimpleNamespace(cfg=cfg, run=run, heldout=SimpleNamespace(tasks=[object()], seconds=eval_seconds))


def test_the_plan_takes_the_slowest_recent_step_the_last_evaluation_and_the_save():
    steps = [200.0, 60.0, 90.0, 60.0]  # the slowest of the last three is 90 s; the first one is forgotten
    # 90 + 100 (evaluation) + 10 (save) + 30 (final/, plots) = 230 s = 3.83 min
    assert not out_of_time(fake_recipe(30.0, 34.0, eval_seconds=100.0), steps)
    assert out_of_time(fake_recipe(30.3, 34.0, eval_seconds=100.0), steps)
    # no evaluation measured yet: planned as two steps (90 + 180 + 10 + 30 = 310 s = 5.17 min)
    assert out_of_time(fake_recipe(29.0, 34.0, eval_seconds=None), steps)
    assert not out_of_time(fake_recipe(28.8, 34.0, eval_seconds=None), steps)
    assert not out_of_time(fake_recipe(1e6, 0.0, eval_seconds=100.0), steps)  # 0: no budget


def test_a_run_out_of_time_ends_grpo_evaluated_and_saved_and_resume_trains_no_further(tiny_model_dir, tmp_path,
                                                                                      capsys):
    folder = train_main(recipe(tiny_model_dir, tmp_path, "name=short", "time_budget_min=0.001"))
    metrics = read_jsonl(folder / "metrics.jsonl")
    grpo = [r for r in metrics if r["phase"] == "grpo"]
    assert [(r["step"], "heldout_accuracy" in r) for r in grpo] == [(1, False), (1, True)]  # the step, its eval
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["out_of_time"] == {"step": 1, "steps": 8, "minutes": 0.001}
    assert summary["final_heldout_accuracy"] == grpo[-1]["heldout_accuracy"]
    assert (folder / "final" / "config.json").exists()
    state = json.loads((folder / "checkpoints" / "step-grpo-00001" / "state.json").read_text())
    assert state["out_of_time"] is True
    assert "GRPO ends after step 1/8" in capsys.readouterr().out

    train_main([f"resume={folder}"])
    assert read_jsonl(folder / "metrics.jsonl") == metrics  # nothing trained or evaluated again
    assert "ended GRPO at step 1/8 on its time budget" in capsys.readouterr().out
    assert json.loads((folder / "summary.json").read_text())["out_of_time"] == summary["out_of_time"]
