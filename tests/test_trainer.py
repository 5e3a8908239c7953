"""The learner end to end on tiny models: reward rises, N processes = 1 process, kill -9 and resume."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main

ROOT = Path(__file__).resolve().parents[1]
TOY = "env=tests.fixtures.toy_env:reasongym-test/Lowercase-v0"


def toy_args(model_dir, run_dir, *extra):
    return [f"model={model_dir}", TOY, "sft.steps=0", "agent.max_new_tokens=8", "agent.lr=1e-2",
            "agent.prompts_per_step=4", "agent.group_size=8", "precision=fp32", f"run_dir={run_dir}",
            "plots=false", "eval_tasks=4", "agent.pay_cut_off=true", *extra]  # 8-token replies are all cut off


def grpo_rewards(folder: Path) -> list[float]:
    return [r["reward"] for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo" and "reward" in r]


def test_reward_rises_on_a_toy_environment(tiny_model_dir, tmp_path):
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=24", "eval_every=12", "save_every=100"))
    rewards = grpo_rewards(folder)
    assert len(rewards) == 24
    first, last = sum(rewards[:4]) / 4, sum(rewards[-4:]) / 4
    assert first < 0.45, f"the random tiny model should start low, got {first:.2f}"
    assert last > first + 0.3, f"reward did not rise: {first:.2f} -> {last:.2f}"
    metrics = read_jsonl(folder / "metrics.jsonl")
    assert {"zero_var_frac", "kl", "clip_frac", "entropy", "completion_len", "step_time"} <= set(metrics[1])
    assert (folder / "final" / "config.json").exists() and (folder / "config.yaml").exists()
    assert read_jsonl(folder / "train_tasks.jsonl") and read_jsonl(folder / "samples.jsonl")


def _run(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_two_processes_give_the_same_update_as_one(tiny_model_dir, tmp_path):
    script = str(ROOT / "tests" / "fixtures" / "dist_update.py")
    one = _run([sys.executable, script, str(tiny_model_dir), str(tmp_path / "one.pt")])
    assert one.returncode == 0, one.stderr[-2000:]
    two = _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", script,
                str(tiny_model_dir), str(tmp_path / "two.pt")])
    assert two.returncode == 0, two.stderr[-2000:]
    a, b = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    for sa, sb in zip(a["stats"], b["stats"]):
        assert sa["grad_norm"] == pytest.approx(sb["grad_norm"], rel=1e-4)
        assert sa["tokens"] == sb["tokens"]
    # Adam turns float noise in near-zero gradients into +-lr steps, so compare the update as a whole
    cos = torch.nn.functional.cosine_similarity(a["delta"], b["delta"], dim=0)
    assert cos > 0.99 and a["delta"].norm() > 0


def test_cli_runs_under_two_processes(tiny_model_dir, tmp_path):
    res = _run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m",
                "reasongym.train", *toy_args(tiny_model_dir, tmp_path, "steps=2", "eval_every=2", "name=dist")])
    assert res.returncode == 0, res.stderr[-3000:]
    metrics = read_jsonl(tmp_path / "dist" / "metrics.jsonl")
    assert [r["step"] for r in metrics if "reward" in r] == [1, 2]
    assert len(read_jsonl(tmp_path / "dist" / "train_tasks.jsonl")) == 2 * 4  # both processes' groups


def test_sigkill_then_resume_continues_the_same_curve(tiny_model_dir, tmp_path):
    common = toy_args(tiny_model_dir, tmp_path, "steps=10", "save_every=2", "eval_every=0", "seed=3",
                      "agent.replay=2")  # the signal replay's buffer is part of what a checkpoint restores
    ref = _run([sys.executable, "-m", "reasongym.train", *common, "name=straight"])
    assert ref.returncode == 0, ref.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "reasongym.train", *common, "name=killed"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path / "killed" / "metrics.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if len([r for r in read_jsonl(metrics) if "reward" in r]) >= 5:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(f"the run ended before it could be killed (rc {proc.returncode})")
    assert not (tmp_path / "killed" / "summary.json").exists()
    resumed = _run([sys.executable, "-m", "reasongym.train", f"resume={tmp_path / 'killed'}"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert re.search(r"resuming GRPO at step \d+/10 from .*step-grpo-", resumed.stdout + resumed.stderr)
    straight, killed = grpo_rewards(tmp_path / "straight"), grpo_rewards(tmp_path / "killed")
    assert len(killed) == 10
    assert killed == pytest.approx(straight, abs=1e-6)
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_help_lists_every_field_with_its_doc():
    res = _run([sys.executable, "-m", "reasongym.train", "--help"])
    assert res.returncode == 0
    for key in ("agent.group_size", "agent.beta", "sft.steps", "model=", "resume="):
        assert key in res.stdout
    assert "samples per task" in res.stdout.lower() or "completions sampled per task" in res.stdout


def test_summary_is_json(tiny_model_dir, tmp_path):
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", "eval_every=1"))
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["final_heldout_accuracy"] is not None and summary["config"]["steps"] == 1
