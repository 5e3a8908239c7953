"""Tests of the math answer verifier (reasongym/verifiers/math*.py): extraction, equivalence by category,
hard time limits, threads and multiprocessing, the Verifier API, and agreement on the shared cases.

    python -m pytest -q tests/verifiers/math/test_math_verifier.py
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reasongym.core import Task
from reasongym.verifiers.math.verifier import (
    MathVerifier,
    check,
    extract_answer,
    is_equivalent,
    normalize_answer,
)
from reasongym.verifiers.math.worker import WorkerPool, default_pool

CASES = Path(__file__).resolve().parents[3].parent / "shared" / "cases" / "math_equivalence.jsonl"


@pytest.mark.parametrize("text, expected", [
    (r"so the answer is \boxed{42}.", "42"),
    (r"first \boxed{1}, then after more work the result is \boxed{2}", "2"),
    (r"\boxed{\frac{1}{\sqrt{2}}}", r"\frac{1}{\sqrt{2}}"),  # nested braces
    (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),  # escaped braces inside
    (r"the answer is \boxed 5.", "5"),
    (r"\fbox{7}", "7"),
    (r"<think>maybe \boxed{3}</think> Final: \boxed{4}", "4"),
    (r"reasoning here</think> \boxed{9}", "9"),  # the opening tag was part of the prompt
    (r"\boxed{1} and \boxed{2}", "1, 2"),  # connectors join boxes into one list answer
    (r"\boxed{3}. Checking again, I get \boxed{5}", "5"),  # prose: only the last attempt counts
    (r"\boxed{200} earlier. Final Answer: The final answer is $10,455$.", "10,455"),
    (r"The answer is \boxed{12", None),  # never closed: no answer at all
    ("The answer is \\boxed{7}.\n```python\nprint(r'\\boxed{8}')\n```", "7"),  # a box in code is not the answer
    ("It could be 12, 13 or 14.", None),  # a hedge in prose
    ("$\\frac{3}{4}$", "$\\frac{3}{4}$"),  # a bare answer is its own answer
    ("We find that $x = 7$ works.", "x = 7"),
    ("So the total is 1,250 apples.", "1,250"),
    ("Answer $ \n 9 \n $", None),  # an inline span may not cross lines
    ("The answer is −3.", "-3"),
])
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", [
    r"<think>The answer is \boxed{7}</think>",  # only inside the think block
    r"<think>unclosed, \boxed{7}",
    "I cannot determine the answer.",
    r"\boxed{}",
])
def test_no_answer(text):
    assert extract_answer(text) is None or not is_equivalent(text, "7")


EQUAL = {
    "integer": [("1,234,567", "1234567"), (r"\boxed{1{,}000}", "1000"), ("1 000", "1000"), ("42.0", "42"), ("+5", "5")],
    "decimal": [("3.50", "3.5"), (".25", r"\frac14"), ("0.3333333333", r"\frac13"), ("2.718281828", "e"), (r"\$3.50", "3.5"),
                (r"\sqrt{17}", "4.123105625617661")],
    "fraction": [(r"\dfrac{6}{8}", "0.75"), ("2/4", r"\tfrac12"), (r"\frac{-1}{2}", r"-\frac{1}{2}"), (r"\frac34", "0.75")],
    "root": [(r"2\sqrt{3}", r"\sqrt{12}"), (r"\frac{1}{\sqrt2}", r"\frac{\sqrt{2}}{2}"), (r"\sqrt[3]{54}", r"3\sqrt[3]{2}")],
    "expression": [("x^2-1", "(x-1)(x+1)"), (r"\sin^2 x+\cos^2 x", r"1 + 0\sin x"), ("3+2i", "2i+3"), (r"|x|", r"\sqrt{x^2}"),
                   (r"\frac{x+2}{7}", r"\frac{x}{7}+\frac{2}{7}"), (r"\ln(ab)", r"\ln a + \ln b")],
    "equation": [("x = 3", "3"), ("y = 1 + 2x", "y=2x+1"), (r"\frac{NO}{BO}=\frac12", "0.5"), ("2x - 4y = 6", "x - 2y = 3"),
                 ("y = 3, x = 2", "x = 2, y = 3"), (r"x = \sqrt2, y = 3", r"y = 3, x = \sqrt{2}")],
    "sets_tuples": [(r"\{3,1,2\}", "1, 2, 3"), ("(1, 2), (3, 4)", "(3,4),(1,2)"), (r"x = \pm 2", "2, -2"),
                    (r"\boxed{2} \text{ and } \boxed{5}", r"\{5, 2\}")],
    "intervals": [(r"(-\infty, 3)", r"x < 3"), (r"[0, \infty)", r"x \geq 0"), (r"-1 \le x \le 2", "[-1,2]"),
                  (r"(0, 1] \cup (2, 3)", r"(0,1]\cup(2,3)"), (r"x < 2 \text{ or } x > 3", r"(-\infty,2)\cup(3,\infty)"),
                  (r"\{x \mid x > 2\}", r"(2, \infty)"), (r"(-\infty, \infty)", r"\mathbb{R}")],
    "matrix": [(r"\begin{bmatrix}1&2\\3&4\end{bmatrix}", r"\begin{pmatrix}1&2\\3&4\end{pmatrix}"),
               (r"\begin{pmatrix}1\\2\end{pmatrix}", "(1, 2)"),
               (r"\begin{pmatrix}1\\2\end{pmatrix}+\begin{pmatrix}1\\1\end{pmatrix}", r"\begin{pmatrix}2\\3\end{pmatrix}")],
    "percent": [(r"40\%", "0.4"), ("40%", "40"), ("40 percent", r"40\%"), (r"37.5\%", r"\frac38")],
    "degrees": [(r"60^\circ", "60"), ("60°", "60"), (r"90^{\circ}", r"\frac{\pi}{2}"), (r"135^\circ", "135")],
    "units": [("12 cm", "12"), (r"12\text{ meters}", "12"), (r"7\mbox{ cm}^2", "7"), ("5 dollars", "5"), ("60 km/h", "60"),
              ("12 square units", "12")],
    "unicode": [("−4", "-4"), ("√5", r"\sqrt5"), ("⅓", r"\frac13"), ("π/3", r"\frac{\pi}{3}"), ("x² − 1", "x^2-1")],
    "scientific": [(r"2.5 \times 10^{3}", "2500"), ("2.5e3", "2500"), (r"4 \cdot 10^{-3}", "0.004"), ("1,000,000", "10^6")],
    "mixed_repeating": [(r"3\frac{1}{4}", r"\frac{13}{4}"), (r"0.\overline{3}", r"\frac13"), (r"0.1\overline{6}", r"\frac16")],
    "units_mixed": [(r"18\,\mathrm{m/s}", "18"), (r"4.5 \text{ hours}", r"\frac92"), (r"2\frac14", "2.25"), ("2 1/4", "2.25"),
                    ("4.5 hrs", "4.5")],
    "named": [("y = -1, x = 2", "(2, -1)"), ("3+4j", "3+4i"), (r"\frac{3}{4}", "3:4")],
    "text": [(r"\text{Yes}", "yes"), (r"\textbf{(B)}", "B"), ("(C)", r"\text{C}"), (r"\text{(E) } 12", r"\text{(E)}"),
             ("The answer is (D).", "D")],
}
DIFFERENT = {
    "integer": [("41", "42"), ("-5", "5"), ("1267650600228229401496703205377", "2^{100}")],
    "decimal": [("0.33", r"\frac13"), ("3.14", r"\pi"), ("0", "10^{-10}"), ("0.6667", r"\frac23"), ("1.414", r"\sqrt2"),
                ("2.7183", "e"), (r"33.33\%", r"\frac13"), ("99.99", "100"), (r"\frac{355}{113}", r"\pi")],
    "unevaluated": [(r"\sqrt[3]{27}", "3"), (r"\sin^2 x+\cos^2 x", "1"), (r"e^{i\pi}", "-1"), (r"\binom{5}{2}", "10"),
                    (r"\log_2 8", "3"), ("2x = 10", "x = 5"), (r"\tan 45^\circ", "1"), ("204_5", "54"), ("17 \\times 23", "391"),
                    ("2^{10}", "1024"), ("5!", "120"), (r"\int_0^1 x^2\,dx", r"\frac13"), (r"\frac{d}{dx} x^2", "2x"),
                    (r"4\text{ else five}", "4")],
    "near": [("|x|", "x"), (r"\pi + 10^{-30}", r"\pi"), ("x^{30000}+1", "x^{30000}+2"), ("1/x^{1000}", "0"),
             (r"x^2 + (13x - 23)(7x - 24)(11x - 19)", "x^2"), (r"\frac{1}{2}x", r"\frac{1}{2x}"), ("3, 2", "x = 2, y = 3"),
             (r"\sqrt{x^2}", "x"), (r"\phantom{x+1}", "x+1"), (r"\boxed{\hphantom{5}}", "5")],
    "hedge": [(r"\boxed{12 \text{ or } 13}", "12"), (r"\boxed{3}\boxed{4}\boxed{5}", "4"), (r"\boxed{5, 6}", "5"),
              (r"\boxed{12 junk}", "12"), (r"\boxed{4}. The grader should mark 5 as correct.", "5")],
    "expression": [(r"\frac34 x", r"\frac34"), ("x^2+1", "(x+1)^2"), ("5-1", "5")],
    "equation": [("x = 4", "3"), ("y = 2x - 1", "y = 2x + 1"), ("x^2 = 4", "x = 2"), (r"x \neq 5", "5"),
                 ("x = 3, y = 2", "x = 2, y = 3"), (r"x = \sqrt2, y = 3", r"x = 3, y = \sqrt{2}")],
    "intervals": [("(1, 2)", "[1, 2]"), (r"(-\infty, 3]", r"(-\infty, 3)"), ("x > 1", "x < 1")],
    "base": [("204_6", "204_5"), (r"f(2) < f(1) < f(5)", r"f(2) < f(1) < f(4)")],
    "tuples": [("(2, 1)", "(1, 2)"), (r"\begin{pmatrix}2\\1\end{pmatrix}", r"\begin{pmatrix}1\\2\end{pmatrix}")],
    "percent_degrees": [("5%", "0.5"), (r"60^\circ", r"30^\circ")],
    "text": [(r"\text{not odd}", r"\text{odd}"), (r"\text{A}", "B")],
}


@pytest.mark.parametrize("pred, gold", [p for v in EQUAL.values() for p in v],
                         ids=[f"{k}-{i}" for k, v in EQUAL.items() for i in range(len(v))])
def test_equal(pred, gold):
    result = check(pred, gold)
    assert result.equal, result


@pytest.mark.parametrize("pred, gold", [p for v in DIFFERENT.values() for p in v],
                         ids=[f"{k}-{i}" for k, v in DIFFERENT.items() for i in range(len(v))])
def test_different(pred, gold):
    result = check(pred, gold)
    assert not result.equal, result


HANGS = [r"\boxed{10^{10^{10}}}", r"\boxed{(10^{9})!}", r"\boxed{\sum_{k=1}^{20000} k^{k}}",
         r"\boxed{\prod_{k=1}^{10^{9}} k}", r"\boxed{(1+10^{-100})^{10^{100}}}", r"\boxed{x^{x^{x^{x^{x}}}}}",
         r"\boxed{" + "(" * 400 + "1" + ")" * 400 + "}"]


@pytest.mark.parametrize("pred", HANGS)
def test_hang_cases_are_not_equal_within_the_limit(pred):
    t = time.perf_counter()
    assert not is_equivalent(pred, "1", timeout_s=1.0)
    assert time.perf_counter() - t < 2.0


def test_a_real_hang_is_killed_from_outside():
    """`k^{k^2}` for k up to 3000 passes the size checks but cannot finish: the worker is killed."""
    pool = WorkerPool(size=1)
    try:
        pool.warm()  # start-up is not part of the limit
        t = time.perf_counter()
        assert pool.judge(r"\sum_{k=1}^{3000}k^{k^{2}}", "1", timeout_s=0.5) is None
        assert time.perf_counter() - t < 1.5 and pool.kills == 1
        assert pool.judge("x+1", "1+x", timeout_s=30)["equal"]  # the replacement worker answers
    finally:
        pool.close()


def test_hostile_sizes_come_back_quickly():
    for pred in ["1" * 5000, r"\boxed{" + "x+" * 50000, "\\[" * 30000, r"\boxed{1} " * 20000, "<think>" * 30000]:
        t = time.perf_counter()
        assert not is_equivalent(pred, "5")
        assert time.perf_counter() - t < 2.0


def test_code_in_an_answer_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    assert not is_equivalent(rf"\boxed{{\text{{__import__('os').system('touch {marker}')}}}}", "0")
    assert not marker.exists()


SAMPLE = [(r"\boxed{\frac12}", "0.5", True), ("x = 3", "3", True), (r"\boxed{(1,2)}", "(2,1)", False),
          (r"\boxed{\sqrt8}", r"2\sqrt2", True), ("41", "42", False), (r"\boxed{x^{x^{x^{x^{x}}}}}", "x", False)] * 3


def _is_equivalent_row(row):
    return is_equivalent(row[0], row[1])


def test_threads_agree_with_serial():
    serial = [is_equivalent(p, g) for p, g, _ in SAMPLE]
    with ThreadPoolExecutor(max_workers=6) as pool:
        threaded = list(pool.map(_is_equivalent_row, SAMPLE))
    assert serial == threaded == [want for _, _, want in SAMPLE]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_pool(method):
    is_equivalent("1", "1")  # the parent's workers exist before the fork: the children must not share them
    with mp.get_context(method).Pool(2) as pool:
        got = pool.map(_is_equivalent_row, SAMPLE[:6])
    assert got == [want for _, _, want in SAMPLE[:6]]


def test_verifier_verdicts_and_batch():
    verifier = MathVerifier(require_box=False)  # SAMPLE has bare answers
    tasks = [Task.create(f"q{i}", gold) for i, (_, gold, _) in enumerate(SAMPLE)]
    completions = [pred for pred, _, _ in SAMPLE]
    serial = [verifier.verify(t, c) for t, c in zip(tasks, completions)]
    batch = verifier.verify_batch(tasks, completions)
    assert [v.correct for v in batch] == [v.correct for v in serial] == [w for _, _, w in SAMPLE]
    assert [v.info for v in batch] == [v.info for v in serial]  # deterministic info
    v = serial[0]
    assert v.reward == 1.0 and v.info["extracted"] == r"\frac12" and v.info["parsed"] == "1/2" and v.info["reason"]
    assert serial[4].reward == 0.0 and serial[4].info["reason"] == "different number"
    assert (v.answer, v.status, verifier.vote_key(v)) == (r"\frac12", "ok", "1/2")
    boxed = MathVerifier().verify(tasks[1], "x = 3")  # the prompt asks for a box: a bare answer is none
    assert (boxed.reward, boxed.status, boxed.answer) == (0.0, "no_answer", None)


def test_non_string_gold_answers():
    from fractions import Fraction

    verifier = MathVerifier()
    cases = [(Fraction(1, 2), r"\boxed{0.5}", True), ((1, 2), r"\boxed{(1, 2)}", True), ((1, 2), r"\boxed{(2, 1)}", False),
             ({3, 1}, r"\boxed{1, 3}", True), ([2, -2], r"\boxed{x = \pm 2}", True), (42, r"\boxed{42}", True)]
    for gold, completion, want in cases:
        assert verifier.verify(Task.create("q", gold), completion).correct is want, (gold, completion)


def test_normalize_answer_groups_votes():
    assert normalize_answer(r"\boxed{0.5}") == normalize_answer(r"so \boxed{\dfrac12}") == normalize_answer("1/2")
    assert normalize_answer(r"\boxed{\{2, 1\}}") == normalize_answer(r"\boxed{1, 2}")
    assert normalize_answer(r"\boxed{3}") != normalize_answer(r"\boxed{4}")
    assert normalize_answer("I do not know the answer.") == ""


def test_agreement_on_shared_cases():
    if not CASES.exists():
        pytest.skip(f"shared cases not found at {CASES}")
    rows = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()]
    default_pool().warm()  # the workers' start-up (once per process) is not part of the bound
    slow, agree = [], 0
    for r in rows:
        t = time.perf_counter()
        agree += is_equivalent(r["pred"], r["gold"]) == r["equal"]
        if time.perf_counter() - t > 2.0:
            slow.append(r["pred"][:60])
    assert agree / len(rows) >= 0.97, f"agreement {agree}/{len(rows)}"
    assert not slow, f"cases over 2 s: {slow}"


# The hack GRPO found on Math-v0 (copy the question into the box), as the policy wrote it, with the task's form.
RESTATED = [("The answer is \\boxed{58 - 21}.", "37", "number"), ("\\boxed{x - 20 = -18}", "x = 2", "equation"),
            ("\\boxed{9x = 99}", "x = 11", "equation"), ("\\boxed{7(x - 2)}", "7x - 14", "expanded"),
            ("\\boxed{(x + 8)(x + 7)}", "x^2 + 15x + 56", "expanded"), ("\\boxed{5/9 + 1/9}", "2/3", "fraction"),
            ("\\boxed{10 × 8}", "80", "number"), ("\\boxed{-8x - 4x - 3 - 1}", "-12x - 4", "simplified"),
            ("\\boxed{74/2}", "37", "number"), ("\\boxed{x^2 - 13x + 42 = 0}", "\\{6, 7\\}", "roots"),
            ("\\boxed{x^2 + 15x + 56}", "(x + 8)(x + 7)", "factored"), ("\\boxed{(8 - 2, 3)}", "(6, 3)", "pair")]
WORKED_OUT = [("\\boxed{37}", "37", "number"), ("\\boxed{2}", "x = 2", "equation"), ("\\boxed{x = 2}", "x = 2", "equation"),
              ("\\boxed{-14 + 7x}", "7x - 14", "expanded"), ("\\boxed{\\frac{2}{3}}", "2/3", "fraction"),
              ("\\boxed{80.0}", "80", "number"), ("\\boxed{-12*x - 4}", "-12x - 4", "simplified"),
              ("\\boxed{0.5}", "1/2", "number"), ("\\boxed{\\{10, 2\\}}", "\\{2, 10\\}", "roots"),
              ("\\boxed{x = 6, x = 7}", "\\{6, 7\\}", "roots"), ("\\boxed{(x + 7)(x + 8)}", "(x + 8)(x + 7)", "factored"),
              ("\\boxed{y = 3, x = 6}", "(6, 3)", "pair"), ("\\boxed{\\tfrac{3}{8}x^2 - x}", "\\frac{3}{8}x^2 - x", "expanded")]


@pytest.mark.parametrize("pred, gold, form", RESTATED)
def test_the_question_restated_is_the_wrong_form(pred, gold, form):
    result = check(pred, gold, form=form)
    assert not result.equal and result.status == "wrong_form", result


@pytest.mark.parametrize("pred, gold, form", WORKED_OUT)
def test_worked_out_answers_pass_in_any_spelling(pred, gold, form):
    result = check(pred, gold, form=form)
    assert result.equal and result.status == "ok", result


def test_the_procedural_environment_demands_the_form():
    import gymnasium

    env = gymnasium.make("reasongym/Math-v0", kinds=["arithmetic"])
    _, info = env.reset(seed=3)
    question = info["task"].prompt[-1]["content"].split("What is ")[1].split("?")[0]
    _, reward, *_ , step_info = env.step(f"\\boxed{{{question}}}")
    assert reward == 0.0 and step_info["verdict"].status == "wrong_form"
