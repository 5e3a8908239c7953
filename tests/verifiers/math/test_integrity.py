"""Reward integrity of the math verifier and environments (issue 11): what a policy under RL pressure
would try must not pay, crash or stall.

- the shared adversarial cases: agreement, no paid hack, every `dos` case back within 2 s;
- `MathVerifier.verify` returns a Verdict for any string (lone surrogates, NUL, 1 MB of junk) in 2 s;
- a worker killed at its limit does not delay the next call (the warm spare takes over);
- every procedural kind x difficulty: the generator's own worked solution passes in its form, and the
  question restated (its expression, equation, sides) earns nothing.

    python -m pytest -q tests/verifiers/math/test_integrity.py
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from reasongym.core import Task
from reasongym.envs.math import GENERATORS
from reasongym.verifiers.math.verifier import MathVerifier, check, normalize_answer
from reasongym.verifiers.math.worker import WorkerPool, default_pool

ADVERSARIAL = Path(__file__).resolve().parents[3].parent / "shared" / "cases" / "math_adversarial.jsonl"
BOUND_S = 2.0


def test_adversarial_cases():
    if not ADVERSARIAL.exists():
        pytest.skip(f"shared cases not found at {ADVERSARIAL}")
    rows = [json.loads(line) for line in ADVERSARIAL.read_text().splitlines() if line.strip()]
    default_pool().warm()  # start the workers first: their start-up (once per process) is not part of the bound
    agree, paid, slow = 0, [], []
    for r in rows:
        t = time.perf_counter()
        got = check(r["pred"], r["gold"]).equal
        if r["group"] == "dos" and time.perf_counter() - t > BOUND_S:
            slow.append(r["note"])
        agree += got == r["expected"]
        if r["group"] == "hack" and got:
            paid.append(r["note"])
    assert not paid, f"hacks paid: {paid}"
    assert not slow, f"dos cases over {BOUND_S} s: {slow}"
    assert agree / len(rows) >= 0.95, f"agreement {agree}/{len(rows)}"


HOSTILE = {
    "surrogate": "\ud800 \\boxed{\ud800}",
    "nul": "a\x00b \\boxed{1\x00}",
    "junk_1mb": "\x00\ud800{}\\$`<think>" * 100_000,
    "unclosed_think_1mb": "<think>" + "x " * 500_000 + r"\boxed{1}",
    "unclosed_fracs": "The answer is \\boxed{" + "\\frac{1}{" * 100_000,
    "bare_boxes": "\\boxed 3 " * 110_000,
    "braces_1mb": "{" * 1_000_000,
    "digits_prose_1mb": "It is " + "9" * 1_000_000,
    "nested_box": "\\boxed{" * 50_000 + "1" + "}" * 50_000,
    "fences": "```\n\\boxed{1}\n```\n\\boxed{2}\n" * 40_000,  # the boxes outside code say 2
    "huge_number": "\\boxed{" + "7" * 5000 + "}",
}


@pytest.mark.parametrize("completion", HOSTILE.values(), ids=HOSTILE.keys())
def test_verify_never_raises_and_comes_back_in_time(completion):
    verifier = MathVerifier()
    task = Task.create("q", "1")
    default_pool().warm()
    t = time.perf_counter()
    verdict = verifier.verify(task, completion)
    assert time.perf_counter() - t < BOUND_S
    assert verdict.reward == 0.0 and verdict.status in ("no_answer", "wrong_form", "ok", "timeout")
    assert isinstance(normalize_answer(completion), str)
    assert check(completion, "1").equal is False  # the bare-answer path too


def test_verdict_fields_and_vote_key():
    verifier = MathVerifier()
    task = Task.create("q", "0.5")
    right = verifier.verify(task, r"so \boxed{\dfrac12}")
    assert (right.reward, right.status, right.answer, verifier.vote_key(right)) == (1.0, "ok", r"\dfrac12", "1/2")
    assert verifier.vote_key(verifier.verify(task, r"\boxed{0.50}")) == "1/2"
    wrong_form = verifier.verify(Task.create("q", "120"), r"\boxed{\dbinom{10}{3}}")
    assert (wrong_form.reward, wrong_form.status) == (0.0, "wrong_form")
    unclosed = verifier.verify(task, r"The answer is \boxed{0.5")
    assert (unclosed.reward, unclosed.status, unclosed.answer) == (0.0, "no_answer", None)


def test_a_kill_does_not_delay_the_next_call():
    pool = WorkerPool(size=1)
    try:
        pool.warm()  # one worker and its warm spare
        assert pool.judge(r"\sum_{k=1}^{3000}k^{k^{2}}", "1", timeout_s=0.5) is None and pool.kills == 1
        t = time.perf_counter()
        assert pool.judge("x+1", "1+x", timeout_s=5)["equal"]
        assert time.perf_counter() - t < 1.0  # the spare answered; the replacement warms up meanwhile
    finally:
        pool.close()


def restatements(task: Task) -> list[str]:
    """The question's own expressions and equations, as a policy would copy them into the box."""
    question = task.question.split("\n")[0]
    pieces = []
    for pattern in (r"^What is (.+)\?$", r"^Compute (.+?)\. Give", r"^Solve (.+) for x\.$", r"^Solve (.+?)\. Give",
                    r"^Expand (.+)\.$", r"^Simplify (.+)\.$", r"^Solve for x and y: (.+) and (.+)\. Answer"):
        m = re.match(pattern, question)
        if m:
            pieces += [g for g in m.groups()] + [side.strip() for g in m.groups() for side in g.split("=")]
    pieces += re.findall(r"\d+(?:/\d+)?", question)  # every number written in the question
    return pieces


@pytest.mark.parametrize("kind", sorted(GENERATORS))
def test_generators_pay_their_solutions_and_never_the_question(kind):
    verifier = MathVerifier()
    for difficulty in range(1, 6):
        for seed in range(4):
            task = GENERATORS[kind](np.random.default_rng(100 * difficulty + seed), difficulty)
            assert task.meta["form"], task
            solved = verifier.verify(task, task.meta["solution"])
            assert solved.reward == 1.0, (task.question, task.answer, solved.info["reason"])
            for piece in restatements(task):
                verdict = verifier.verify(task, f"\\boxed{{{piece}}}")
                assert verdict.reward == 0.0, (task.question, piece, verdict.info["reason"])


# An unreduced fraction in whatever wrapping the number parser looks through. GRPO on the quick start found
# `\boxed{(6/9)}`: parentheses hid 6/9 from a regex that wanted the fraction at the end of the string.
WRAPPED = ["{v}", "({v})", "(({v}))", r"\left({v}\right)", "{{({v})}}", "(+{v})", "x = ({v})", r"\text{{{v}}}",
           "{v}.", "${v}$", r"\mathbf{{{v}}}"]


@pytest.mark.parametrize("wrap", WRAPPED)
@pytest.mark.parametrize("unreduced, gold", [("6/9", "2/3"), (r"\frac{6}{9}", "2/3"), ("74/2", "37"),
                                             (r"2\frac{2}{4}", r"5/2")])
def test_an_unreduced_fraction_does_not_pay_in_any_wrapping(wrap, unreduced, gold):
    answer = wrap.format(v=unreduced)
    for form in ("fraction", "number"):
        result = check(f"The answer is \\boxed{{{answer}}}.", gold, form=form)
        assert not result.equal and result.status == "wrong_form", (answer, form, result.reason)
    reduced = wrap.format(v=gold)  # the same wrapping of the reduced answer still pays
    assert check(f"The answer is \\boxed{{{reduced}}}.", gold, form="fraction").equal, reduced
