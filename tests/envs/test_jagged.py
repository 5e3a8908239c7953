"""Jagged tasks: every kind and difficulty is seeded, split-disjoint, solvable by its worked solution and by
its Python cell (run in the real sandbox), and verified strictly (hedges, several or unclosed boxes fail).

    OMP_NUM_THREADS=1 python -m pytest -q tests/envs/test_jagged.py      # ~10 s
"""

from __future__ import annotations

import numpy as np
import pytest

import reasongym
from reasongym.core import Task
from reasongym.envs.jagged import GENERATORS, KINDS, JaggedEnv, JaggedVerifier, check_kinds
from reasongym.envs.jagged.words import count_letter
from reasongym.envs.tasks import ProceduralTaskSet, split_of
from reasongym.verifiers.code.sandbox import run_program

V = JaggedVerifier()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_seeded_and_its_solution_and_tool_code_are_right(kind):
    gen = GENERATORS[kind]
    for d in range(1, 6):
        a, b = gen(np.random.default_rng(d), d), gen(np.random.default_rng(d), d)
        assert a.id == b.id and a.meta["difficulty"] == d and a.meta["kind"] == kind
        rng = np.random.default_rng(100 + d)
        for _ in range(20):
            task = gen(rng, d)
            verdict = V.verify(task, task.meta["solution"])
            assert verdict.correct and verdict.reward == 1.0, (task.question, task.meta["solution"], verdict)
    printed = run_program(task.meta["tool_code"], timeout_s=5).stdout.strip()  # the hardest one drawn
    assert V.verify(task, f"\\boxed{{{printed}}}").correct, (task.question, task.meta["tool_code"], printed)


def test_train_and_heldout_never_share_a_question():
    gen = JaggedEnv(difficulty=2).tasks.generator
    train = ProceduralTaskSet(gen, split="train", difficulty=2).take(300, seed=0)
    held = ProceduralTaskSet(gen, split="heldout", difficulty=2).take(100, seed=0)
    assert {split_of(t) for t in train} == {"train"} and {split_of(t) for t in held} == {"heldout"}
    assert not {t.meta["split_key"] for t in train} & {t.meta["split_key"] for t in held}


def task_of(answer: str, answer_type: str, **meta) -> Task:
    return Task.create("q", answer, answer_type=answer_type, **meta)


@pytest.mark.parametrize("answer, answer_type, completion, ok", [
    ("3", "int", "spelled out: s-t-r-a-w, so \\boxed{3}", True),
    ("1234", "int", "\\boxed{1,234}", True),
    ("1234", "int", "\\boxed{1234.0}", False),
    ("9.9", "decimal", "\\boxed{9.90}", True),
    ("9.9", "decimal", "\\boxed{9.11}", False),
    ("2500", "decimal", "\\boxed{2500 g}", True),
    ("2500", "decimal", "\\boxed{2500 kg}", False),
    ("1.5, 1.46, 1.7", "list", "\\boxed{1.50, 1.46, 1.7}", True),
    ("1.5, 1.46, 1.7", "list", "\\boxed{1.46, 1.5, 1.7}", False),
    ("olleh", "word", "\\boxed{\\text{Olleh}}.", True),
    ("s-t-a-r", "letters", "\\boxed{S - T - A - R}", True),
    ("s-t-a-r", "letters", "\\boxed{star}", False),
    ("2024-03-05", "date", "\\boxed{2024-3-5}", True),
    ("2024-03-05", "date", "\\boxed{March 5, 2024}", False),
    ("Tuesday", "weekday", "\\boxed{tuesday}", True),
])
def test_light_normalisation_and_exact_match(answer, answer_type, completion, ok):
    meta = {"unit": "g"} if answer_type == "decimal" else {}
    verdict = V.verify(task_of(answer, answer_type, **meta), completion)
    assert verdict.correct is ok and verdict.reward == float(ok), verdict


@pytest.mark.parametrize("completion, status", [
    ("\\boxed{3 or 4}", "wrong_form"),
    ("\\boxed{about 3}", "wrong_form"),
    ("\\boxed{\\approx 3}", "wrong_form"),
    ("\\boxed{3?}", "wrong_form"),
    ("\\boxed{3} \\boxed{3}", "wrong_form"),          # several boxes never pay, equal or not
    ("\\boxed{4} then \\boxed{3}", "wrong_form"),
    ("the answer is \\boxed{3", "no_answer"),         # unclosed
    ("\\boxed{3} and \\boxed{3", "no_answer"),
    ("It is 3.", "no_answer"),
    ("<think>\\boxed{3}</think> I am not sure.", "no_answer"),
    ("<think>maybe \\boxed{3}", "no_answer"),
])
def test_hedges_several_and_unclosed_boxes_never_pay(completion, status):
    verdict = V.verify(task_of("3", "int"), completion)
    assert (verdict.reward, verdict.correct, verdict.status) == (0.0, False, status), verdict


def test_think_blocks_are_ignored_and_a_broken_task_is_a_harness_error():
    assert V.verify(task_of("3", "int"), "<think>\\boxed{4} or \\boxed{5}</think>\\boxed{3}").correct
    broken = V.verify(task_of("not a number", "int"), "\\boxed{3}")
    assert (broken.reward, broken.status) == (0.0, "harness_error")


def test_the_classics_are_in_the_task_space():
    task = next(t for t in (count_letter(np.random.default_rng(s), 3) for s in range(2000))
                if "strawberry" in t.question and '"r"' in t.question)
    assert task.answer == "3" and "s-t-r-a-w-b-e-r-r-y" in task.meta["solution"]


def test_the_env_and_its_aliases():
    env = reasongym.make("jagged-heldout", difficulty=3, kinds=["multiply"]).unwrapped
    assert env.tasks.split == "heldout" and env.kinds == ("multiply",)
    _, info = env.reset(seed=0)
    _, reward, term, trunc, step_info = env.step(info["task"].meta["solution"])
    assert (reward, term, trunc) == (1.0, True, False) and step_info["verdict"].answer == info["task"].answer
    with pytest.raises(ValueError, match="Did you mean count_letter"):
        check_kinds(["count_leter"])
    tool = reasongym.make("jagged-tool-heldout", difficulty=3, kinds=["multiply"]).unwrapped
    assert tool.reset(seed=0)[1]["task"].id == info["task"].id  # same task ids with and without the tool
