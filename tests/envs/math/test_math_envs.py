"""Procedural math tasks and MathEnv: seeded generators, correct worked solutions, episode semantics.

    python -m pytest -q tests/envs/math/test_math_envs.py
"""

import re
from fractions import Fraction

import gymnasium
import numpy as np
import pytest

import reasongym
from reasongym.envs.math import GENERATORS, KINDS, MathEnv, mixed_generator
from reasongym.envs.math.gen import INSTRUCTION
from reasongym.envs.tasks import split_of
from reasongym.verifiers.math.verifier import MathVerifier

VERIFIER = MathVerifier()
DIFFICULTIES = (1, 2, 3, 4, 5)


def sample(kind: str, difficulty: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [GENERATORS[kind](rng, difficulty) for _ in range(n)]


@pytest.mark.parametrize("kind", KINDS)
def test_generators_are_deterministic_by_seed_and_tasks_are_well_formed(kind):
    for d in DIFFICULTIES:
        a, b = sample(kind, d, 5, seed=3), sample(kind, d, 5, seed=3)
        assert [t.id for t in a] == [t.id for t in b]
        assert len({t.id for t in sample(kind, d, 30, seed=4)}) > 10, "the task space is too small"
        for t in a:
            assert t.question.endswith(INSTRUCTION) and len(t.question) < 400
            assert t.meta["kind"] == kind and t.meta["difficulty"] == d
            assert t.meta["split_key"].startswith(kind + ":")
            assert t.meta["solution"].endswith(f"The answer is \\boxed{{{t.answer}}}.")


@pytest.mark.parametrize("kind", KINDS)
def test_worked_solutions_verify_as_correct_and_perturbed_answers_do_not(kind):
    """The cold-start SFT data must be right: every worked solution earns reward 1 from the verifier."""
    tasks = [t for d in DIFFICULTIES for t in sample(kind, d, 20, seed=d)]
    verdicts = VERIFIER.verify_batch(tasks, [t.meta["solution"] for t in tasks])
    wrong = [(t.answer, v.info) for t, v in zip(tasks, verdicts) if not v.correct]
    assert not wrong, wrong[:3]
    # Change the last number of each gold answer: the verifier must now say no.
    perturbed = [re.sub(r"(\d+)(?!.*\d)", lambda m: str(int(m.group(1)) + 1), t.answer) for t in tasks]
    verdicts = VERIFIER.verify_batch(tasks, [f"\\boxed{{{p}}}" for p in perturbed])
    assert not any(v.correct for v in verdicts)


CHAR = r"[0-9xy+\-×÷/^() ]"
CHAIN = re.compile(rf"[-0-9xy(]{CHAR}*(?:={CHAR}+)+")


def evaluate(expr: str, x: Fraction, y: Fraction) -> Fraction:
    """Exact value of a solution-line expression like `3x^2 - 2(x + 1)` or `47 × 6 ÷ 2`."""
    s = expr.strip().replace("×", "*").replace("÷", "/").replace("^", "**")
    s = re.sub(r"(\d)([xy(])", r"\1*\2", s)
    s = re.sub(r"([xy)])([xy(])", r"\1*\2", s)
    s = re.sub(r"\d+", lambda m: f"F({m.group()})", s)
    return eval(s, {"F": Fraction, "x": x, "y": y})  # noqa: S307 - our own generated arithmetic


@pytest.mark.parametrize("kind", ["arithmetic", "fractions", "expand", "simplify"])
def test_every_equality_in_the_worked_solutions_holds(kind):
    """Not just the final box: each `a = b = c` chain in a solution line is an identity."""
    checked = 0
    for d in DIFFICULTIES:
        for task in sample(kind, d, 25, seed=d):
            for line in task.meta["solution"].splitlines()[:-1]:
                for chain in CHAIN.findall(line):
                    for x, y in ((Fraction(7, 3), Fraction(-5, 2)), (Fraction(-2), Fraction(11))):
                        values = {evaluate(part, x, y) for part in chain.split("=")}
                        assert len(values) == 1, (line, values)
                    checked += 1
    assert checked >= 40


def test_difficulty_one_is_easy():
    for t in sample("arithmetic", 1, 200):
        numbers = [int(n) for n in re.findall(r"\d+", t.question)]
        assert len(numbers) == 2 and all(n < 100 for n in numbers)
        assert re.search(r"\d+ [+-] \d+\?|\d+ × \d\?", t.question), t.question
    for t in sample("word", 1, 100):
        assert int(t.answer) < 1000 and t.meta["solution"].count("\n") <= 3


def test_split_key_makes_commuted_variants_share_a_split():
    from reasongym.envs.math.gen.arith import canonical
    a, b = Fraction(3), Fraction(4)
    assert canonical(("+", a, b)) == canonical(("+", b, a))
    assert canonical(("-", a, b)) != canonical(("-", b, a))
    for t in sample("arithmetic", 1, 50):
        assert split_of(t) == split_of(type(t).create("other text", t.answer, split_key=t.meta["split_key"]))


def test_unknown_kind_and_bad_difficulty_are_clear_errors():
    with pytest.raises(ValueError, match="Did you mean arithmetic"):
        MathEnv(kinds=["arithmetics"])
    with pytest.raises(ValueError, match="difficulty must be one of"):
        MathEnv(difficulty=6)


def test_reset_is_deterministic_and_kinds_restrict_the_mix():
    env = gymnasium.make("reasongym/Math-v0", difficulty=2, kinds=["linear", "roots"])
    first = [env.reset(seed=s)[1]["task_id"] for s in range(8)]
    again = [env.reset(seed=s)[1]["task_id"] for s in range(8)]
    assert first == again and len(set(first)) > 4
    kinds = {env.reset(seed=s)[1]["task"].meta["kind"] for s in range(30)}
    assert kinds == {"linear", "roots"}
    assert {t.meta["kind"] for t in reasongym.make("arithmetic").unwrapped.tasks.take(20)} == {"arithmetic"}


def test_mixed_generator_covers_all_kinds():
    rng = np.random.default_rng(0)
    gen = mixed_generator()
    assert {gen(rng, 3).meta["kind"] for _ in range(200)} == set(KINDS)


def test_pinned_task_one_turn_terminates_and_info_has_reward_parts():
    env = gymnasium.make("reasongym/Math-v0", rewards={"correct": 1.0, "format": 0.2, "one_box": 0.1})
    task = env.unwrapped.tasks.take(1, seed=5)[0]
    obs, info = env.reset(seed=1, options={"task": task})
    assert info["task_id"] == task.id and obs == task.prompt
    _, reward, terminated, truncated, info = env.step(task.meta["solution"])
    assert (terminated, truncated) == (True, False)
    assert info["rewards"] == {"correct": 1.0, "format": 0.0, "one_box": 1.0} and reward == pytest.approx(1.1)
    assert info["verdict"].correct
    env.reset(options={"task": task})
    _, reward, terminated, truncated, info = env.step("<think>hmm</think> \\boxed{-999}")
    assert (terminated, truncated) == (True, False) and reward == pytest.approx(0.3)  # one turn: answered
    assert not info["verdict"].correct
    assert info["verdict"].info["extracted"] == "-999"


def test_multi_turn_feedback_and_return_equals_the_final_attempt_score():
    env = gymnasium.make("reasongym/Math-v0", max_turns=2, rewards={"correct": 1.0, "format": 0.1})
    task = env.unwrapped.tasks.take(1, seed=9)[0]
    env.reset(options={"task": task})
    obs, r1, terminated, truncated, _ = env.step("<think>guess</think> \\boxed{-12345}")
    assert (terminated, truncated) == (False, False)
    assert obs[-1]["role"] == "user" and "-12345 is not correct" in obs[-1]["content"]
    obs, r2, terminated, truncated, info = env.step(f"<think>again</think> {task.meta['solution']}")
    assert (terminated, truncated) == (True, False) and len(obs) == len(task.prompt) + 3
    assert r1 + r2 == pytest.approx(info["score"]) == pytest.approx(1.1)
    env.reset(options={"task": task})
    _, _, _, _, _ = env.step("no answer at all")
    obs, r, terminated, truncated, _ = env.step("still nothing")
    assert (terminated, truncated) == (False, True)
    assert "could not find a final answer" in obs[-2]["content"]


def test_heldout_env_and_sft_data():
    heldout = reasongym.make("math-heldout", difficulty=3).unwrapped.tasks.take(50, seed=0)
    assert all(split_of(t) == "heldout" for t in heldout) and len({t.id for t in heldout}) == 50
    rows = [(t.prompt, t.meta["solution"]) for t in reasongym.make("math").unwrapped.tasks.take(10)]
    assert all(sol.rstrip().endswith("}.") for _, sol in rows)
