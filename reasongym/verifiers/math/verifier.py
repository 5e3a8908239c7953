r"""The math answer verifier: is a model's final answer equivalent to the gold answer?

    from reasongym.verifiers.math.verifier import is_equivalent, extract_answer, normalize_answer, MathVerifier
    is_equivalent(r"... so the answer is \boxed{\dfrac12}", "0.5")   # True
    extract_answer(r"<think>\boxed{7}</think> \boxed{8}")           # '8'
    normalize_answer(r"\frac{1}{2}") == normalize_answer("0.5")     # True: votes together in maj@k
    MathVerifier().verify(task, completion)                          # Verdict(reward=1.0, correct=True, info)

How: (1) `extract` finds the answer through `reasongym/verifiers/text.py` (the last closed box outside
think and code; conventions in ../shared/cases/README.md), in linear time; (2) `normalize` gives both
sides one spelling; (3) `form` checks the answer is in the task's form (`task.meta["form"]`, or a
default from the gold: a numeric gold needs a number, not `\dbinom{10}{3}`): a wrong form is reward 0
with status `wrong_form`; (4) a fast path settles identical strings and plain numbers (exact
fractions, no sympy); (5) everything else goes to a warm worker process (`worker`) that checks the
structural forms (`shape`) and runs `compare.judge` (sympy via latex2sympy2_extended; `exprs` for
expressions), killed from outside past its time limit: a hang is "not equal", never a stuck caller.

The whole call is bounded: completions over MAX_COMPLETION_CHARS are not read, answers over
MAX_ANSWER_CHARS are not compared, and the worker gets what is left of CALL_BUDGET_S after extraction,
so a completion of up to 1 MB comes back within 2 s once the workers are warm (their first start-up,
once per process, is not bounded). `check` and `MathVerifier.verify` never raise for any string: a
failure of the verifier itself is reward 0 with status `harness_error`. Safe from threads,
multiprocessing workers and forked children.

Benchmark: `python benchmarks/verifier_math.py`. Tests: `python -m pytest -q tests/verifiers/math/test_math_verifier.py`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from reasongym.core import Task, Verdict, Verifier
from reasongym.verifiers.math.extract import extract_answer, extract_gold
from reasongym.verifiers.math.form import check_form_name, components, default_form, form_problem
from reasongym.verifiers.math.normalize import normalize, numbers_equal, parse_number
from reasongym.verifiers.math.structure import max_depth, name_key, read_item, split_items
from reasongym.verifiers.math.worker import default_pool

__all__ = ["MathVerifier", "Check", "check", "extract_answer", "is_equivalent", "normalize_answer"]

DEFAULT_TIMEOUT_S = 1.5  # the sympy worker's limit for one comparison
CALL_BUDGET_S = 1.9  # the whole call (extraction + worker) stays under this, whatever the input
MAX_COMPLETION_CHARS = 2_000_000  # longer completions are not read at all (no answer)
MAX_NESTING = 50
MAX_ANSWER_CHARS = 2000  # a longer extracted answer is not an answer a grader would read


@dataclass(frozen=True)
class Check:
    """The outcome of one comparison: the verdict, what it was based on, and a VERDICT_STATUSES word."""

    equal: bool
    extracted: str | None  # the answer found in the completion (raw)
    parsed: str | None  # what it was read as
    gold: str  # what the gold answer was read as
    reason: str
    status: str = "ok"


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
    if len(g_nums) == 1 and g_nums[0] is not None and len(p_read) == 1 and p_nums[0] is None:
        parts = components(p_read[0].value)
        if len(parts) > 1 and all(parse_number(x) is not None for x in parts):
            return Check(False, None, p_read[0].value[:200], str(g_nums[0]), "a tuple of numbers is not a number")
    if any(n is None or n.degree for n in p_nums + g_nums):
        return None
    shown_p, shown_g = ", ".join(map(str, p_nums)), ", ".join(map(str, g_nums))
    p_names, g_names = [name_key(r) for r in p_read], [name_key(r) for r in g_read]
    if None not in g_names and len(set(g_names)) == len(g_names) == len(p_names) > 1 and set(p_names) == {None}:
        ok = all(numbers_equal(p, g) for p, g in zip(p_nums, g_nums))  # x = 2, y = 3 answered `2, 3`: in order
        return Check(ok, None, shown_p, shown_g, "equal in the gold's order" if ok else "different in the gold's order")
    if None not in p_names + g_names and len(set(g_names)) > 1 and set(p_names) == set(g_names):  # x = 2, y = 3
        ok = all(same_numbers([n for n, k in zip(p_nums, p_names) if k == name],
                              [n for n, k in zip(g_nums, g_names) if k == name]) for name in set(g_names))
        return Check(ok, None, shown_p, shown_g, "same value for each name" if ok else "different value for some name")
    ok = same_numbers(p_nums, g_nums)
    return Check(ok, None, shown_p, shown_g, "equal number" if ok else "different number")


def same_numbers(ps: list, gs: list) -> bool:
    """The two number lists hold the same values (as sets)."""
    return all(any(numbers_equal(p, g) for g in gs) for p in ps) and all(any(numbers_equal(p, g) for p in ps) for g in gs)


def check(pred_text: str, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S, form: str | None = None,
          require_box: bool = False) -> Check:
    """Extract the answer from `pred_text` and compare it with `gold`, within `timeout_s` seconds.

    form: the form the answer must take (`form.FORMS`); None derives it from the gold (`default_form`).
    require_box: only a closed box counts (the prompt asked for one). Never raises for any string: a
    failure of the verifier itself is "not equal" with status `harness_error`.
    """
    start = time.monotonic()
    try:
        prepared = prepare(pred_text, gold, form, require_box)
        if isinstance(prepared, Check):
            return prepared
        extracted, pred_norm, gold_norm, form = prepared
        left = min(timeout_s, CALL_BUDGET_S - (time.monotonic() - start))
        reply = default_pool().judge(pred_norm, gold_norm, left, form=form) if left > 0.05 else None
    except Exception as e:  # the grader failing is reward 0, counted by status, never a crash
        return Check(False, None, None, str(gold)[:200], f"verifier error: {type(e).__name__}: {e}"[:300],
                     "harness_error")
    if reply is None:
        return Check(False, extracted, pred_norm, gold_norm, f"timed out after {max(left, 0):.2g} s", "timeout")
    return Check(bool(reply["equal"]), extracted, reply["pred"], reply["gold"], reply["reason"],
                 reply.get("status", "ok"))


def prepare(pred_text: str, gold: str, form: str | None = None,
            require_box: bool = False) -> Check | tuple[str, str, str, str]:
    """Extraction, normalisation, the form and the caller-side checks: a final Check, or what to send on."""
    if not isinstance(pred_text, str):
        raise TypeError(f"a completion must be a str, got {type(pred_text).__name__}")
    gold_norm = normalize(extract_gold(str(gold)))
    if len(pred_text) > MAX_COMPLETION_CHARS:
        return Check(False, None, None, gold_norm, f"completion longer than {MAX_COMPLETION_CHARS} characters",
                     "no_answer")
    extracted = extract_answer(pred_text, require_box)
    if extracted is not None and len(extracted) > MAX_ANSWER_CHARS:
        return Check(False, extracted[:200], None, gold_norm, f"answer longer than {MAX_ANSWER_CHARS} characters")
    pred_norm = normalize(extracted) if extracted is not None else ""
    if not pred_norm:
        return Check(False, extracted, None, gold_norm, "no answer found", "no_answer")
    if max_depth(pred_norm) > MAX_NESTING:
        return Check(False, extracted, None, gold_norm, f"answer nested deeper than {MAX_NESTING} brackets")
    form = check_form_name(form) if form is not None else default_form(gold_norm)
    problem = form_problem(pred_norm, form)
    if problem:  # before the fast path: `74/2` is a plain number, and not worked out either
        return Check(False, extracted, pred_norm, gold_norm, f"{problem} (form {form})", "wrong_form")
    fast = fast_path(pred_norm, gold_norm)
    if fast is not None:
        return Check(fast.equal, extracted, fast.parsed, fast.gold, fast.reason)
    if pred_norm.count("{") != pred_norm.count("}"):
        return Check(False, extracted, None, gold_norm, "unbalanced braces in the answer")
    return extracted, pred_norm, gold_norm, form


def is_equivalent(pred_text: str, gold: str, timeout_s: float = DEFAULT_TIMEOUT_S, form: str | None = None) -> bool:
    """True when the final answer in `pred_text` (a completion or a bare answer) is equivalent to `gold`
    and in the form the gold implies (a numeric gold needs a number: `120`, not `\\dbinom{10}{3}`)."""
    return check(pred_text, gold, timeout_s, form).equal


def answer_key(extracted: str | None) -> str:
    """A canonical string of an extracted answer for majority voting (`0.5`, `1/2`, `\\frac12` -> `1/2`).

    Plain numbers become exact fractions; other answers their normalised LaTeX (no sympy, so cheap).
    "" when there is no answer. Never raises.
    """
    try:
        if extracted is None or len(extracted) > MAX_ANSWER_CHARS:
            return ""
        norm = normalize(extracted)
        items, kind = split_items(norm)
        values = [read_item(x).value for x in items]
        nums = [parse_number(v) for v in values]
        if nums and all(n is not None for n in nums):
            return ", ".join(sorted({str(n) for n in nums}))
        return ", ".join(sorted(set(values))) if kind != "single" else (values[0] if values else "")
    except Exception:  # a vote key must never stop an evaluation
        return ""


def normalize_answer(text: str) -> str:
    """The vote key of a completion's answer (see `answer_key`); "" when no answer is found. Never raises."""
    try:
        return answer_key(extract_answer(text)) if isinstance(text, str) and len(text) <= MAX_COMPLETION_CHARS else ""
    except Exception:
        return ""


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
    """Reward 1.0 when the completion's final answer is in the task's form and equivalent to `task.answer`.

    The form is `task.meta["form"]` (see `form.py`), else derived from the gold. require_box: only a
    closed `\\boxed{}` counts (on for every environment: their prompts ask for one). `verify` never
    raises: a verifier failure is reward 0 with status `harness_error`. `vote_key` is the normalised answer.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, max_workers: int = 8, require_box: bool = True):
        self.timeout_s = timeout_s
        self.max_workers = max_workers
        self.require_box = require_box
        default_pool().prestart()  # the workers' one-time start-up runs while the policy writes its answers

    def verify(self, task: Task, completion: str) -> Verdict:
        try:
            form = task.meta.get("form")
            result = check(completion, gold_text(task.answer), self.timeout_s, form, self.require_box)
        except Exception as e:  # a task with a broken form or answer: still a verdict, never a crash
            result = Check(False, None, None, "", f"verifier error: {type(e).__name__}: {e}"[:300], "harness_error")
        info = {"extracted": result.extracted, "parsed": result.parsed, "gold": result.gold,
                "reason": result.reason, "status": result.status}
        return Verdict(reward=1.0 if result.equal else 0.0, correct=result.equal, info=info,
                       answer=result.extracted, status=result.status)

    def vote_key(self, verdict: Verdict) -> str | None:
        return answer_key(verdict.answer) or None
