"""Another package adds an environment through the `reasongym.envs` entry-point group, without touching
reasongym: a tiny package is written and installed (pip --target, into a temporary folder) inside the
test, and a fresh interpreter makes its environment after `import reasongym`.

    python -m pytest -q tests/test_plugins.py
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

PYPROJECT = """
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-countdown"
version = "0.1.0"

[project.entry-points."reasongym.envs"]
"acme/Countdown-v0" = "acme_countdown.envs:Countdown"
"""

ENVS = '''
"""A toy plugin environment: reach a target by adding two numbers."""
import numpy as np

from reasongym.core import Task
from reasongym.envs.math import MathEnv
from reasongym.envs.tasks import ProceduralTaskSet


def countdown(rng: np.random.Generator, difficulty: int) -> Task:
    a, b = (int(x) for x in rng.integers(1, 10 * difficulty, size=2))
    return Task.create(f"Add {a} and {b}. Put the final answer in \\\\boxed{{}}.", str(a + b), split_key=f"{a},{b}")


class Countdown(MathEnv):
    def __init__(self, difficulty: int = 1, **kwargs):
        super().__init__(difficulty=difficulty, **kwargs)
        self.tasks = ProceduralTaskSet(countdown, difficulty=difficulty, name="countdown")
'''

CHECK = """
import gymnasium, reasongym
from reasongym.registry import ENVS
env = gymnasium.make("acme/Countdown-v0", difficulty=2)
obs, info = env.reset(seed=0)
task = info["task"]
_, reward, terminated, _, _ = env.step("\\\\boxed{%s}" % task.answer)
print(ENVS["acme/Countdown-v0"].source, obs[-1]["content"].split(".")[0], reward, terminated)
"""


def test_entry_point_plugin_is_registered_on_import(tmp_path: Path):
    pkg = tmp_path / "src"
    (pkg / "acme_countdown").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    (pkg / "acme_countdown" / "__init__.py").write_text("")
    (pkg / "acme_countdown" / "envs.py").write_text(textwrap.dedent(ENVS))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(pkg)], check=True, capture_output=True)
    assert (site / "acme_countdown" / "envs.py").exists()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    words = out.stdout.split()
    assert words[:2] == ["acme-countdown", "Add"] and words[-2:] == ["1.0", "True"], out.stdout
    # Without the package on the path the id is unknown, and the error suggests close names.
    out = subprocess.run([sys.executable, "-c", "import reasongym; reasongym.make('acme/Countdown-v0')"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "No environment or alias named 'acme/Countdown-v0'" in out.stderr
