r"""The math answer verifier: is a model's final answer equivalent to the gold answer?

    from reasongym.verifiers.math.verifier import is_equivalent, extract_answer, normalize_answer, MathVerifier
    is_equivalent(r"... so the answer is \boxed{\dfrac12}", "0.5")   # True
    extract_answer(r"<think>\boxed{7}</think> \boxed{8}")           # '8'
    normalize_answer(r"\frac{1}{2}") == normalize_answer("0.5")     # True: votes together in maj@k
    MathVerifier().verify(task, completion)                          # Verdict(reward=1.0, correct=True, info)

How: (1) `math_extract` finds the answer (last box outside `<think>`; conventions in
../shared/cases/README.md); (2) `math_normalize` gives both sides one spelling; (3) a fast path in the
caller settles identical strings and plain numbers (exact fractions, no sympy); (4) everything else goes
to a warm worker process (`math_worker`) running `math_compare.judge` (sympy, via latex2sympy2_extended),
which is killed from outside when it runs past `timeout_s`: a hang is "not equal", never a stuck caller.
Safe from threads, multiprocessing workers and forked children.

Benchmark: `python benchmarks/verifier_math.py`. Tests: `python -m pytest -q tests/test_verifier_math.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasongym.core import Task, Verdict, Verifier
from reasongym.verifiers.math.extract import extract_answer, extract_gold
from reasongym.verifiers.math.form import final_form_problem
from reasongym.verifiers.math.normalize import normalize, numbers_equal, parse_number
from reasongym.verifiers.math.structure import max_depth, name_key, read_item, split_items
from reasongym.verifiers.math.worker import default_pool

__all__ = ["MathVerifier", "Check", "check", "extract_answer", "is_equivalent", "normalize_answer"]

DEFAULT_TIMEOUT_S = 1.5
MAX_NESTING = 50
MAX_ANSWER_CHARS = 2000  # longer answers that are not plain numbers are not sent to sympy


@dataclass(frozen=True)
class Check:
    """The outcome of one comparison: the verdict and what it was based on (deterministic)."""

    equal: bool
    extracted: str | None  # the answer found in the completion (raw)
    parsed: str | None  # what it was read as
    gold: str  # what the gold answer was read as
    reason: str


def fast_path(pred: str, gold: str) -> Check | None:
    """Settle identical strings and plain-number answers without a worker (None: needs sympy)."""
    if pred == gold:
        return Check(True, None, pred, gold, "identical")
    p_items, _ = split_items(pred)
    g_items, _ = split_items(gold)
    p_read = [read_item(x) for x in p_items]
    g_read = [read_item(x) for x in g_items]
    if any(r.equation is not None and not r.assignment for r in p_read + g_read):
        return None
    p_nums = [parse_number(r.value) for r in p_read]
    g_nums = [parse_number(r.value) for r in g_read]
    if any(n is None or n.degree for n in p_nums + g_nums):
        return None
    shown_p, shown_g = ", ".join(map(str, p_nums)), ", ".join(map(str, g_nums))
    p_names, g_names = [name_key(r) for r in p_read], [name_key(r) for r in g_read]
    if None not in p_names + g_names and len(set(g_names)) > 1 and set(p_names) == set(g_names):  # x = 2, y = 3
        ok = all(same_numbers([n for n, k in zip(p_nums, p_names) if k == name],
                              [n for n, k in zip(g_nums, g_names) if k == name]) for name in set(g_names))
        return Check(ok, None, shown_p, shown_g, "same value for each name" if ok else "different value for some name")
    ok = same_numbers(p_nums, g_nums)
    return Check(ok, None, shown_p, shown_g, "equal number" if ok else "different number")


def same_numbers(ps: list, gs: list) -> bool:
    """The two number lists hold the same values (as sets)."""
    return all(any(numbers_equal(p, g) for g in gs) for p in ps) and all(any(numbers_equal(p, g) for p in ps) for g in gs)


def check(pred_text: str, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S, final_form: bool = False) -> Check:
    """Extract the answer from `pred_text` and compare it with `gold`, within `timeout_s` seconds.

    final_form: an equivalent answer still counts as wrong when it has more operations than the gold
    (`\\boxed{58 - 21}` for 37): see `math_form`.

    Hostile text must not stop a training run: an error tripped while reading the text gives "not equal"
    with the error in `reason`. A misconfigured or broken worker pool still raises.
    """
    try:
        prepared = prepare(pred_text, gold, final_form)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError, OverflowError) as e:
        return Check(False, None, None, str(gold)[:200], f"verifier error: {type(e).__name__}: {e}"[:300])
    if isinstance(prepared, Check):
        return prepared
    extracted, pred_norm, gold_norm = prepared
    reply = default_pool().judge(pred_norm, gold_norm, timeout_s)
    if reply is None:
        return Check(False, extracted, pred_norm, gold_norm, f"timed out after {timeout_s:g} s")
    return Check(bool(reply["equal"]), extracted, reply["pred"], reply["gold"], reply["reason"])


def prepare(pred_text: str, gold: str, final_form: bool = False) -> Check | tuple[str, str, str]:
    """Extraction, normalisation and the caller-side checks: a final Check, or what to send to a worker."""
    extracted = extract_answer(pred_text)
    gold_norm = normalize(extract_gold(str(gold)))
    if extracted is None or not normalize(extracted):
        return Check(False, extracted, None, gold_norm, "no answer found")
    pred_norm = normalize(extracted)
    if max_depth(pred_norm) > MAX_NESTING:
        return Check(False, extracted, None, gold_norm, f"answer nested deeper than {MAX_NESTING} brackets")
    problem = final_form_problem(pred_norm, gold_norm) if final_form else None
    if problem:  # before the fast path too: `74/2` is a plain number, and not worked out either
        return Check(False, extracted, pred_norm, gold_norm, problem)
    fast = fast_path(pred_norm, gold_norm)
    if fast is not None:
        return Check(fast.equal, extracted, fast.parsed, fast.gold, fast.reason)
    if pred_norm.count("{") != pred_norm.count("}"):
        return Check(False, extracted, None, gold_norm, "unbalanced braces in the answer")
    if len(pred_norm) > MAX_ANSWER_CHARS:
        return Check(False, extracted, None, gold_norm, f"answer longer than {MAX_ANSWER_CHARS} characters")
    return extracted, pred_norm, gold_norm


def is_equivalent(pred_text: str, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """True when the final answer in `pred_text` (a completion or a bare answer) is equivalent to `gold`."""
    return check(pred_text, gold, timeout_s).equal


def normalize_answer(text: str) -> str:
    """A canonical string of a completion's answer for majority voting (`0.5`, `1/2`, `\\frac12` -> `1/2`).

    Plain numbers become exact fractions; other answers their normalised LaTeX (no sympy, so cheap).
    Returns "" when no answer is found.
    """
    extracted = extract_answer(text)
    if extracted is None:
        return ""
    norm = normalize(extracted)
    items, kind = split_items(norm)
    values = [read_item(x).value for x in items]
    nums = [parse_number(v) for v in values]
    if all(n is not None for n in nums):
        keys = sorted({f"{n.value.numerator}/{n.value.denominator}" if n.value.denominator != 1 else str(n.value.numerator)
                       for n in nums})
        return ", ".join(keys)
    return ", ".join(sorted(set(values))) if kind != "single" else values[0]


def gold_text(answer: object) -> str:
    """A task's answer as gold text: strings as they are; a tuple is ordered `(a, b)`, a set `\\{a, b\\}`,
    a list the unordered answer list `a, b`; numbers (int, Fraction, float) by their `str`."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, tuple):
        return "(" + ", ".join(gold_text(a) for a in answer) + ")"
    if isinstance(answer, (set, frozenset)):
        return "\\{" + ", ".join(sorted(gold_text(a) for a in answer)) + "\\}"
    if isinstance(answer, list):
        return ", ".join(gold_text(a) for a in answer)
    return str(answer)


class MathVerifier(Verifier):
    """Reward 1.0 when the completion's final answer is equivalent to `task.answer`, else 0.0.

    `verify_batch` runs the checks on a thread pool; the sympy work happens in worker processes.
    final_form: reject equivalent answers that are not worked out (the question restated, `58 - 21` for
    37); on for environments whose gold answers are in simplest form (see `math_form`).
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, max_workers: int = 8, final_form: bool = False):
        self.timeout_s = timeout_s
        self.max_workers = max_workers
        self.final_form = final_form

    def verify(self, task: Task, completion: str) -> Verdict:
        result = check(completion, gold_text(task.answer), self.timeout_s, self.final_form)
        info = {"extracted": result.extracted, "parsed": result.parsed, "gold": result.gold, "reason": result.reason}
        return Verdict(reward=1.0 if result.equal else 0.0, correct=result.equal, info=info)
