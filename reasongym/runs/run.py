"""Opening a run: accelerator, run folder, resume, seeding, checkpoint cadence, Ctrl-C. One copy, two users.

    cfg = load_resumed(cfg, TrainConfig)        # resume=runs/x: that run's config (checked, one-line errors)
    with open_run(cfg, prefix="math", stages=("sft", "grpo"), command="python -m reasongym.train") as run:
        run.state            # the newest complete checkpoint's state ({"stage", "step", ...}) or None
        run.latest           # its folder, to load weights / optimizer from
        ...                  # run.log, run.ckpts, run.due(step, total), run.save(...), run.check_stop(...)

Resume: the newest COMPLETE checkpoint (stage order, then step; `.tmp` leftovers ignored) decides where
the run continues; every JSONL file of the run is cut back to the row counts stored in that checkpoint,
so nothing is logged twice. A fresh run that fails before its first checkpoint or metric removes its
folder again. Ctrl-C: the first press finishes the current step, saves a checkpoint and stops with one
line that gives the resume command (`Stop`); a second press stops at once with the same line.
Used by reasongym/train.py and reasongym/rlhf/train.py; tests: tests/test_runs_run.py.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import broadcast_object_list, set_seed
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from reasongym.cli import ConfigError
from reasongym.runs.checkpoints import Checkpoints
from reasongym.runs.log import RunLog, next_run_dir


class Stop(Exception):
    """The user stopped the run (Ctrl-C); the message is one line with the resume command."""


def load_resumed(cfg, cls: type):
    """With resume=<folder>: that run's saved config (resume kept); one-line errors for a bad path."""
    if not cfg.resume:
        return cfg
    folder = Path(cfg.resume)
    if not folder.is_dir():
        raise ConfigError(f"resume={cfg.resume}: no such folder; pass a run folder, e.g. resume=runs/math-001")
    if not (folder / "config.yaml").exists():
        raise ConfigError(f"resume={cfg.resume}: no config.yaml there; is it a run folder (runs/<name>)?")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(cls), OmegaConf.load(folder / "config.yaml"))
        out = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"resume={cfg.resume}: its config.yaml does not fit this command "
                          f"({str(getattr(exc, 'msg', exc)).splitlines()[0]}); is it a run of another CLI?") from exc
    out.resume = str(folder)
    return out


def run_folder(cfg, prefix: str) -> Path:
    if cfg.resume:
        return Path(cfg.resume)
    return Path(cfg.run_dir) / cfg.name if cfg.name else next_run_dir(cfg.run_dir, prefix)


def accelerator() -> Accelerator:
    """accelerate without its own mixed precision: reasongym casts itself (`precision=`, lm/precision.py).
    accelerate's state is one per process, so another trainer run earlier in this process (TRL in a
    notebook) may have fixed it to bf16; that would silently change every number, so it is an error."""
    try:
        return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision="no")
    except ValueError as exc:
        raise ConfigError("accelerate was already set up in this process by another trainer "
                          f"({str(exc).splitlines()[0][:120]}); reasongym sets its own precision (precision=): "
                          "run it in a fresh Python process") from None


class Run:
    def __init__(self, cfg, *, prefix: str, stages: tuple[str, ...], command: str, config_yaml: str):
        self.acc = accelerator()
        self.main = self.acc.is_main_process
        self.folder = self._agree(run_folder(cfg, prefix))
        self.fresh, self.command = not cfg.resume, command
        self.log = RunLog(self.folder, enabled=self.main)
        self.ckpts = Checkpoints(self.acc, self.folder / "checkpoints", stages, cfg.keep_checkpoints)
        self.latest = self.ckpts.latest() if cfg.resume else None
        self.state = json.loads((self.latest / "state.json").read_text()) if self.latest else None
        if cfg.resume:  # every run file back to the checkpoint (all of it when there is none)
            self.log.truncate_to((self.state or {}).get("rows", {}))
        elif self.main:
            (self.folder / "config.yaml").write_text(config_yaml)
        set_seed(cfg.seed + self.acc.process_index)
        self.save_every, self.save_every_min = cfg.save_every, getattr(cfg, "save_every_min", 0.0)
        self.t0 = self.last_save = time.time()
        self.minutes0 = float((self.state or {}).get("minutes", 0.0))
        self.budget_min = float(getattr(cfg, "time_budget_min", 0.0))
        self.save_seconds = 0.0  # how long the last checkpoint took to write
        self.stop_requested = False

    # -- agreement between processes -----------------------------------------------------------------
    def _agree(self, value):
        if self.acc.num_processes == 1:
            return value
        box = [value]
        broadcast_object_list(box)
        return box[0]

    def say(self, line: str) -> None:
        self.acc.print(line)

    def minutes(self) -> float:
        """Wall-clock minutes of the run, over every session."""
        return self.minutes0 + (time.time() - self.t0) / 60

    def out_of_time(self, seconds_ahead: float) -> bool:
        """Would `seconds_ahead` more seconds take the run past its time budget? (all processes agree)"""
        return bool(self.budget_min) and bool(self._agree(self.minutes() + seconds_ahead / 60 > self.budget_min))

    def resume_hint(self) -> str:
        return f"{self.command} resume={self.folder}"

    # -- checkpoints ---------------------------------------------------------------------------------
    def due(self, step: int, total: int) -> bool:
        """Checkpoint now? Every save_every steps, at the end, every save_every_min minutes, or to stop."""
        timed = bool(self.save_every_min) and time.time() - self.last_save >= 60 * self.save_every_min
        return bool(self._agree(step % self.save_every == 0 or step == total or timed or self.stop_requested))

    def save(self, model, optimizer, scheduler, state: dict) -> Path:
        """Checkpoint with the run files' row counts and the run's minutes (so resume can cut back)."""
        state = {**state, "rows": self.log.counts(), "minutes": self.minutes()}
        t0 = time.time()
        folder = self.ckpts.save(model, optimizer, scheduler, state)
        self.last_save = time.time()
        self.save_seconds = self.last_save - t0
        return folder

    def check_stop(self, where: str) -> None:
        """After a step (and its checkpoint): raise Stop if Ctrl-C was pressed."""
        if self._agree(self.stop_requested):
            raise Stop(f"stopped at {where}, checkpoint saved; continue with: {self.resume_hint()}")

    # -- Ctrl-C and failed starts --------------------------------------------------------------------
    def _on_sigint(self, signum, frame) -> None:
        if self.stop_requested:
            raise Stop(f"stopped; continue from the last checkpoint with: {self.resume_hint()}")
        self.stop_requested = True
        self.acc.print("\nCtrl-C: finishing this step, then saving a checkpoint (press again to stop now)")

    def __enter__(self) -> Run:
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        if kind is None:
            return
        nothing_saved = self.ckpts.latest() is None
        if self.fresh and nothing_saved and not self.log.history and self.main:
            shutil.rmtree(self.folder, ignore_errors=True)  # a failed start leaves no folder behind
        if issubclass(kind, (KeyboardInterrupt, Stop)) and nothing_saved:
            raise Stop("stopped before the first checkpoint: nothing to resume, run the command again") from None
        if issubclass(kind, KeyboardInterrupt):
            raise Stop(f"stopped; continue from the last checkpoint with: {self.resume_hint()}") from None


def open_run(cfg, *, prefix: str, stages: tuple[str, ...] = ("",), command: str, config_yaml: str) -> Run:
    """Open (or resume) the run folder of `cfg`; use it as a context manager."""
    return Run(cfg, prefix=prefix, stages=stages, command=command, config_yaml=config_yaml)
