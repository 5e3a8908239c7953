"""Running a program against test cases in the sandbox, one function per test format.

Three formats (the `format` key of a code task's answer), each with its results judged outside the
program's process:
- "io": stdin/stdout pairs. One sandbox run per test; the host compares stdout (trailing whitespace
  ignored per line) and requires exit status ok.
- "call": input/expected pairs for one function. The solution runs under `sandboxed/serve.py`; the host
  calls it over the wire, decodes each result into plain built-ins and compares it with the expected
  value itself (floats within a tolerance).
- "assert": HumanEval / MBPP test code. The tests run in a harness sandbox (`sandboxed/check.py`) against
  proxies of the solution running in a second sandbox, so asserts compare plain decoded values with the
  harness's own built-ins.

Each returns a `TestReport`. `timeout_s` in the limits is per run: per test for "io", for the whole suite
of a "call" or "assert" program.

    report = run_tests("def add(a, b):\\n    return a + b", {"format": "call", "entry_point": "add",
                       "tests": [{"args": [1, 2], "expected": 3}]}, sandbox=default_sandbox(), limits=Limits())
"""

from __future__ import annotations

import ast
import json
import marshal
import math
import os
import selectors
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from reasongym.verifiers.code.sandbox import SANDBOXED, Limits, Sandbox
from reasongym.verifiers.code.sandboxed import wire
from reasongym.verifiers.code.watch import pump

SOURCES = {name: (SANDBOXED / name).read_text() for name in ("wire.py", "serve.py", "check.py")}
FLOAT_TOL = 1e-6


@dataclass
class TestReport:
    """passed/total, one dict per test run ({"pass", "input", "expected", "actual", "error"}), and a status:
    pass, fail, timeout (the run hit its time limit) or fatal (the tests could not run: no such function,
    the solution failed to load)."""

    passed: int
    total: int
    results: list[dict] = field(default_factory=list)
    status: str = "fail"
    reason: str = ""

    @property
    def first_failure(self) -> dict | None:
        return next((r for r in self.results if not r["pass"]), None)


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _finish(results: list[dict], total: int, status: str = "", reason: str = "") -> TestReport:
    passed = sum(r["pass"] for r in results)
    if not status:
        status = "pass" if passed == total and len(results) == total else "fail"
    return TestReport(passed, total, results, status, reason)


# -- stdin/stdout -------------------------------------------------------------------------------------
def same_output(got: str, expected: str) -> bool:
    def norm(s: str) -> list[str]:
        return [line.rstrip() for line in s.rstrip().splitlines()]
    return norm(got) == norm(expected)


def run_io_tests(code: str, tests: list[dict], box: Sandbox, limits: Limits, stop_early: bool) -> TestReport:
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
    return _finish(results, len(tests), "timeout" if timed_out else "")


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


def run_call_tests(code: str, entry_point: str, tests: list[dict], box: Sandbox, limits: Limits,
                   stop_early: bool) -> TestReport:
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    log = os.memfd_create("reasongym-solution-stderr")
    files = {"main.py": SOURCES["serve.py"], "wire.py": SOURCES["wire.py"], "solution.py": code}
    try:
        proc = box.start(files, limits, stdin=req_r, stdout=rep_w, stderr=log)
    except BaseException:
        os.close(log)
        raise
    finally:
        for fd in (req_r, rep_w):
            os.close(fd)
    results: list[dict] = []
    status = reason = ""
    try:
        channel = Channel(rep_r, req_w, time.monotonic() + limits.timeout_s)
        conn = wire.Conn(channel.readline, channel.write)
        remotes, _ = conn.hello()
        if entry_point not in remotes:
            raise wire.CandidateError(f"the solution does not define {entry_point}()")
        function = remotes[entry_point]
        for test in tests:
            row = {"input": f"{entry_point}({', '.join(map(repr, test['args']))})"[:300],
                   "expected": short(repr(test["expected"])), "actual": "", "error": ""}
            try:
                actual = function(*test["args"])
                row["actual"], row["pass"] = short(repr(actual)), same_value(actual, test["expected"])
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
        box.check_started(ready, rc, _tail(log), stopped=status == "timeout")
    if status == "fatal" and not results:
        results = [{"pass": False, "input": "", "expected": "", "actual": "", "error": reason}]
    return _finish(results, len(tests), status, reason)


def _tail(fd: int, n: int = 4000) -> str:
    """The last n bytes of a memfd log, and close it."""
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        os.lseek(fd, max(0, size - n), os.SEEK_SET)
        return os.read(fd, n).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


# -- assert-style tests in a harness sandbox ------------------------------------------------------------
def _is_test(stmt: ast.stmt) -> bool:
    """A statement that asserts something (HumanEval's `assert True` fillers are not tests)."""
    return any(isinstance(n, ast.Assert) and not isinstance(n.test, ast.Constant) for n in ast.walk(stmt))


