"""Task sources: where an environment's problems come from.

Two kinds, one interface (`TaskSet.sample(rng)` for training, `TaskSet.take(n, seed)` for a fixed list):

- `ProceduralTaskSet`: an endless, seeded generator `fn(rng, difficulty) -> Task`. Train and held-out
  splits are disjoint *by construction*: a task belongs to the held-out split iff the hash of its
  `split_key` (by default its id) falls in the held-out bucket, and each split rejects the other's tasks.
- `TaskList`: a finite list, e.g. loaded from a file (see `reasongym.envs.math.files`).

`overlap(a, b)` checks two task collections for contamination: shared task ids, and near-duplicate
questions (word 3-gram shingles weighted by rarity, so a shared instruction or template wording counts
for little while shared names and numbers count for much; an inverted index keeps it fast).

    from reasongym.envs.tasks import ProceduralTaskSet
    heldout = ProceduralTaskSet(my_generator, split="heldout").take(200, seed=0)
    print(overlap(train_tasks, heldout))     # OverlapReport: shared ids, near duplicates
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from reasongym.core import Task
from reasongym.data import HELDOUT_PERCENT, split_of_key

SPLITS = ("train", "heldout")


def split_of(task: Task, heldout_percent: int = HELDOUT_PERCENT) -> str:
    """'heldout' or 'train', from a hash of the task's split key (stable across runs and machines)."""
    return split_of_key(str(task.meta.get("split_key", task.id)), heldout_percent)


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


# -- contamination checks ------------------------------------------------------------------------------
_TOKEN = re.compile(r"\w+|[^\w\s]")


