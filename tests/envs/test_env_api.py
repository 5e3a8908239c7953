"""Every registered environment is a real Gymnasium environment: check_env, make_vec, ids and aliases.

Environments that need a data file get one from KWARGS (helpers adding such environments extend it).

    python -m pytest -q tests/envs/test_env_api.py
"""

import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import reasongym
from reasongym.registry import ENVS
from tests.fixtures.tiny_rm import preference_env_kwargs

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
KWARGS: dict[str, dict] = {
    "reasongym/GSM8K-v0": {"path": str(DATA / "gsm8k_test.jsonl")},
    "reasongym/MATH500-v0": {"path": str(DATA / "math500_test.jsonl")},
    "reasongym/MathFile-v0": {"path": str(DATA / "math500_test.jsonl"), "fields": "math"},
    "reasongym/HumanEval-v0": {"path": str(DATA / "HumanEval.jsonl.gz")},
    "reasongym/MBPP-v0": {"path": str(DATA / "mbpp.jsonl")},
    "reasongym/Preference-v0": preference_env_kwargs(),  # a tiny untrained reward model and a prompt file
}
BUILT_IN = sorted(env_id for env_id, info in ENVS.items() if info.source == "reasongym")


@pytest.mark.parametrize("env_id", BUILT_IN)
def test_check_env_passes_for_every_registered_id(env_id):
    kwargs = KWARGS.get(env_id, {})
    if "path" in kwargs and not Path(kwargs["path"]).exists():
        pytest.skip(f"shared data not found: {kwargs['path']}")
    # the default configuration as registered, and the multi-turn one (feedback after a wrong answer)
    check_env(gymnasium.make(env_id, **kwargs).unwrapped)
    check_env(gymnasium.make(env_id, **{"max_turns": 2, **kwargs}).unwrapped)


def test_make_vec_batches_text_actions():
    envs = gymnasium.make_vec("reasongym/Math-v0", num_envs=2, difficulty=1)
    obs, infos = envs.reset(seed=0)
    assert isinstance(obs, tuple) and len(obs) == 2 and obs[0][-1]["role"] == "user"
    tasks = infos["task"]
    obs, reward, terminated, truncated, infos = envs.step((tasks[0].meta["solution"], "\\boxed{no}"))
    assert list(reward) == [1.0, 0.0] and list(terminated) == [True, True] and list(truncated) == [False, False]
    assert list(infos["rewards"]["correct"]) == [1.0, 0.0]  # vector infos: a batch per key
    obs, reward, *_ = envs.step(("ignored", "ignored"))  # next-step autoreset: fresh episodes, reward 0
    assert list(reward) == [0.0, 0.0]
    envs.close()


def test_aliases_take_default_kwargs_and_explicit_ones_win():
    assert reasongym.make("math-heldout").unwrapped.tasks.split == "heldout"
    assert reasongym.make("math-heldout", split="train").unwrapped.tasks.split == "train"
    assert reasongym.make("arithmetic").unwrapped.kinds == ("arithmetic",)


@pytest.mark.parametrize("typo, suggestion", [("reasongym/Math-v1", "reasongym/Math-v0"), ("gsm8", "gsm8k"),
                                              ("reasongym/MATH-500-v0", "reasongym/MATH500-v0")])
def test_mistyped_id_suggests_close_names(typo, suggestion):
    with pytest.raises(gymnasium.error.NameNotFound, match=f"Did you mean: .*{suggestion}"):
        reasongym.make(typo)


def test_the_env_table_lists_the_math_envs():
    out = subprocess.run([sys.executable, "-m", "reasongym.envs"], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "250"})
    for name in ("reasongym/Math-v0", "reasongym/GSM8K-v0", "reasongym/MATH500-v0", "math-heldout", "arithmetic"):
        assert name in out.stdout
