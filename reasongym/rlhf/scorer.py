"""Reward-model scoring for environments: one shared model per process, batched across concurrent steps.

A trainer steps many environment copies at once (reasongym's `collect` runs G x N `env.step` calls on a
thread pool). Each copy asking its own reward model would load it N times and score one sequence at a
time; instead every copy of a process shares one `SharedScorer` per reward-model folder, and requests that
arrive while a forward pass runs are scored together in the next one (dynamic batching, no waiting when
a request is alone).

Per-group normalisation (`normalize="group"`): the reward is the z-score of the score within the group of
replies to the same prompt: the environments reset with the same task (`reset(options={"task": t})`, as
GRPO does). Each reset joins the task's open group; a step waits until every member of its group has
stepped, then the group is scored in one batch. The steps of a group must therefore run concurrently (as
in `collect`, for groups of up to 16); a group that waits `timeout_s` without a new reply raises an error
that says so. Scores are rounded to 4 decimals: the requests a reply happens to share a forward pass with
(thread timing) move the last bits of a float, and rounding keeps that from changing the reward in all
but rare cases, so two runs with one seed stay identical for many steps (not bit-for-bit forever). A group of one gets 0.

    scorer = SharedScorer.get("runs/rm-001/final")
    scorer.score(prompt_messages, "the reply")                 # -> raw score (float)

torch is imported when the model is first used, never at import time (environments stay torch-free).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from reasongym.core import Messages

NORMALIZE = ("none", "dataset", "group")
DECIMALS = 4  # which requests share a forward pass moves the last float bits; rounding hides most of it


@dataclass
class _Request:
    seq: list[int]
    value: float | None = None
    error: BaseException | None = None  # the forward pass that held this request failed
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Group:
    members: set[int] = field(default_factory=set)  # environments reset with this task, not yet stepped
    seqs: dict[int, list[int]] = field(default_factory=dict)
    scores: dict[int, float] | None = None
    scoring: bool = False
    error: BaseException | None = None
    closed: bool = False  # a member has stepped: later resets start a new group
    last_arrival: float = field(default_factory=time.monotonic)


class SharedScorer:
    """One reward model and its batching queue, shared by every environment of the process."""

    _instances: dict[tuple[str, str, str], SharedScorer] = {}
    _instances_lock = threading.Lock()

    def __init__(self, folder: str, device: str = "cpu", precision: str = "fp32", batch_size: int = 32):
        self.folder, self.device, self.precision, self.batch_size = folder, device, precision, batch_size
        self._rm = None
        self._load_lock, self._model_lock, self._queue_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._queue: list[_Request] = []
        self._cond = threading.Condition()
        self._open: dict[str, _Group] = {}
        self._member_of: dict[int, _Group] = {}

    @classmethod
    def get(cls, folder: str | Path, device: str = "cpu", precision: str = "fp32", batch_size: int = 32) -> SharedScorer:
        """The process's scorer for a reward-model folder (created on first request, loaded on first use);
        its forward batches are the largest batch_size any environment asked for."""
        folder = str(Path(folder).resolve())
        if not (Path(folder) / "config.json").exists():
            raise FileNotFoundError(f"reward model {folder}: no config.json; pass env.rm=<folder written by "
                                    "`python -m reasongym.reward train`>, e.g. runs/rm-001/final")
        with cls._instances_lock:
            key = (folder, device, precision)
            if key not in cls._instances:
                cls._instances[key] = cls(folder, device, precision, batch_size)
            scorer = cls._instances[key]
            scorer.batch_size = max(scorer.batch_size, batch_size)
            return scorer

    @property
    def rm(self):
        """The RewardModel, loaded on first use (imports torch)."""
        with self._load_lock:
            if self._rm is None:
                from reasongym.rlhf.model import RewardModel

                self._rm = RewardModel.load(self.folder, device=self.device, precision=self.precision)
            return self._rm

    @property
    def stats(self) -> dict:
        return dict(self.rm.stats or {})

    def encode(self, prompt: Messages, response: str) -> list[int]:
        return self.rm.encode(prompt, response)

    # -- dynamic batching ----------------------------------------------------------------------------
    def score(self, prompt: Messages, response: str) -> float:
        """The raw score of one reply; concurrent callers share forward passes."""
        return self.score_seq(self.encode(prompt, response))

    def score_seq(self, seq: list[int]) -> float:
        req = _Request(seq)
        with self._queue_lock:
            self._queue.append(req)
        with self._model_lock:
            if not req.done.is_set():
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    values = self.rm.score_ids([r.seq for r in batch], self.batch_size)
                except BaseException as exc:  # every request of the batch gets the error, not a hang
                    for r in batch:
                        r.error = exc
                        r.done.set()
                    raise
                for r, v in zip(batch, values):
                    r.value = v
                    r.done.set()
        if req.error is not None:
            raise RuntimeError(f"scoring with the reward model {self.folder} failed: {req.error}") from req.error
        assert req.value is not None
        return round(req.value, DECIMALS)

    # -- groups (normalize="group") ------------------------------------------------------------------
    def join(self, env_key: int, task_id: str) -> None:
        """An environment was reset with task `task_id`: it belongs to that task's open group."""
        with self._cond:
            self._leave(env_key)
            group = self._open.get(task_id)
            if group is None or group.closed:
                group = self._open[task_id] = _Group()
            group.members.add(env_key)
            self._member_of[env_key] = group
            self._cond.notify_all()

    def _leave(self, env_key: int) -> None:
        old = self._member_of.pop(env_key, None)
        if old is not None and old.scores is None and env_key not in old.seqs:
            old.members.discard(env_key)  # reset again without stepping

    def score_in_group(self, env_key: int, task_id: str, prompt: Messages, response: str,
                       timeout_s: float = 120.0) -> tuple[float, float]:
        """(raw score, z-score within the group). Blocks until every member of the group has replied; raises
        when `timeout_s` pass without a new reply to the group."""
        seq = self.encode(prompt, response)
        with self._cond:
            group = self._member_of.get(env_key)
            if group is None:  # stepped without a reset through this scorer: a group of its own
                group = _Group(members={env_key})
                self._member_of[env_key] = group
            group.closed = True
            if self._open.get(task_id) is group:
                del self._open[task_id]
            group.seqs[env_key] = seq
            group.last_arrival = time.monotonic()
            self._cond.notify_all()
            while group.scores is None:
                if not group.scoring and group.members <= set(group.seqs):
                    group.scoring = True
                    break
                if time.monotonic() - group.last_arrival > timeout_s:
                    raise RuntimeError(
                        f"normalize='group': {len(group.seqs)} of {len(group.members)} replies to task "
                        f"{task_id} arrived and no other came for {timeout_s:g} s. Group "
                        "normalisation needs the G steps of a group to run concurrently (reasongym's collect "
                        "does, for G <= 16); step them from threads, or use normalize='none' or 'dataset'.")
                self._cond.wait(timeout=0.5)
        if group.scores is None:  # this thread scores the whole group in one batch
            keys = sorted(group.seqs)
            try:
                with self._model_lock:
                    values = self.rm.score_ids([group.seqs[k] for k in keys], self.batch_size)
            except BaseException as exc:
                with self._cond:
                    group.error, group.scores = exc, {}
                    self._cond.notify_all()
                raise
            with self._cond:
                group.scores = {k: round(v, DECIMALS) for k, v in zip(keys, values)}
                self._cond.notify_all()
        if group.error is not None:
            raise RuntimeError(f"scoring a group with the reward model {self.folder} failed: {group.error}")
        with self._cond:
            if self._member_of.get(env_key) is group:
                del self._member_of[env_key]
        values = list(group.scores.values())
        raw = group.scores[env_key]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return raw, (raw - statistics.fmean(values)) / std if std > 0 else 0.0
