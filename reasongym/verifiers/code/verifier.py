"""The code verifier: take the last fenced code block of a completion, run it against the task's tests in
the sandbox, and turn the outcome into a Verdict.

A code task's `answer` is a dict (see `code_runs.py` for how each format is run and judged):

    {"format": "io",     "tests": [{"stdin": "2 3\\n", "stdout": "5\\n"}, ...]}
    {"format": "call",   "entry_point": "f", "tests": [{"args": [1, 2], "expected": 3}, ...]}
    {"format": "assert", "entry_point": "f" or None, "context": trusted code (HumanEval's prompt),
     "setup": ..., "tests": ["assert f(1) == 2", ...], "check_module": "def check(candidate): ..."}

An "assert" task may carry `preamble` (HumanEval: the prompt): it is put before the solution, and a
solution that does not define the entry point itself is read as the body that continues the preamble.

Reward: 1.0 when every test passes, else 0.0 (`reward="all"`, the default), or the fraction of tests that
pass (`reward="fraction"`). `correct` is always "all tests pass". The verdict's info names the first
failing test with its input, expected and actual output (truncated), and `info["feedback"]` says the same
in words for a multi-turn environment. Nothing timing-dependent goes into info, except which tests
finished before a time limit.

    verifier = CodeVerifier(reward="fraction", timeout_s=5)
    verdict = verifier.verify(task, "```python\\ndef f(a, b):\\n    return a + b\\n```")
"""

from __future__ import annotations

import os
import re

from reasongym.core import Task, Verdict, Verifier
from reasongym.verifiers.code.runs import TestReport, run_tests, short
from reasongym.verifiers.code.sandbox import Limits, Sandbox, default_sandbox
from reasongym.verifiers.rewards import strip_think

FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
REWARDS = ("all", "fraction")


def extract_code(completion: str) -> str | None:
    """The content of the last closed ``` fenced block outside <think>...</think>, or None."""
    blocks = FENCE_RE.findall(strip_think(completion))
    return blocks[-1] if blocks else None


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


class CodeVerifier(Verifier):
    """Runs completions' code against their task's tests in the sandbox (bwrap unless sandbox="none")."""

    def __init__(self, *, reward: str = "all", timeout_s: float = 10.0, memory_mb: int = 512,
                 sandbox: str | Sandbox = "bwrap", max_workers: int | None = None, **limits):
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        self.reward = reward
        self.max_workers = int(max_workers or os.cpu_count() or 2)  # more would only stretch wall clocks
        self.limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb, **limits)
        self.sandbox = sandbox if isinstance(sandbox, Sandbox) else default_sandbox(sandbox)

    def verify(self, task: Task, completion: str) -> Verdict:
        code = extract_code(completion)
        if code is None or not code.strip():
            why = "no fenced code block (```python ... ```) found in the answer"
            return Verdict(0.0, False, {"status": "no_code", "passed": 0,
                                        "feedback": f"{why[0].upper()}{why[1:]}. Answer with your whole "
                                                    "program in one ```python block."})
        report = run_tests(assemble(code, task.answer), task.answer, sandbox=self.sandbox,
                           limits=self.limits, stop_early=self.reward == "all")
        correct = report.status == "pass"
        reward = float(correct) if self.reward == "all" else report.passed / max(1, report.total)
        info = {"status": report.status, "passed": report.passed, "total": report.total, "code": code,
                "failure": report.first_failure, "reason": report.reason}
        if not correct:
            info["feedback"] = feedback_text(report)
        return Verdict(reward, correct, info)
