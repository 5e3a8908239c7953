"""Checkpoints that survive SIGKILL: trainable weights, optimizer, scheduler, every process's RNG, state.

    save_checkpoint(acc, folder, model, optimizer, scheduler, {"stage": "grpo", "step": 12})
    state = load_checkpoint(acc, folder, model, optimizer, scheduler)

Written to `<folder>.tmp` and renamed into place, so a kill mid-save leaves the previous checkpoint whole.
Only trainable parameters are stored (a LoRA adapter, or all weights when all train). Used by the GRPO
learner and by the reward-model trainer.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(acc: Accelerator, folder: Path, model: nn.Module, optimizer, scheduler, state: dict) -> None:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    acc.wait_for_everyone()
    torch.save(rng_state(), tmp / f"rng_{acc.process_index}.pt")
    if acc.is_main_process:
        torch.save(trainable_state(model), tmp / "model.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "state.json").write_text(json.dumps(state, indent=1))
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    acc.wait_for_everyone()


def load_checkpoint(acc: Accelerator, folder: Path, model: nn.Module, optimizer=None, scheduler=None) -> dict:
    """Restore weights (and, when given, optimizer, scheduler and this process's RNG); return the state."""
    folder = Path(folder)
    weights = torch.load(folder / "model.pt", map_location="cpu")
    missing = [n for n, p in model.named_parameters() if p.requires_grad and n not in weights]
    if missing:
        raise ValueError(f"checkpoint {folder} does not match the model: missing {missing[:3]} "
                         "(was it saved with a different model or LoRA rank?)")
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n in weights:
                p.copy_(weights[n])
    if optimizer is not None:
        optimizer.load_state_dict(torch.load(folder / "optimizer.pt", map_location="cpu"))
        if scheduler is not None:
            scheduler.load_state_dict(torch.load(folder / "scheduler.pt", map_location="cpu"))
        rng = folder / f"rng_{acc.process_index}.pt"
        if rng.exists():
            set_rng_state(torch.load(rng, weights_only=False))
    return json.loads((folder / "state.json").read_text())


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
