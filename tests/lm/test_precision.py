"""lm/precision.py: one resolution of `precision=` for the policy, the learner and the reward model.

    python -m pytest -q tests/lm/test_precision.py
"""

import pytest
import torch

from reasongym.lm.precision import autocast, bf16_supported, resolve_precision


def test_auto_picks_by_hardware_and_explicit_values_stay():
    assert resolve_precision("auto") == ("bf16" if bf16_supported("cpu") else "fp32")
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    with pytest.raises(ValueError, match="precision must be one of auto, bf16, fp32, got 'fp8'"):
        resolve_precision("fp8")


def test_autocast_is_bf16_or_nothing():
    a = torch.ones(2, 2)
    with autocast("cpu", "fp32"):
        assert (a @ a).dtype == torch.float32
    with autocast("cpu", "bf16"):
        assert (a @ a).dtype == torch.bfloat16
