"""The contracts and registration: ids, aliases, typo suggestions, and import direction."""

import subprocess
import sys

import gymnasium
import pytest

import reasongym
from reasongym.core import Task, content_hash


def test_task_id_is_a_stable_content_hash():
    a = Task.create("What is 2+2?", "4", difficulty=1)
    b = Task.create("What is 2+2?", "4", difficulty=3)
    assert a.id == b.id == content_hash([{"role": "user", "content": "What is 2+2?"}], "4")
    assert Task.create("What is 2+3?", "5").id != a.id


def test_alias_resolves_with_default_kwargs():
    assert reasongym.resolve("math") == ("reasongym/Math-v0", {})
    assert reasongym.resolve("math-heldout") == ("reasongym/Math-v0", {"split": "heldout"})


def test_mistyped_id_suggests_close_names():
    with pytest.raises(gymnasium.error.NameNotFound, match="Did you mean: .*math"):
        reasongym.make("mathh")


def test_alias_clash_is_an_error():
    reasongym.register("test/Clash-v0", entry_point="reasongym.envs.base:TextEnv", alias="clash-test")
    with pytest.raises(ValueError, match="already points to"):
        reasongym.register("test/Other-v0", entry_point="reasongym.envs.base:TextEnv", alias="clash-test")


def test_importing_envs_does_not_load_torch():
    code = "import reasongym, reasongym.envs, sys; assert 'torch' not in sys.modules, 'torch loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
