"""Running a program against test cases in the sandbox: the "io" and "call" formats, and what all share.

Three formats (the `format` key of a code task's answer), each with its results judged outside the
program's process:
- "io": stdin/stdout pairs. One sandbox run per test; the host compares stdout (trailing whitespace
  ignored per line) and requires exit status ok.
- "call": input/expected pairs for one function. The solution runs under `sandboxed/serve.py`; the host
  calls it over the wire, decodes each result into plain built-ins and compares it with the expected
  value itself (floats within a tolerance).
- "assert": HumanEval / MBPP test code, in `asserts.py`: the tests run in a harness sandbox
  (`sandboxed/check.py`) against proxies of the solution running in a second sandbox.

Each returns a `TestReport`. `timeout_s` in the limits is per run: per test for "io", for the whole suite
of a "call" or "assert" program. `code` is the solution as UTF-8 bytes (the verifier encodes it).

    report = run_call_tests(b"def add(a, b):\\n    return a + b", "add", [{"args": [1, 2], "expected": 3}],
                            default_sandbox(), Limits(), stop_early=True)
"""

from __future__ import annotations

import math
import os
import selectors
import time
from dataclasses import dataclass, field
from typing import Any

from reasongym.verifiers.code.sandbox import SANDBOXED, Limits, Sandbox
from reasongym.verifiers.code.sandboxed import wire

SOURCES = {name: (SANDBOXED / name).read_text() for name in ("wire.py", "serve.py", "check.py")}
FLOAT_TOL = 1e-6


@dataclass
class TestReport:
    """passed/total, one dict per test run ({"pass", "input", "expected", "actual", "error"}), and a status:
    pass, fail, timeout (the run hit its time limit), fatal (the tests could not run: no such function,
    the solution failed to load) or harness_error (the grader failed: the task has no tests, the harness
    died; never a pass)."""

    passed: int
    total: int
    results: list[dict] = field(default_factory=list)
    status: str = "fail"
    reason: str = ""

    @property
    def first_failure(self) -> dict | None:
        return next((r for r in self.results if not r["pass"]), None)


