"""Shared fixtures: a tiny offline model, the shared data folder, toy environments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One OpenMP thread per process: the models here are tiny, several tests start 2-process runs, and on a
# shared 2-core machine spinning OpenMP threads make torch several times slower (DEVELOPERS.md).
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_configure(config):
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from tests.tiny_model import build_tiny_model

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
