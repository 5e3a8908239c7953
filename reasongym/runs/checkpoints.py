"""Checkpoints that survive SIGKILL: trainable weights, optimizer, scheduler, every process's RNG, state.

    ckpts = Checkpoints(acc, Path("runs/math-001/checkpoints"), stages=("sft", "grpo"), keep=2)
    ckpts.save(model, optimizer, scheduler, {"stage": "grpo", "step": 12})   # step-grpo-00012/
    latest = ckpts.latest()           # the newest COMPLETE checkpoint, by stage order then step
    state = load_checkpoint(acc, latest, model, optimizer, scheduler)

A checkpoint is written to `<name>.tmp`, every file fsynced, then renamed into place and the folder
fsynced, so a kill mid-save leaves a `.tmp` that `latest()` ignores (and the next save removes) and the
previous checkpoint whole. "Newest" is decided by the stage's position in `stages` and the step number,
never by mtime, so pruning (`keep` newest) never deletes a checkpoint of a later stage. Only trainable
parameters are stored (a LoRA adapter, or all weights when all train). Used by the GRPO recipe
(reasongym/train.py) and the reward-model trainer (reasongym/rlhf/train.py); tests: tests/runs/test_checkpoints.py.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from torch import nn


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(acc: Accelerator, folder: Path, model: nn.Module, optimizer, scheduler, state: dict) -> None:
    """Write a checkpoint atomically: <folder>.tmp, fsync every file, rename, fsync the parent."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    acc.wait_for_everyone()
    torch.save(rng_state(), tmp / f"rng_{acc.process_index}.pt")
    _fsync(tmp / f"rng_{acc.process_index}.pt")
    if acc.is_main_process:
        torch.save(trainable_state(model), tmp / "model.pt")
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "state.json").write_text(json.dumps(state, indent=1))  # written last: marks it complete
        for f in ("model.pt", "optimizer.pt", "scheduler.pt", "state.json"):
            _fsync(tmp / f)
    acc.wait_for_everyone()
    if acc.is_main_process:
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        _fsync(folder.parent)
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


class Checkpoints:
    """The checkpoints/ folder of a run: names, atomic saves, the newest complete one, pruning.

    Names are step-<stage>-<step:05d> (or step-<step:05d> with the single stage ""); `stages` gives their
    order, so a GRPO checkpoint is newer than any cold-start one whatever the clock says."""

    def __init__(self, acc: Accelerator, root: Path, stages: tuple[str, ...] = ("",), keep: int = 2):
        self.acc, self.root, self.stages, self.keep = acc, Path(root), tuple(stages), max(1, keep)

    def path(self, stage: str, step: int) -> Path:
        return self.root / (f"step-{stage}-{step:05d}" if stage else f"step-{step:05d}")

    def _key(self, path: Path) -> tuple[int, int] | None:
        m = re.fullmatch(r"step-(?:([a-z]+)-)?(\d+)", path.name)
        stage = (m.group(1) or "") if m else None
        if stage not in self.stages or not (path / "state.json").exists():
            return None  # a .tmp left by a kill, a foreign folder, or an incomplete write
        return self.stages.index(stage), int(m.group(2))

    def complete(self) -> list[Path]:
        """Every complete checkpoint, oldest first (by stage order, then step)."""
        found = [(k, p) for p in self.root.glob("step-*") if (k := self._key(p)) is not None]
        return [p for _, p in sorted(found)]

    def latest(self) -> Path | None:
        done = self.complete()
        return done[-1] if done else None

    def save(self, model: nn.Module, optimizer, scheduler, state: dict) -> Path:
        """Save (on every process: they synchronise) and prune; state needs "step" (and "stage")."""
        folder = self.path(state.get("stage", ""), state["step"])
        save_checkpoint(self.acc, folder, model, optimizer, scheduler, state)
        if self.acc.is_main_process:
            self.prune()
        return folder

    def prune(self) -> None:
        """Keep the `keep` newest complete checkpoints; remove older ones and stale .tmp folders."""
        for p in self.complete()[:-self.keep]:
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob("step-*.tmp"):
            shutil.rmtree(p, ignore_errors=True)


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
