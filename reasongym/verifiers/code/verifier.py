"""The code verifier: take the last fenced code block of a completion, run it against the task's tests in
the sandbox, and turn the outcome into a Verdict.

A code task's `answer` is a dict (see `runs.py` and `asserts.py` for how each format is run and judged):

    {"format": "io",     "tests": [{"stdin": "2 3\\n", "stdout": "5\\n"}, ...]}
    {"format": "call",   "entry_point": "f", "tests": [{"args": [1, 2], "expected": 3}, ...]}
    {"format": "assert", "entry_point": "f" or None, "context": trusted code (HumanEval's prompt),
     "setup": ..., "tests": ["assert f(1) == 2", ...], "check_module": "def check(candidate): ..."}

An "assert" task may carry `preamble` (HumanEval: the prompt): it is put before the solution, and a
solution that does not define the entry point itself is read as the body that continues the preamble.

Reward: 1.0 when every test passes, else 0.0 (`reward="all"`, the default), or the fraction of tests that
pass (`reward="fraction"`). `correct` is always "all tests pass". The verdict's info names the first
failing test with its input, expected and actual output (truncated), and `feedback` says the same in
words for a multi-turn environment. Nothing timing-dependent goes into info, except which tests
finished before a time limit.

A completion never crashes the caller: whatever the text (lone surrogates, hostile programs), `verify`
returns a Verdict. When the grader itself fails (the harness died, the task has no tests, the sandbox
could not start) the reward is 0, `Verdict.status` is "harness_error", and `CodeVerifier.harness_errors`
counts it (a run's metrics should report the share of verdicts with that status).

    verifier = CodeVerifier(reward="fraction", timeout_s=5)
    verdict = verifier.verify(task, "```python\\ndef f(a, b):\\n    return a + b\\n```")
    verdict.reward, verdict.status, verdict.answer     # 1.0, "ok", the code that ran
"""

from __future__ import annotations

import logging
import os
import re
import threading

from reasongym.core import Task, Verdict, Verifier
from reasongym.verifiers.code.asserts import run_assert_tests
from reasongym.verifiers.code.runs import TestReport, run_call_tests, run_io_tests, short
from reasongym.verifiers.code.sandbox import Limits, Sandbox, default_sandbox
from reasongym.verifiers.text import last_code_block

log = logging.getLogger(__name__)

REWARDS = ("all", "fraction")
# TestReport status -> Verdict.status (VERDICT_STATUSES); pass, fail and fatal are all scored normally.
VERDICT_STATUS = {"timeout": "timeout", "harness_error": "harness_error"}


def extract_code(completion: str) -> str | None:
    """The content of the last closed fenced block outside <think>...</think>, or None (see verifiers/text.py)."""
    return last_code_block(completion)


def assemble(code: str, answer: dict) -> str:
    """The program to run: the task's preamble (if any) followed by the solution."""
    preamble, entry = answer.get("preamble") or "", answer.get("entry_point")
    if not preamble:
        return code
    if entry and re.search(rf"^(async\s+)?def\s+{re.escape(entry)}\s*\(", code, re.MULTILINE):
        return preamble.rstrip("\n") + "\n\n\n" + code
    return preamble + code  # a function body that continues the preamble's signature and docstring


def feedback_text(report: TestReport) -> str:
    """What a multi-turn environment tells the policy after a failed attempt."""
    if report.status == "harness_error":
        return ("The tests could not be run on this answer (the grader failed; it scores 0). Answer again "
                "with the whole program in one ```python block.")
    failure = report.first_failure
    if len(report.results) < report.total and report.status != "timeout":  # stopped at the first failure
        lines = [f"Your code does not pass all {report.total} tests."]
    else:
        lines = [f"Your code passed {report.passed} of {report.total} tests."]
    if report.status == "timeout":
        lines.append(f"It ran out of time ({report.reason}).")
    if failure:
        lines.append("First failing test:")
        for key in ("input", "expected", "actual", "error"):
            if failure.get(key):
                lines.append(f"  {key}: {short(failure[key])}")
    lines.append("Fix the code and answer with the whole corrected program in one ```python block.")
    return "\n".join(lines)


