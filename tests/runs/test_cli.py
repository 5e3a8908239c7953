"""Every user mistake of the CLIs is one line, before any model loads, with no run folder left behind.

In-process calls check each bad value (rejected in < 5 s, nothing created); subprocesses check that the
real command prints one line on stderr, exits 2 and shows no traceback; `--help` of sft is sft's.

    python -m pytest -q tests/runs/test_cli.py      # ~1 min on 2 busy cores (subprocess start-up)
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import gymnasium
import pytest

from reasongym.cli import ConfigError
from reasongym.evaluate import main as evaluate_main
from reasongym.reward import main as reward_main
from reasongym.sft import main as sft_main
from reasongym.train import main as train_main

ROOT = Path(__file__).resolve().parents[2]
TOY = "env=tests.fixtures.toy_env:reasongym-test/Lowercase-v0"
TRAIN_MISTAKES = [
    (["agent.group_size=0"], "agent.group_size=0: must be >= 2"),
    (["agent.group_size=1"], "agent.group_size=1: must be >= 2"),
    (["agent.mu=0"], "agent.mu=0: must be >= 1"),
    (["save_every=0"], "save_every=0: must be >= 1"),
    (["steps=-5"], "steps=-5: must be >= 1"),
    (["precision=fp8"], "precision='fp8': use one of auto, bf16, fp32"),
    (["agent.lr=0"], "agent.lr=0.0: must be > 0"),
    (["agent.loss_norm=mean"], "agent.loss_norm='mean'"),
    (["save_every_min=-1"], "save_every_min=-1.0: must be >= 0"),
    (["name=../../x"], "name='../../x': a run name is one folder name"),
    (["resume=/no/such/run"], "resume=/no/such/run: no such folder"),
    (["model=./no-such-folder"], "model=./no-such-folder: no such folder"),
    (["env.bogus=1"], "cannot be made"),
    (["env=humaneval", "env.path=/no/such.jsonl"], "/no/such.jsonl: no such file"),
]


def no_folder_after(tmp_path, call, argv, match):
    t0 = time.time()
    with pytest.raises((ConfigError, gymnasium.error.Error), match=match.replace("(", r"\(").replace(")", r"\)")):
        call(argv)
    assert time.time() - t0 < 5, f"{argv}: took {time.time() - t0:.1f} s to reject"
    assert not any(tmp_path.iterdir()), f"{argv} left {list(tmp_path.iterdir())}"


@pytest.mark.parametrize(("extra", "match"), TRAIN_MISTAKES, ids=[" ".join(e) for e, _ in TRAIN_MISTAKES])
def test_train_rejects_each_mistake_at_once_and_makes_no_folder(tiny_model_dir, tmp_path, extra, match):
    runs = tmp_path / "runs"
    runs.mkdir()
    argv = [f"model={tiny_model_dir}", TOY, f"run_dir={runs}", *extra]
    no_folder_after(runs, train_main, argv, match)


def test_resume_of_a_folder_that_is_no_run(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.yaml there"):
        train_main([f"resume={tmp_path / 'empty'}"])


def test_unknown_env_and_offline_hub_names(tmp_path, monkeypatch):
    no_folder_after(tmp_path, train_main, ["env=nosuch", f"run_dir={tmp_path}"], "nosuch")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    no_folder_after(tmp_path, train_main, [TOY, "model=nosuchorg/nosuchmodel", f"run_dir={tmp_path}"],
                    "not in the local Hugging Face cache and HF_HUB_OFFLINE is set")


def test_sft_evaluate_and_reward_reject_mistakes(tiny_model_dir, tmp_path):
    no_folder_after(tmp_path, sft_main, [TOY, "sft.steps=0", f"run_dir={tmp_path}"], "sft.steps=0: must be >= 1")
    no_folder_after(tmp_path, evaluate_main, ["near_duplicate=5", f"out={tmp_path / 'e'}"],
                    "near_duplicate=5.0: a similarity in (0, 1]")
    no_folder_after(tmp_path, evaluate_main, ["batch_size=0"], "batch_size=0: must be >= 1")
    data = tmp_path.parent / f"{tmp_path.name}-pairs.jsonl"
    data.write_text("".join(f'{{"prompt": "p{i}", "chosen": "a", "rejected": "b"}}\n' for i in range(40)))
    for argv, match in ((["lr=0"], "lr=0.0: must be > 0"), (["name=a/b"], "run name is one folder"),
                        (["base=./nowhere"], "base=./nowhere: no such folder"), (["precision=fp8"], "precision")):
        no_folder_after(tmp_path, reward_main, ["train", f"data={data}", f"run_dir={tmp_path}", *argv], match)
    no_folder_after(tmp_path, reward_main, ["eval", f"rm={tmp_path / 'x'}", f"data={data}"], "not a saved reward model")


def cli(*args, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("args", [
    ("reasongym.train", TOY, "agent.group_size=1"),
    ("reasongym.sft", "model=./no-such-folder"),
    ("reasongym.evaluate", "near_duplicate=5"),
    ("reasongym.reward", "train", "data=/no/such.jsonl"),
], ids=["train", "sft", "evaluate", "reward"])
def test_each_cli_says_one_line_and_no_traceback(tmp_path, args):
    res = cli(*args, f"{'out' if 'evaluate' in args[0] else 'run_dir'}={tmp_path / 'x'}")
    assert res.returncode == 2, res.stderr[-2000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("reasongym.")]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert not (tmp_path / "x").exists()


def test_sft_help_is_sfts_and_common_keys_come_first():
    res = cli("reasongym.sft", "--help")
    assert res.returncode == 0 and "cold start alone" in res.stdout and "GRPO training of" not in res.stdout
    res = cli("reasongym.train", "--help")
    first = res.stdout.index("common keys:")
    for key in ("model=", "env.name=", "steps=", "name=", "resume="):
        assert res.stdout.index(f"  {key}", first) < res.stdout.index("all other keys:"), key
