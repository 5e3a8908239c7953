"""Compute precision, in one place for the policy, the learner, the guard and the reward model.

    precision = resolve_precision("auto", device)    # bf16 where the hardware is fast at it, else fp32
    with autocast(device, precision): ...             # bf16 autocast, or nothing for fp32

`auto` picks bf16 on CUDA with bf16 and on CPUs with AVX512-BF16/AMX; elsewhere bf16 is emulated and
slower than fp32, so fp32. Master weights stay fp32 either way (see agents/policies/hf.py for LoRA).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

PRECISIONS = ("auto", "bf16", "fp32")


def bf16_supported(device: torch.device | str = "cpu") -> bool:
    """Whether bf16 matmuls are fast here (CUDA with bf16, or a CPU with AVX512-BF16/AMX)."""
    if torch.device(device).type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(precision: str, device: torch.device | str = "cpu") -> str:
    """'auto' -> bf16 or fp32 for this device; bf16 and fp32 stay; anything else is an error naming it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if bf16_supported(device) else "fp32"


def autocast(device: torch.device | str, precision: str):
    """bf16 autocast when precision is 'bf16', a no-op for 'fp32'."""
    dev = torch.device(device).type
    return torch.autocast(dev, dtype=torch.bfloat16) if precision == "bf16" else nullcontext()