def run_tests(code: bytes, answer: dict, *, sandbox: Sandbox, limits: Limits, stop_early: bool = False) -> TestReport:
    """Run the solution `code` (UTF-8 bytes) against a code task's answer (see the module docstring)."""
    fmt = answer.get("format")
    if fmt == "io":
        return run_io_tests(code, answer["tests"], sandbox, limits, stop_early)
    if fmt == "call":
        return run_call_tests(code, answer["entry_point"], answer["tests"], sandbox, limits, stop_early)
    if fmt == "assert":
        return run_assert_tests(code, answer, sandbox, limits, stop_early)
    raise ValueError(f"unknown code test format {fmt!r} (expected 'io', 'call' or 'assert')")


def unencodable(code: str) -> str | None:
    """Why `code` cannot be written as a UTF-8 file (a lone surrogate), or None."""
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as e:
        line = code.count("\n", 0, e.start) + 1
        return f"the code contains {code[e.start]!r} on line {line}, which is not valid Unicode text"
    return None


class CodeVerifier(Verifier):
    """Runs completions' code against their task's tests in the sandbox (bwrap unless sandbox="none").
    `harness_errors` counts verdicts where the grader itself failed (status "harness_error")."""

    def __init__(self, *, reward: str = "all", timeout_s: float = 10.0, memory_mb: int = 512,
                 sandbox: str | Sandbox = "bwrap", max_workers: int | None = None, **limits):
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        self.reward = reward
        self.max_workers = int(max_workers or os.cpu_count() or 2)  # more would only stretch wall clocks
        self.limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb, **limits)
        self.sandbox = sandbox if isinstance(sandbox, Sandbox) else default_sandbox(sandbox)
        self.harness_errors = 0
        self._lock = threading.Lock()

    def verify(self, task: Task, completion: str) -> Verdict:
        code = extract_code(completion) if isinstance(completion, str) else None
        if code is None or not code.strip():
            why = "No fenced code block (```python ... ```) found in the answer"
            return self._verdict(0.0, False, "no_answer", code, f"{why}. Answer with your whole program in "
                                 "one ```python block.", {"status": "no_code", "passed": 0})
        if (why := unencodable(code)) is not None:
            return self._verdict(0.0, False, "ok", code, f"{why[0].upper()}{why[1:]}. Fix the code.",
                                 {"status": "fatal", "passed": 0, "total": 0, "reason": why})
        try:
            report = run_tests(assemble(code, task.answer).encode("utf-8"), task.answer, sandbox=self.sandbox,
                               limits=self.limits, stop_early=self.reward == "all")
        except Exception as e:  # noqa: BLE001 - a grader failure is reward 0 and counted, never raised
            report = TestReport(0, 0, [], "harness_error", f"{type(e).__name__}: {e}"[:2000])
        return self._judge(report, code, task)

    def _judge(self, report: TestReport, code: str, task: Task) -> Verdict:
        correct = report.status == "pass"
        if report.status == "harness_error":
            self._count_harness_error(task, report.reason)
            reward = 0.0
        else:
            reward = float(correct) if self.reward == "all" else report.passed / max(1, report.total)
        info = {"status": report.status, "passed": report.passed, "total": report.total, "code": code,
                "failure": report.first_failure, "reason": report.reason}
        feedback = None if correct else feedback_text(report)
        return self._verdict(reward, correct, VERDICT_STATUS.get(report.status, "ok"), code, feedback, info)

    @staticmethod
    def _verdict(reward: float, correct: bool, status: str, code: str | None, feedback: str | None,
                 info: dict) -> Verdict:
        if feedback is not None:
            info["feedback"] = feedback  # old readers take it from info
        return Verdict(reward, correct, info, answer=code, feedback=feedback, status=status)

    def _count_harness_error(self, task: Task, reason: str) -> None:
        with self._lock:
            self.harness_errors += 1
            n = self.harness_errors
        if n <= 5 or n % 100 == 0:  # loud enough to notice, not a flood in a long run
            log.warning("code grader failed (%d so far) on task %s: %s", n, task.id, reason[:500])
