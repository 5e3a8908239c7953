"""Task sources: where an environment's problems come from.

Two kinds, one interface (`TaskSet.sample(rng)` for training, `TaskSet.take(n, seed)` for a fixed list):

- `ProceduralTaskSet`: an endless, seeded generator `fn(rng, difficulty) -> Task`. Train and held-out
  splits are disjoint *by construction*: a task belongs to the held-out split iff the hash of its
  `split_key` (by default its id) falls in the held-out bucket, and each split rejects the other's tasks.
- `TaskList`: a finite list, e.g. loaded from a file (see `reasongym.envs.loaders`).

    from reasongym.envs.tasks import ProceduralTaskSet
    heldout = ProceduralTaskSet(my_generator, split="heldout").take(200, seed=0)
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from reasongym.core import Task

SPLITS = ("train", "heldout")
HELDOUT_PERCENT = 20  # share of the procedural task space reserved for held-out evaluation


def split_of(task: Task, heldout_percent: int = HELDOUT_PERCENT) -> str:
    """'heldout' or 'train', from a hash of the task's split key (stable across runs and machines)."""
    key = str(task.meta.get("split_key", task.id))
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100
    return "heldout" if bucket < heldout_percent else "train"


class TaskSet(ABC):
    """A source of tasks for an environment."""

    name: str = "tasks"

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Task:
        """One task drawn with the environment's seeded generator."""

    def take(self, n: int, seed: int = 0) -> list[Task]:
        """A fixed list of n tasks (deterministic for a seed): evaluation sets, SFT data."""
        rng = np.random.default_rng(seed)
        return [self.sample(rng) for _ in range(n)]


class TaskList(TaskSet, Sequence):
    """A finite list of tasks; `sample` draws uniformly, `take` returns the first n (or all)."""

    def __init__(self, tasks: Sequence[Task], name: str = "tasks"):
        if not tasks:
            raise ValueError(f"task set {name!r} is empty")
        self.tasks = list(tasks)
        self.name = name

    def sample(self, rng: np.random.Generator) -> Task:
        return self.tasks[int(rng.integers(len(self.tasks)))]

    def take(self, n: int | None = None, seed: int = 0) -> list[Task]:
        return self.tasks[: len(self.tasks) if n is None else n]

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, i):  # type: ignore[override]
        return self.tasks[i]

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)


Generator = Callable[[np.random.Generator, int], Task]


class ProceduralTaskSet(TaskSet):
    """Endless tasks from `generator(rng, difficulty)`, restricted to one split.

    take(n, seed) returns n *distinct* tasks, so a held-out benchmark never counts a task twice.
    """

    def __init__(self, generator: Generator, *, split: str = "train", difficulty: int = 1,
                 name: str = "procedural", heldout_percent: int = HELDOUT_PERCENT, max_tries: int = 1000):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        self.generator, self.split, self.difficulty = generator, split, int(difficulty)
        self.name, self.heldout_percent, self.max_tries = name, heldout_percent, max_tries

    def sample(self, rng: np.random.Generator) -> Task:
        for _ in range(self.max_tries):
            task = self.generator(rng, self.difficulty)
            if split_of(task, self.heldout_percent) == self.split:
                return task
        raise RuntimeError(f"{self.name}: no {self.split} task in {self.max_tries} draws; "
                           f"the generator's task space at difficulty {self.difficulty} is too small")

    def take(self, n: int, seed: int = 0) -> list[Task]:
        rng = np.random.default_rng(seed)
        seen: dict[str, Task] = {}
        for _ in range(n * 50):
            if len(seen) == n:
                break
            task = self.sample(rng)
            seen.setdefault(task.id, task)
        if len(seen) < n:
            raise RuntimeError(f"{self.name}: only {len(seen)} distinct {self.split} tasks at difficulty "
                               f"{self.difficulty}; ask for fewer or raise the difficulty")
        return list(seen.values())
