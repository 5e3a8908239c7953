"""Shared fixtures: a tiny offline model, the shared data folder, toy environments."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


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
