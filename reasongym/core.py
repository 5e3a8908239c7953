"""The contracts every part of reasongym speaks: Task, Verdict, Completion, Rollout, Verifier, Policy.

Standard library only, so environments, verifiers and agents can all import it without pulling in
torch or each other. Imports flow one way: train/evaluate -> agents, envs -> verifiers -> core.

    from reasongym.core import Task, Verdict
    task = Task.create(prompt=[{"role": "user", "content": "2+2?"}], answer="4")
    task.id        # stable content hash: the same prompt and answer always give the same id
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Messages = list[dict[str, str]]


def content_hash(*parts: Any, length: int = 16) -> str:
    """A stable hex digest of JSON-serialisable parts (same content -> same id, across runs and machines)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


def user(content: str, system: str | None = None) -> Messages:
    """A one-turn chat prompt, optionally preceded by a system message."""
    msgs: Messages = [{"role": "system", "content": system}] if system else []
    return msgs + [{"role": "user", "content": content}]


@dataclass(frozen=True)
class Task:
    """One problem: the chat prompt the policy sees, the gold answer the verifier checks against.

    `id` is a hash of the prompt and answer, used for dedup and for train/held-out leakage checks.
    `meta` carries anything else: source file and row, difficulty, category, a worked solution, tests.
    """

    id: str
    prompt: Messages
    answer: Any
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def create(cls, prompt: Messages | str, answer: Any, **meta: Any) -> Task:
        """Build a task from a prompt (a string becomes one user message) and derive its id."""
        msgs = user(prompt) if isinstance(prompt, str) else [dict(m) for m in prompt]
        return cls(id=content_hash(msgs, answer), prompt=msgs, answer=answer, meta=dict(meta))

    @property
    def question(self) -> str:
        """The text of the last user message (what near-duplicate checks compare)."""
        return next((m["content"] for m in reversed(self.prompt) if m["role"] == "user"), "")

    def __hash__(self) -> int:
        return hash(self.id)


# What a Verdict's `status` may say. Verifiers that need a finer word (a sandbox's "memory") keep it in
# info; the ones below are what trainers, evaluation and the audit count across packages.
VERDICT_STATUSES = (
    "ok",             # scored normally (right or wrong)
    "no_answer",      # nothing extractable: no closed box, no code block
    "wrong_form",     # an equivalent answer, but not in the form the task asks for (restated question ...)
    "timeout",        # the check or the program ran out of time
    "harness_error",  # the grader itself failed on this input: reward 0, counted, never raised
)


@dataclass
class Verdict:
    """A verifier's judgement of one completion.

    reward: the scalar the learner sees; correct: whether the task counts as solved (terminates the
    episode). The typed fields are what other packages read: `answer` the extracted final answer (None
    when there was none), `feedback` what a multi-turn env tells the policy, `status` one of
    VERDICT_STATUSES. `info` carries the rest, for people and logs (parsed form, failing test, scores).
    """

    reward: float
    correct: bool
    info: dict = field(default_factory=dict)
    answer: str | None = None
    feedback: str | None = None
    status: str = "ok"


@dataclass
class Completion:
    """What a policy produced for one observation. Token ids are optional: a scripted or HTTP policy has
    only text; an HF policy also gives the sampled ids and the prompt's ids (the chat template applied to
    the observation), so the learner builds its rows without tokenising anything a second time."""

    text: str
    token_ids: list[int] | None = None
    finish_reason: str = "stop"  # "stop" (EOS / stop string) or "length" (hit max_new_tokens)
    meta: dict = field(default_factory=dict)
    prompt_ids: list[int] | None = None


@dataclass
class Turn:
    """One step of an episode: what the policy saw, what it said, what came back."""

    observation: Messages
    completion: Completion
    reward: float
    verdict: Verdict | None


@dataclass
class Rollout:
    """One whole episode of one task. GRPO groups are G rollouts with the same `task.id`."""

    task: Task
    turns: list[Turn]
    terminated: bool
    truncated: bool

    @property
    def reward(self) -> float:
        """Episode return: the sum of per-turn rewards (a single-turn episode: its one reward)."""
        return float(sum(t.reward for t in self.turns))

    @property
    def correct(self) -> bool:
        return bool(self.turns and self.turns[-1].verdict and self.turns[-1].verdict.correct)


@dataclass(frozen=True)
class SamplingParams:
    """How a policy samples. temperature=0 means greedy."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    n: int = 1  # samples per observation


class Verifier(ABC):
    """Turns (task, completion text) into a Verdict. Subclasses implement `verify`; `verify_batch` runs
    them on a thread pool (verifiers that do real work in child processes release the GIL there)."""

    max_workers: int = 8

    @abstractmethod
    def verify(self, task: Task, completion: str) -> Verdict: ...

    def vote_key(self, verdict: Verdict) -> str | None:
        """What maj@k votes on: answers with equal keys count as the same answer. By default the
        extracted answer as written; the math verifier normalises it (so `0.5` and `\\frac12` agree)."""
        return verdict.answer

    def verify_batch(self, tasks: list[Task], completions: list[str]) -> list[Verdict]:
        if len(tasks) != len(completions):
            raise ValueError(f"verify_batch got {len(tasks)} tasks but {len(completions)} completions")
        if len(tasks) <= 1:
            return [self.verify(t, c) for t, c in zip(tasks, completions)]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(tasks))) as pool:
            return list(pool.map(self.verify, tasks, completions))


@runtime_checkable
class Policy(Protocol):
    """Anything that answers chat observations: an HF model, a scripted oracle, an HTTP client."""

    def act(self, observations: list[Messages], sampling: SamplingParams) -> list[Completion]:
        """Return `sampling.n` completions per observation, grouped: obs0's n, then obs1's n, ..."""
        ...
