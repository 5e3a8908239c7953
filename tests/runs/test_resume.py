"""Resume of the default recipe (cold start, then GRPO with several checkpoints) after SIGKILL, and Ctrl-C.

A run killed after its second GRPO checkpoint, or inside a checkpoint write, continues from the newest
complete checkpoint: no cold start, no evaluation repeated, no duplicate row in any run file, and the same
curve as an uninterrupted run. Ctrl-C saves and prints one line with the resume command.

    python -m pytest -q tests/runs/test_resume.py      # ~2-3 min on 2 busy cores (tiny models)
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main

ROOT = Path(__file__).resolve().parents[2]
TOY = "env=tests.fixtures.toy_env:reasongym-test/Lowercase-v0"
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def recipe(model_dir, run_dir, *extra):
    """The default recipe's shape: a cold start, then GRPO with checkpoints and held-out evaluations."""
    return [f"model={model_dir}", TOY, "sft.steps=2", "sft.batch_size=4", "steps=8", "save_every=2",
            "eval_every=4", "eval_tasks=4", "keep_checkpoints=2", "agent.max_new_tokens=8", "agent.lr=1e-2",
            "agent.prompts_per_step=4", "agent.group_size=4", "precision=fp32", f"run_dir={run_dir}",
            "plots=false", "seed=3", *extra]


def run(*args, **kw):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=600, **kw)


def rows(folder: Path, name: str) -> list[dict]:
    return read_jsonl(folder / name)


@pytest.fixture(scope="module")
def straight(tiny_model_dir, tmp_path_factory):
    return train_main(recipe(tiny_model_dir, tmp_path_factory.mktemp("straight"), "name=straight"))


def assert_same_run(killed: Path, straight: Path) -> None:
    metrics, ref = rows(killed, "metrics.jsonl"), rows(straight, "metrics.jsonl")
    key = [(r["phase"], r["step"], "heldout_accuracy" in r) for r in metrics]
    assert key == [(r["phase"], r["step"], "heldout_accuracy" in r) for r in ref]  # nothing twice, nothing lost
    assert len(set(key)) == len(key)
    grpo = [r["reward"] for r in metrics if r["phase"] == "grpo" and "reward" in r]
    assert grpo == pytest.approx([r["reward"] for r in ref if r["phase"] == "grpo" and "reward" in r], abs=1e-6)
    for name in ("samples.jsonl", "train_tasks.jsonl"):
        assert rows(killed, name) == rows(straight, name), f"{name} differs from the uninterrupted run"
    assert sorted(p.name for p in (killed / "checkpoints").iterdir()) == ["step-grpo-00006", "step-grpo-00008"]
    assert (killed / "final" / "config.json").exists() and (killed / "summary.json").exists()


def test_sigkill_after_the_second_grpo_checkpoint_resumes_there(tiny_model_dir, tmp_path, straight):
    killed = run("-m", "tests.fixtures.kill", "after-step=5", *recipe(tiny_model_dir, tmp_path, "name=killed"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert "resum" not in killed.stdout + killed.stderr  # a fresh run does not claim to resume
    folder = tmp_path / "killed"
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["step-grpo-00002", "step-grpo-00004"]
    resumed = run("-m", "reasongym.train", f"resume={folder}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    screen = resumed.stdout + resumed.stderr
    assert f"resuming GRPO at step 5/8 from {folder}/checkpoints/step-grpo-00004" in screen
    assert "base policy:" not in screen and "after the cold start:" not in screen and "cold start ━" not in screen
    assert "held-out accuracy at GRPO step 8" in screen and "best GRPO" in screen
    assert_same_run(folder, straight)


def test_sigkill_inside_a_checkpoint_write_resumes_from_the_one_before(tiny_model_dir, tmp_path, straight):
    killed = run("-m", "tests.fixtures.kill", "mid-save=step-grpo-00006", *recipe(tiny_model_dir, tmp_path, "name=k"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    folder = tmp_path / "k"
    assert (folder / "checkpoints" / "step-grpo-00006.tmp" / "model.pt").exists()
    with open(folder / "metrics.jsonl", "a") as f:
        f.write('{"phase": "grpo", "step": 7, "rew')  # and a torn last line, as a kill mid-write leaves
    resumed = run("-m", "reasongym.train", f"resume={folder}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming GRPO at step 5/8" in resumed.stdout + resumed.stderr
    assert_same_run(folder, straight)


def test_ctrl_c_saves_and_prints_the_resume_command(tiny_model_dir, tmp_path, straight):
    args = recipe(tiny_model_dir, tmp_path, "name=stopped", "save_every=100")
    proc = subprocess.Popen([sys.executable, "-m", "reasongym.train", *args], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics, deadline = tmp_path / "stopped" / "metrics.jsonl", time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if any(r.get("phase") == "grpo" and r.get("step") == 2 for r in read_jsonl(metrics)):
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.05)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [line for line in err.splitlines() if "resume=" in line]
    assert len(lines) == 1 and f"python -m reasongym.train resume={tmp_path / 'stopped'}" in lines[0]
    saved = sorted(p.name for p in (tmp_path / "stopped" / "checkpoints").iterdir())
    assert saved[-1] >= "step-grpo-00002", saved  # saved on the way out (save_every=100 would not have)
    assert f"stopped at GRPO step {int(saved[-1][-5:])}/8, checkpoint saved" in lines[0]
    resumed = run("-m", "reasongym.train", f"resume={tmp_path / 'stopped'}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    grpo = [r["reward"] for r in rows(tmp_path / "stopped", "metrics.jsonl") if r["phase"] == "grpo" and "reward" in r]
    ref = [r["reward"] for r in rows(straight, "metrics.jsonl") if r["phase"] == "grpo" and "reward" in r]
    assert grpo == pytest.approx(ref, abs=1e-6)
