"""Shared fixtures: a tiny offline model, the shared data folder, toy environments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One OpenMP thread per process: the models here are tiny, several tests start 2-process runs, and on a
# shared 2-core machine spinning OpenMP threads make torch several times slower (DEVELOPERS.md).
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


CHECKOUT = Path(__file__).resolve().parents[1]
OUTPUT_DIRS = ("runs", "evals")  # where the CLIs write by default: tests must write to tmp folders instead


def _outputs() -> set[str]:
    return {f"{d}/{p.name}" for d in OUTPUT_DIRS if (CHECKOUT / d).is_dir() for p in (CHECKOUT / d).iterdir()}


def pytest_configure(config):
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    config._outputs_before = _outputs()


def pytest_sessionfinish(session, exitstatus):
    """Fail the session when a test left a run or evaluation folder in the checkout."""
    left = sorted(_outputs() - getattr(session.config, "_outputs_before", set()))
    if left:
        print(f"\ntests left folders in the checkout (write to tmp_path instead): {', '.join(left)}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from tests.fixtures.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.exists():
        pytest.skip(f"shared data folder {path} is not present")
    return path


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    path = SHARED / "cases"
    if not path.exists():
        pytest.skip(f"shared cases folder {path} is not present")
    return path
