"""Assert-style tests (HumanEval `check(candidate)`, MBPP assert lists), run isolated from the candidate.

Two sandboxes per run: `sandboxed/serve.py` loads the solution and answers calls; `sandboxed/check.py`
(the harness) runs the task's trusted test code against `Remote` proxies of it. No candidate code ever
runs in the harness process, so its built-ins are the real ones and every value an assert compares is a
plain built-in object decoded from the wire (see `sandboxed/wire.py`). The harness reports each test's
outcome as a line on its own stderr, which only this host reads.

What the tests' namespace holds is decided here, on the host, from the task alone (`test_plan`):
- the task's context (HumanEval's prompt: `from typing import List`, helpers such as `poly`), run first;
- the standard-library modules the test code names without importing them (MBPP's `sys.getsizeof`);
- the entry point, as itself and as `candidate`;
- `wanted`: names the test code reads that no trusted code binds and that are not built-ins (MBPP's
  `Pair`, `Node`), taken from the candidate when it defines them.
Nothing else of the candidate: a solution-level `abs` or `range` never reaches the tests, and the
harness imports no module the candidate chose.

    report = run_assert_tests(code, task.answer, box, limits)   # a TestReport (see runs.py)
"""

from __future__ import annotations

import ast
import builtins
import json
import marshal
import os
import sys
import time
import warnings
from dataclasses import dataclass
from functools import lru_cache

from reasongym.verifiers.code.runs import SOURCES, TestReport, finish, memfd_tail
from reasongym.verifiers.code.sandbox import Limits, Sandbox
from reasongym.verifiers.code.watch import pump

# Every name a test could mean as a built-in (with site's exit/quit/help/...): never the candidate's.
BUILTIN_NAMES = frozenset(dir(builtins)) | {"exit", "quit", "help", "copyright", "credits", "license"}


@dataclass(frozen=True)
class TestPlan:
    """The harness's steps in order (set-up code and tests) and what the tests' namespace gets."""

    steps: tuple[dict, ...]
    imports: tuple[str, ...]   # standard-library modules the tests name
    wanted: tuple[str, ...]    # names taken from the candidate besides the entry point
    total: int                 # steps that are tests


def _is_test(stmt: ast.stmt) -> bool:
    """A statement that asserts something (HumanEval's `assert True` fillers are not tests)."""
    return any(isinstance(n, ast.Assert) and not isinstance(n.test, ast.Constant) for n in ast.walk(stmt))


def _step(stmt: ast.stmt, test: bool) -> dict:
    step = {"code": ast.unparse(stmt), "test": test, "left": None, "right": None}
    if (test and isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare)
            and len(stmt.test.ops) == 1 and isinstance(stmt.test.ops[0], ast.Eq)):
        step["left"], step["right"] = ast.unparse(stmt.test.left), ast.unparse(stmt.test.comparators[0])
    return step


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names the code binds anywhere, names it reads) -- scopes ignored, which only errs on binding less."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
    return bound, read


def _parse(src: str, what: str) -> ast.Module:
    try:
        with warnings.catch_warnings():  # MBPP's '\d' in plain strings: the data's style, not news
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            return ast.parse(src)
    except SyntaxError as e:
        raise ValueError(f"the task's {what} is not valid Python (line {e.lineno}: {e.msg}); fix the data "
                         "row") from None


