"""Reward-model scoring for environments: one shared model per process, batched across concurrent steps.

A trainer steps many environment copies at once (reasongym's `collect` runs G x N `env.step` calls on a
thread pool). Each copy asking its own reward model would load it N times and score one sequence at a
time; instead every copy of a process shares one `SharedScorer` per reward-model folder, and requests that
arrive while a forward pass runs are scored together in the next one (dynamic batching, no waiting when
a request is alone).

Scores are rounded to 4 decimals: the requests a reply happens to share a forward pass with (thread
timing) move the last bits of a float, and rounding keeps that from changing the reward in all but rare
cases, so two runs with one seed stay identical for many steps (not bit-for-bit forever).

There is no per-group normalisation here: a z-score among the G replies to one prompt made every step
wait for its G siblings and hid the raw score from the reward-hacking guard (a group's z-scores average
0, so "the reward rose" could never be seen). GRPO's advantage already centres (and scales) each group's
rewards in the learner (reasongym/agents/grpo.py), so the environment reports the raw score.

    scorer = SharedScorer.get("runs/rm-001/final")
    scorer.score(prompt_messages, "the reply")                 # -> raw score (float)

torch is imported when the model is first used, never at import time (environments stay torch-free).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from reasongym.core import Messages

NORMALIZE = ("none", "dataset", "group")  # group: deprecated, the same as none (see above)
DECIMALS = 4  # which requests share a forward pass moves the last float bits; rounding hides most of it


@dataclass
class _Request:
    seq: list[int]
    value: float | None = None
    error: BaseException | None = None  # the forward pass that held this request failed
    done: threading.Event = field(default_factory=threading.Event)


class SharedScorer:
    """One reward model and its batching queue, shared by every environment of the process."""

    _instances: dict[tuple[str, str, str], SharedScorer] = {}
    _instances_lock = threading.Lock()

    def __init__(self, folder: str, device: str = "cpu", precision: str = "fp32", batch_size: int = 32):
        self.folder, self.device, self.precision, self.batch_size = folder, device, precision, batch_size
        self._rm = None
        self._load_lock, self._model_lock, self._queue_lock = threading.Lock(), threading.Lock(), threading.Lock()
        self._queue: list[_Request] = []

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
        """The raw score of one reply; concurrent callers share forward passes. Text the tokenizer cannot
        take (a lone surrogate from a byte-level decode) is read with U+FFFD in its place."""
        prompt = [{**m, "content": _encodable(m["content"])} for m in prompt]
        return self.score_seq(self.encode(prompt, _encodable(response)))

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


def _encodable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8") if isinstance(text, str) else text