def shown(value: Any, limit: int = 300) -> str:
    """repr(value) cut at `limit` characters; never raises (a 5,000-digit int, a deep list are named)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - int digit limit, recursion depth
        text = f"<a {type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[:limit] + "..."


def short(value: Any, limit: int = 300) -> str:
    """A string cut at `limit` characters (lone surrogates escaped: this text may go back to a tokenizer),
    or any other value shown."""
    if not isinstance(value, str):
        return shown(value, limit)
    text = value if len(value) <= limit else value[:limit] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def finish(results: list[dict], total: int, status: str = "", reason: str = "") -> TestReport:
    passed = sum(r["pass"] for r in results)
    if not total and not status:
        status, reason = "harness_error", "the task has no tests; fix the task (a row without tests pays nothing)"
    if not status:
        status = "pass" if passed == total and len(results) == total else "fail"
    return TestReport(passed, total, results, status, reason)


# -- stdin/stdout -------------------------------------------------------------------------------------
def same_output(got: str, expected: str) -> bool:
    def norm(s: str) -> list[str]:
        return [line.rstrip() for line in s.rstrip().splitlines()]
    return norm(got) == norm(expected)


def run_io_tests(code: bytes, tests: list[dict], box: Sandbox, limits: Limits, stop_early: bool) -> TestReport:
    results = []
    for test in tests:
        run = box.run(code, stdin=test["stdin"], limits=limits)
        ok = run.status == "ok" and same_output(run.stdout, test["stdout"])
        error = "" if run.status == "ok" else f"{run.status}: {run.reason}"
        results.append({"pass": ok, "input": short(test["stdin"]), "expected": short(test["stdout"]),
                        "actual": short(run.stdout), "error": error})
        if stop_early and not ok:
            break
    timed_out = any(r["error"].startswith("timeout") for r in results)
    return finish(results, len(tests), "timeout" if timed_out else "")


# -- input/expected pairs, compared here ---------------------------------------------------------------
class Deadline(Exception):
    pass


class Channel:
    """Line I/O with a sandboxed process over two pipes, bounded by a deadline (no blocking past it)."""

    def __init__(self, read_fd: int, write_fd: int, deadline: float):
        self.read_fd, self.write_fd, self.deadline, self.buf = read_fd, write_fd, deadline, bytearray()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)

    def _wait(self, fd: int, event: int) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, event)
            if not sel.select(max(0.0, self.deadline - time.monotonic())):
                raise Deadline

    def readline(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > wire.MAX_LINE:
                raise wire.WireError(f"reply longer than {wire.MAX_LINE} bytes")
            self._wait(self.read_fd, selectors.EVENT_READ)
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return b""
            self.buf += chunk
        end = self.buf.index(b"\n") + 1
        line, self.buf = bytes(self.buf[:end]), self.buf[end:]
        return line

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._wait(self.write_fd, selectors.EVENT_WRITE)
            try:
                view = view[os.write(self.write_fd, view):]
            except BrokenPipeError:
                raise wire.CandidateError("the candidate process ended") from None


def same_value(actual: Any, expected: Any, tol: float = FLOAT_TOL) -> bool:
    """Python equality on decoded plain values, with floats equal within `tol` (relative or absolute)."""
    if isinstance(expected, float) or isinstance(actual, float):
        return (isinstance(actual, (int, float)) and isinstance(expected, (int, float))
                and not isinstance(actual, bool) and math.isclose(actual, expected, rel_tol=tol, abs_tol=tol))
    if type(expected) in (list, tuple) and type(actual) is type(expected):
        return len(actual) == len(expected) and all(same_value(a, e, tol) for a, e in zip(actual, expected))
    if type(expected) is dict and type(actual) is dict:
        return actual.keys() == expected.keys() and all(same_value(actual[k], v, tol) for k, v in expected.items())
    return bool(actual == expected)


def run_call_tests(code: bytes, entry_point: str, tests: list[dict], box: Sandbox, limits: Limits,
                   stop_early: bool) -> TestReport:
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    log = os.memfd_create("reasongym-solution-stderr")
    files = {"main.py": SOURCES["serve.py"], "wire.py": SOURCES["wire.py"], "solution.py": code}
    try:
        proc = box.start(files, limits, stdin=req_r, stdout=rep_w, stderr=log)
    except BaseException:
        for fd in (log, req_w, rep_r):
            os.close(fd)
        raise
    finally:
        for fd in (req_r, rep_w):
            os.close(fd)
    results: list[dict] = []
    status = reason = ""
    try:
        channel = Channel(rep_r, req_w, time.monotonic() + limits.timeout_s)
        conn = wire.Conn(channel.readline, channel.write)
        remotes = conn.hello()
        if entry_point not in remotes:
            raise wire.CandidateError(f"the solution does not define {entry_point}()")
        function = remotes[entry_point]
        for test in tests:
            row = {"input": f"{entry_point}({', '.join(map(repr, test['args']))})"[:300],
                   "expected": shown(test["expected"]), "actual": "", "error": ""}
            try:
                actual = function(*test["args"])
                row["actual"], row["pass"] = shown(actual), same_value(actual, test["expected"])
            except Deadline:
                raise
            except Exception as e:  # noqa: BLE001 - the candidate raised, crashed or sent garbage
                row.update({"pass": False, "error": f"{type(e).__name__}: {e}"[:500]})
            results.append(row)
            if stop_early and not row["pass"]:
                break
    except Deadline:
        status, reason = "timeout", f"time limit of {limits.timeout_s:g} s"
    except (wire.CandidateError, wire.WireError) as e:
        status, reason = "fatal", str(e)[:2000]
    finally:
        rc, ready = proc.finish()
        os.close(rep_r)
        os.close(req_w)
        box.check_started(ready, rc, memfd_tail(log), stopped=status == "timeout")
    if status == "fatal" and not results:
        results = [{"pass": False, "input": "", "expected": "", "actual": "", "error": reason}]
    return finish(results, len(tests), status, reason)


def memfd_tail(fd: int, n: int = 4000) -> str:
    """The last n bytes of a memfd log, and close it."""
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        os.lseek(fd, max(0, size - n), os.SEEK_SET)
        return os.read(fd, n).decode("utf-8", errors="replace")
    finally:
        os.close(fd)