def words(text: str) -> list[str]:
    """Normalised tokens: NFKC, lower case, words and single punctuation/math symbols."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, n: int = 3) -> set[str]:
    """The set of word n-grams of a text (the whole text when it is shorter than n words)."""
    toks = words(text)
    if len(toks) <= n:
        return {" ".join(toks)}
    return {" ".join(toks[i: i + n]) for i in range(len(toks) - n + 1)}


@dataclass(frozen=True)
class NearDuplicate:
    a_id: str
    b_id: str
    similarity: float  # rarity-weighted Jaccard of the question shingles, 1.0 = same normalised text
    a_question: str
    b_question: str


@dataclass
class OverlapReport:
    """What `overlap(a, b)` found. `clean` is True when there is neither a shared id nor a near duplicate."""

    n_a: int
    n_b: int
    threshold: float
    shared_ids: list[str] = field(default_factory=list)
    near_duplicates: list[NearDuplicate] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.shared_ids and not self.near_duplicates

    def __str__(self) -> str:
        head = (f"overlap of {self.n_a} and {self.n_b} tasks: {len(self.shared_ids)} shared ids, "
                f"{len(self.near_duplicates)} near duplicates (similarity >= {self.threshold})")
        rows = [f"  {d.similarity:.2f}  {d.a_question[:60]!r} ~ {d.b_question[:60]!r}"
                for d in self.near_duplicates[:10]]
        return "\n".join([head, *rows])


def numbers(text: str) -> tuple[str, ...]:
    """The numbers a text mentions, in order, each with the minus sign before it (`x - 8` gives -8, as
    `x + 8` gives 8): what makes two template siblings different problems."""
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    return tuple(sign.strip() + n for sign, n in re.findall(r"(-\s*)?(\d+(?:[.,]\d+)*)", text))


def overlap(a: Iterable[Task], b: Iterable[Task], *, near_threshold: float = 0.8, n: int = 3,
            same_numbers: bool = True, candidate_df: float = 0.02) -> OverlapReport:
    """Shared ids and near-duplicate questions between two task collections.

    Similarity is a Jaccard index of word n-gram shingles in which each shingle weighs log(1 + N/df)
    (N tasks in all, df = tasks containing it): boilerplate shared by every prompt weighs almost nothing.
    Candidate pairs come from an inverted index over the rarer shingles (df <= candidate_df * N, at least
    10), so the cost grows with the number of tasks, not their product. Pairs with the same normalised
    question always count, with similarity 1.0.

    same_numbers: a near duplicate must mention the same numbers in the same order. "Mia buys 3 packs"
    and "Mia buys 4 packs" are different problems (template siblings, as in procedural train and held-out
    splits); pass False to flag number-swapped variants of a benchmark too. It also makes the search
    cheaper: only tasks with the same numbers are compared.
    """
    list_a, list_b = list({t.id: t for t in a}.values()), list({t.id: t for t in b}.values())
    ids_b = {t.id for t in list_b}
    report = OverlapReport(len(list_a), len(list_b), near_threshold,
                           shared_ids=sorted(t.id for t in list_a if t.id in ids_b))
    sh_a, sh_b = [shingles(t.question, n) for t in list_a], [shingles(t.question, n) for t in list_b]
    nums_a, nums_b = [numbers(t.question) for t in list_a], [numbers(t.question) for t in list_b]
    df = Counter(s for group in (sh_a, sh_b) for sh in group for s in sh)
    total = len(list_a) + len(list_b)
    weight = {s: math.log1p(total / c) for s, c in df.items()}
    cap = max(10, candidate_df * total)
    index: dict[str, list[int]] = defaultdict(list)  # rare shingle -> tasks of b holding it
    by_text: dict[str, list[int]] = defaultdict(list)
    by_numbers: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j, (task, sh) in enumerate(zip(list_b, sh_b)):
        by_text[" ".join(words(task.question))].append(j)
        by_numbers[nums_b[j]].append(j)
        for s in sh:
            if df[s] <= cap:
                index[s].append(j)
    mass_b = [sum(weight[s] for s in sh) for sh in sh_b]
    for i, (task, sh) in enumerate(zip(list_a, sh_a)):
        same_text = set(by_text.get(" ".join(words(task.question)), ()))
        pool = by_numbers.get(nums_a[i], []) if same_numbers else None
        if pool is not None and len(pool) <= cap:
            candidates = set(pool)
        else:
            candidates = {j for s in sh for j in index.get(s, ())}
        mass_a = sum(weight[s] for s in sh)
        for j in candidates | same_text:
            other = list_b[j]
            if other.id == task.id or (same_numbers and nums_a[i] != nums_b[j]):
                continue
            if j in same_text:
                sim = 1.0
            else:
                inter = sum(weight[s] for s in sh & sh_b[j])
                sim = inter / (mass_a + mass_b[j] - inter)
            if sim >= near_threshold:
                report.near_duplicates.append(NearDuplicate(task.id, other.id, round(sim, 4), task.question,
                                                            other.question))
    report.near_duplicates.sort(key=lambda d: -d.similarity)
    return report

# -- pieces every procedural family (math, code, jagged) shares ---------------------------------------
DIFFICULTIES = (1, 2, 3, 4, 5)


def check_difficulty(difficulty: int) -> int:
    if int(difficulty) not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    return int(difficulty)


def randint(rng: np.random.Generator, low: int, high: int) -> int:
    """An integer in [low, high] (both ends included)."""
    return int(rng.integers(low, high + 1))


def check_kinds(generators: Mapping[str, Generator], kinds: Sequence[str] | str | None,
                family: str) -> tuple[str, ...]:
    """Validate kind names of a family's generators (None = all); an unknown name gets suggestions."""
    every = tuple(generators)
    if kinds is None:
        return every
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not kinds:
        raise ValueError(f"kinds is empty; pick some of {every} or pass None for all")
    for kind in kinds:
        if kind not in generators:
            close = difflib.get_close_matches(kind, every, n=3)
            raise ValueError(f"unknown {family} kind {kind!r}." + (f" Did you mean {', '.join(close)}?" if close else "")
                             + f" Kinds: {', '.join(every)}")
    return kinds


def mixed_generator(generators: Mapping[str, Generator], kinds: Sequence[str] | None, family: str) -> Generator:
    """One generator drawing a kind uniformly, then a task of that kind (deterministic per rng)."""
    chosen = check_kinds(generators, kinds, family)

    def generate(rng: np.random.Generator, difficulty: int) -> Task:
        return generators[chosen[int(rng.integers(len(chosen)))]](rng, difficulty)

    generate.__name__ = f"{family}:" + "+".join(chosen)
    return generate
