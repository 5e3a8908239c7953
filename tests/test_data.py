"""The shipped benchmark data and the one data-file lookup (`reasongym.data`), as a new user meets them.

    OMP_NUM_THREADS=1 python -m pytest -q tests/test_data.py      # ~40 s (a wheel build, a sandbox run)
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reasongym.data import PACKAGE_DATA, SHIPPED, data_dirs, data_file

ROOT = Path(__file__).resolve().parents[1]
NEEDS_USER_INPUT = {"reasongym/MathFile-v0", "reasongym/Preference-v0"}  # the generic file env, the RM env


def test_lookup_order(tmp_path, monkeypatch):
    mine, shared = tmp_path / "mine", tmp_path / "shared"
    mine.mkdir(), shared.mkdir()
    monkeypatch.delenv("REASONGYM_DATA", raising=False)
    monkeypatch.setenv("REASONGYM_SHARED_DATA", str(shared))
    assert data_file("mbpp.jsonl") == PACKAGE_DATA / "mbpp.jsonl.gz"          # the shipped copy
    (shared / "only_shared.jsonl").write_text("{}\n")
    assert data_file("only_shared.jsonl") == shared / "only_shared.jsonl"     # then ../shared/data
    (mine / "mbpp.jsonl").write_text("{}\n")
    monkeypatch.setenv("REASONGYM_DATA", str(mine))
    assert data_dirs()[0] == mine and data_file("mbpp.jsonl") == mine / "mbpp.jsonl"   # the user's folder
    explicit = tmp_path / "x.jsonl"
    explicit.write_text("{}\n")
    assert data_file("mbpp.jsonl", explicit) == explicit                      # an explicit path wins
    with pytest.raises(FileNotFoundError, match="nope.jsonl: no such file"):
        data_file("mbpp.jsonl", tmp_path / "nope.jsonl")
    with pytest.raises(FileNotFoundError, match="REASONGYM_DATA"):
        data_file("gsm8k_train.jsonl")


def test_shipped_files_match_sources_md():
    """Every shipped file decompresses to the bytes SOURCES.md records (sha256, row count)."""
    table = (PACKAGE_DATA / "SOURCES.md").read_text()
    assert (PACKAGE_DATA / "LICENSES.md").is_file()
    for name in SHIPPED:
        path = data_file(name)
        assert path.parent == PACKAGE_DATA, f"{name} resolved to {path}, not the package copy"
        row = next(line for line in table.splitlines() if line.startswith(f"| {path.name} |"))
        rows, raw_sha, shipped_sha = (re.split(r"\s*\|\s*", row)[i] for i in (2, 5, 6))
        raw = gzip.decompress(path.read_bytes())
        assert hashlib.sha256(raw).hexdigest() == raw_sha, f"{path}: decompressed bytes differ from SOURCES.md"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped_sha, f"{path}: sha256 differs"
        assert sum(1 for line in raw.splitlines() if line.strip()) == int(rows)
        json.loads(raw.splitlines()[0])


CLEAN_USER = r"""
import json, sys, gymnasium as gym, reasongym
from reasongym.registry import ENVS
skip = set(json.loads(sys.argv[1]))
done = {}
for env_id, info in sorted(ENVS.items()):
    if env_id in skip or info.source != "reasongym":
        continue
    if env_id == "reasongym/ReasoningGym-v0":
        import importlib.util
        if importlib.util.find_spec("reasoning_gym") is None:
            continue
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    _, reward, terminated, truncated, _ = env.step("I think it is \\boxed{0}\n```python\nx = 0\n```")
    assert isinstance(obs, list) and obs and isinstance(reward, float), env_id
    done[env_id] = [len(env.unwrapped.tasks) if hasattr(env.unwrapped.tasks, "__len__") else None, reward]
    env.close()
print(json.dumps(done))
"""


def test_every_builtin_id_works_without_arguments_for_a_clean_user(tmp_path):
    """cwd=/tmp-like folder, no REASONGYM_DATA, no ../shared: gym.make(id) with no arguments, reset, step."""
    env = {k: v for k, v in os.environ.items() if k != "REASONGYM_DATA"}
    env.update(REASONGYM_SHARED_DATA=str(tmp_path / "no-shared"), PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CLEAN_USER, json.dumps(sorted(NEEDS_USER_INPUT))], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    done = json.loads(out.stdout.strip().splitlines()[-1])
    for env_id, n in {"reasongym/GSM8K-v0": 1319, "reasongym/MATH500-v0": 500, "reasongym/HumanEval-v0": 164,
                      "reasongym/MBPP-v0": 374}.items():
        assert done[env_id][0] == n, (env_id, done[env_id])
    assert {"reasongym/Math-v0", "reasongym/Code-v0"} <= set(done)


def test_wheel_carries_the_data(tmp_path):
    """`pip wheel .` carries the data files, SOURCES.md and LICENSES.md, and they serve gym.make from the wheel."""
    src = tmp_path / "src"   # a copy, so the build leaves no build/ or egg-info in the checkout
    shutil.copytree(ROOT / "reasongym", src / "reasongym", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0 and "No module named" in out.stderr:
        pytest.skip(f"cannot build a wheel here: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("reasongym-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (*[data_file(n).name for n in SHIPPED], "SOURCES.md", "LICENSES.md"):
        assert f"reasongym/datasets/{name}" in names, f"{wheel.name} lacks reasongym/datasets/{name}"

    # the wheel alone (no checkout, no ../shared): its data serves gym.make without arguments
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = "\n".join([
        "import sys, gymnasium as gym, reasongym",
        "site = sys.argv[1]",
        "assert reasongym.__file__.startswith(site), reasongym.__file__",
        "for name in ('GSM8K', 'MATH500', 'HumanEval', 'MBPP'):",
        "    env = gym.make(f'reasongym/{name}-v0')",
        "    env.reset(seed=0)",
        "    assert str(env.unwrapped.task.meta['source']).startswith(site), env.unwrapped.task.meta['source']",
    ])
    env = {k: v for k, v in os.environ.items() if k not in ("REASONGYM_DATA", "REASONGYM_SHARED_DATA")}
    run = subprocess.run([sys.executable, "-c", code, str(site)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**env, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