def _step(stmt: ast.stmt, test: bool) -> dict:
    step = {"code": ast.unparse(stmt), "test": test, "left": None, "right": None}
    if (test and isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare)
            and len(stmt.test.ops) == 1 and isinstance(stmt.test.ops[0], ast.Eq)):
        step["left"], step["right"] = ast.unparse(stmt.test.left), ast.unparse(stmt.test.comparators[0])
    return step


@lru_cache(maxsize=4096)
def assert_steps(setup: str, tests: tuple[str, ...], check_module: str) -> tuple[dict, ...]:
    """The harness's steps, in order: setup code, each assert string, then check()'s body statement by
    statement (each one that asserts is a test, the others are set-up) after the rest of its module."""
    steps = [{"code": setup, "test": False, "left": None, "right": None}] if setup else []
    for src in tests:
        body = ast.parse(src).body
        steps.append(_step(body[0], True) if len(body) == 1 else
                     {"code": src, "test": True, "left": None, "right": None})
    for node in ast.parse(check_module).body if check_module else []:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            steps += [_step(stmt, _is_test(stmt)) for stmt in node.body]
        else:
            steps.append(_step(node, False))
    return tuple(steps)


def run_assert_tests(code: str, spec: dict, box: Sandbox, limits: Limits) -> TestReport:
    steps = assert_steps(spec.get("setup") or "", tuple(spec.get("tests") or ()), spec.get("check_module") or "")
    harness_spec = marshal.dumps({"context": spec.get("context") or "", "entry_point": spec.get("entry_point"),
                                  "steps": [dict(s) for s in steps]})
    to_harness_r, to_harness_w = os.pipe()   # solution replies -> harness stdin
    to_solution_r, to_solution_w = os.pipe()  # harness requests -> solution stdin
    results_r, results_w = os.pipe()
    log = os.memfd_create("reasongym-solution-stderr")
    t0 = time.monotonic()
    started = []
    try:
        started.append(box.start({"main.py": SOURCES["serve.py"], "wire.py": SOURCES["wire.py"], "solution.py": code},
                                 limits, stdin=to_solution_r, stdout=to_harness_w, stderr=log))
        started.append(box.start({"main.py": SOURCES["check.py"], "wire.py": SOURCES["wire.py"],
                                  "spec.marshal": harness_spec},
                                 limits, stdin=to_harness_r, stdout=to_solution_w, stderr=results_w))
    except BaseException:
        for proc in started:
            proc.finish()
        os.close(results_r)
        os.close(log)
        raise
    finally:
        for fd in (to_harness_r, to_harness_w, to_solution_r, to_solution_w, results_w):
            os.close(fd)
    try:
        got = pump({"results": results_r}, started[1], t0 + limits.timeout_s, limits.max_output_bytes)
    finally:
        (rc_solution, ready_solution), (rc_harness, ready_harness) = (proc.finish() for proc in started)
        os.close(results_r)
    text = got.data["results"].decode("utf-8", errors="replace")
    stopped = got.timed_out or got.overflow
    box.check_started(ready_solution, rc_solution, _tail(log), stopped)
    box.check_started(ready_harness, rc_harness, text, stopped)
    total, results, fatal, done = None, [], "", False
    for line in text.splitlines():
        try:
            message = json.loads(line[2:]) if line.startswith("@@") else {}
        except ValueError:  # a line cut short when the run was stopped
            continue
        total = message.get("total", total)
        fatal = message.get("fatal", fatal)
        done = done or "done" in message
        if "pass" in message:
            results.append({"pass": message["pass"], "input": message["src"],
                            "expected": message.get("expected", ""), "actual": message.get("actual", ""),
                            "error": message.get("error", "")})
    if total is None or (not done and not fatal and not stopped):
        raise RuntimeError(f"the test harness exited ({rc_harness}) without finishing: a bug in the task's "
                           f"tests or in reasongym. Its stderr: {text[-2000:]}")
    if fatal:
        results.append({"pass": False, "input": "", "expected": "", "actual": "", "error": fatal})
        return _finish(results, max(total, len(results)), "fatal", fatal)
    if got.timed_out:
        return _finish(results, total, "timeout", f"time limit of {limits.timeout_s:g} s")
    return _finish(results, total)


def run_tests(code: str, answer: dict, *, sandbox: Sandbox, limits: Limits, stop_early: bool = False) -> TestReport:
    """Run `code` against a code task's answer (see the module docstring for the formats)."""
    fmt = answer.get("format")
    if fmt == "io":
        return run_io_tests(code, answer["tests"], sandbox, limits, stop_early)
    if fmt == "call":
        return run_call_tests(code, answer["entry_point"], answer["tests"], sandbox, limits, stop_early)
    if fmt == "assert":
        return run_assert_tests(code, answer, sandbox, limits)
    raise ValueError(f"unknown code test format {fmt!r} (expected 'io', 'call' or 'assert')")
