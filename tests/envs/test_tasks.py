"""Task sources: train/held-out disjointness at scale, TaskList, and the overlap() contamination check.

    python -m pytest -q tests/envs/test_tasks.py
"""

import time

import numpy as np
import pytest

from reasongym.core import Task
from reasongym.envs.math import KINDS, mixed_generator
from reasongym.envs.tasks import ProceduralTaskSet, TaskList, numbers, overlap, shingles, split_of

GEN = mixed_generator()


@pytest.mark.parametrize("difficulty", [1, 3, 5])
def test_procedural_splits_are_disjoint_at_scale(difficulty):
    train = ProceduralTaskSet(GEN, split="train", difficulty=difficulty).take(3000, seed=1)
    heldout = ProceduralTaskSet(GEN, split="heldout", difficulty=difficulty).take(1000, seed=2)
    assert all(split_of(t) == "train" for t in train) and all(split_of(t) == "heldout" for t in heldout)
    assert not {t.id for t in train} & {t.id for t in heldout}
    assert not {t.meta["split_key"] for t in train} & {t.meta["split_key"] for t in heldout}
    report = overlap(train, heldout)
    assert report.shared_ids == [] and report.near_duplicates == [], str(report)
    assert {t.meta["kind"] for t in heldout} == set(KINDS)


def test_heldout_share_is_about_twenty_percent():
    rng = np.random.default_rng(0)
    tasks = [GEN(rng, 2) for _ in range(4000)]
    share = sum(split_of(t) == "heldout" for t in tasks) / len(tasks)
    assert 0.16 < share < 0.24


def test_take_is_deterministic_and_distinct():
    source = ProceduralTaskSet(GEN, split="heldout", difficulty=1)
    a, b = source.take(300, seed=7), source.take(300, seed=7)
    assert [t.id for t in a] == [t.id for t in b] and len({t.id for t in a}) == 300
    assert [t.id for t in source.take(300, seed=8)] != [t.id for t in a]


def test_task_list_sample_and_take():
    tasks = TaskList([Task.create(f"q{i}", str(i)) for i in range(5)], name="five")
    assert len(tasks) == 5 and tasks.take(2) == tasks.tasks[:2] and tasks.take() == tasks.tasks
    rng = np.random.default_rng(0)
    assert {tasks.sample(rng).id for _ in range(100)} == {t.id for t in tasks}
    with pytest.raises(ValueError, match="empty"):
        TaskList([], name="none")


def test_overlap_catches_an_injected_duplicate_and_near_duplicates():
    train = ProceduralTaskSet(GEN, split="train", difficulty=3).take(2000, seed=1)
    heldout = ProceduralTaskSet(GEN, split="heldout", difficulty=3).take(300, seed=2)
    word = next(t for t in heldout if t.meta["kind"] == "word")
    reworded = Task.create(word.question.replace(". ", ".  ").replace("How many", "how MANY"), word.answer)
    first, rest = word.question.split(" ", 1)
    one_word = Task.create(f"{first} then {rest}", "0")  # one word added
    leaked = [*train, heldout[0], reworded, one_word]
    report = overlap(leaked, heldout)
    assert report.shared_ids == [heldout[0].id]
    found = {(d.a_id, d.b_id): d.similarity for d in report.near_duplicates}
    assert found.get((reworded.id, word.id)) == 1.0  # same text after normalising case and spaces
    assert found.get((one_word.id, word.id), 0) >= 0.8, report
    assert not report.clean and "1 shared ids" in str(report)
    # A template sibling with other numbers is a different problem, unless asked otherwise.
    sibling = Task.create(word.question.replace(numbers(word.question)[0], "987654", 1), "1")
    assert overlap([sibling], heldout).near_duplicates == []
    loose = overlap([*train[:200], sibling], heldout, same_numbers=False, near_threshold=0.6)
    assert any(d.a_id == sibling.id and d.b_id == word.id for d in loose.near_duplicates)


def test_overlap_is_fast_enough_for_ten_thousand_by_one_thousand():
    train = ProceduralTaskSet(GEN, split="train", difficulty=2).take(10_000, seed=3)
    heldout = ProceduralTaskSet(GEN, split="heldout", difficulty=2).take(1_000, seed=4)
    start = time.perf_counter()
    report = overlap(train, heldout)
    elapsed = time.perf_counter() - start
    assert report.shared_ids == []
    assert elapsed < 20, f"overlap took {elapsed:.1f}s"  # ~0.5 s on an idle core; CI machines are shared


def test_shingles_and_numbers():
    assert shingles("What is 2 + 2?") == {"what is 2", "is 2 +", "2 + 2", "+ 2 ?"}
    assert shingles("Hi") == {"hi"}
    assert numbers("Solve -7x - 16 = -93 for x, 1,000 and 2.5") == ("-7", "-16", "-93", "1,000", "2.5")