@lru_cache(maxsize=4096)
def test_plan(context: str, setup: str, tests: tuple[str, ...], check_module: str, entry: str | None) -> TestPlan:
    """Steps: set-up code, each assert string, then check()'s body statement by statement (each one that
    asserts is a test, the others set-up) after the rest of its module; and the namespace (see above)."""
    steps = [{"code": setup, "test": False, "left": None, "right": None}] if setup else []
    trees = [_parse(context, "context"), _parse(setup, "test set-up")]
    for src in tests:
        body = _parse(src, f"test {src[:80]!r}").body
        if not any(_is_test(stmt) for stmt in body):
            raise ValueError(f"the task's test {src[:80]!r} asserts nothing (it would pass any solution); "
                             "fix the data row")
        trees.append(ast.Module(body, []))
        steps.append(_step(body[0], True) if len(body) == 1 else
                     {"code": src, "test": True, "left": None, "right": None})
    module = _parse(check_module, "test module")
    trees.append(module)
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            steps += [_step(stmt, _is_test(stmt)) for stmt in node.body]
        else:
            steps.append(_step(node, False))
    bound, read = set(), set()
    for tree in trees:
        b, r = _names(tree)
        bound, read = bound | b, read | r
    free = read - bound - BUILTIN_NAMES - {"candidate", entry}
    imports = sorted(n for n in free if n in sys.stdlib_module_names)
    wanted = sorted(free - set(imports))
    return TestPlan(tuple(steps), tuple(imports), tuple(wanted), sum(s["test"] for s in steps))


def _collect(text: str) -> dict:
    """The harness's messages: total, per-test results, done, fatal (the candidate's fault), broken (ours)."""
    got: dict = {"total": None, "results": [], "fatal": "", "broken": "", "done": False, "stopped": False}
    for line in text.splitlines():
        try:
            message = json.loads(line[2:]) if line.startswith("@@") else {}
        except ValueError:  # a line cut short when the run was stopped
            continue
        if not isinstance(message, dict):
            continue
        for key in ("total", "fatal", "broken"):
            got[key] = message.get(key, got[key])
        got["done"] = got["done"] or "done" in message
        got["stopped"] = got["stopped"] or "stopped" in message
        if "pass" in message:
            got["results"].append({"pass": message["pass"] is True, "input": message.get("src", ""),
                                   "expected": message.get("expected", ""), "actual": message.get("actual", ""),
                                   "error": message.get("error", "")})
    return got


def _judge(got: dict, rc: int, stopped: bool, timed_out: bool, limits: Limits, stderr: str):
    """(results, total, status, reason) from the harness's messages."""
    results, total = got["results"], got["total"]
    if got["broken"]:
        return results, total or 0, "harness_error", f"the test harness failed: {got['broken']}"[:2000]
    if got["fatal"]:
        fatal = str(got["fatal"])[:2000]
        results.append({"pass": False, "input": "", "expected": "", "actual": "", "error": fatal})
        return results, max(total or 0, len(results)), "fatal", fatal
    if timed_out:
        return results, total or 0, "timeout", f"time limit of {limits.timeout_s:g} s"
    early = got["stopped"] and results and not results[-1]["pass"] and len(results) <= (total or 0)
    if total is None or not (early or got["done"] and len(results) == total) or stopped:
        why = "stopped at the output cap" if stopped else f"exited ({rc}) without finishing"
        return results, total or 0, "harness_error", f"the test harness {why}: {stderr[-1500:]}"
    return results, total, "", ""


def run_assert_tests(code: bytes, spec: dict, box: Sandbox, limits: Limits, stop_early: bool = False) -> TestReport:
    """Run the solution `code` (UTF-8 bytes) against an "assert" task's tests (stop_early: up to the first
    failing one)."""
    entry = spec.get("entry_point")
    plan = test_plan(spec.get("context") or "", spec.get("setup") or "", tuple(spec.get("tests") or ()),
                     spec.get("check_module") or "", entry)
    if not plan.total:
        return TestReport(0, 0, [], "harness_error", "the task has no tests (no assert in its test code)")
    harness_spec = marshal.dumps({"context": spec.get("context") or "", "entry_point": entry,
                                  "steps": [dict(s) for s in plan.steps], "imports": list(plan.imports),
                                  "wanted": list(plan.wanted), "stop_early": bool(stop_early)})
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
        solution_err = memfd_tail(log)  # closes it
    text = got.data["results"].decode("utf-8", errors="replace")
    stopped = got.timed_out or got.overflow
    box.check_started(ready_solution, rc_solution, solution_err, stopped)
    box.check_started(ready_harness, rc_harness, text, stopped)
    results, total, status, reason = _judge(_collect(text), rc_harness, got.overflow, got.timed_out, limits, text)
    return finish(results, total, status, reason)
