"""A Python session for a tool-using policy: each call runs in the sandbox, earlier cells replayed silently.

State carries across calls the way a notebook's does (a variable set in call 1 is there in call 2), but
no interpreter outlives a call: call k is one fresh `run_program` (reasongym.verifiers.code.sandbox) that
first replays the earlier cells that ran cleanly, their output thrown away, then runs cell k and shows
its output. A cell that failed (an exception, a timeout, the memory cap) is not replayed, so a loop or a
fork in it cannot strike again on every later call; a policy re-runs its fixed code. Why replay rather
than a persistent interpreter:

- every call gets every guarantee of the sandbox unchanged (fresh namespaces and tmpfs, rlimits, the
  wall-clock watchdog, teardown of everything the call started): nothing stays alive between an
  episode's turns, however many episodes a GRPO step keeps open, and nothing leaks from one episode to
  the next;
- the price is replay time, small for the few short cells a budget allows (4 by default), and
  determinism: `random` is seeded at the start of every call, so a replayed cell draws what it drew;
  other sources of change (time, os.urandom) may differ on replay.

The limits (timeout_s, memory_mb) apply to each call as a whole, replay included. Like a REPL, a cell
whose last statement is an expression prints its repr (`len("strawberry")` shows `10`).

    s = PythonSession(timeout_s=5)
    s.run("x = 6 * 7").output        # '(no output)'
    s.run("x + 1").output            # '43'
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reasongym.verifiers.code.sandbox import Sandbox, SandboxError, default_sandbox, run_program

# Runs inside the sandbox as main.py; the cells arrive as JSON on stdin.
RUNNER = r'''
import ast, json, linecache, os, random, sys, traceback

cells = json.loads(sys.stdin.read())
ns = {"__name__": "__main__", "__builtins__": __builtins__}
random.seed(0)


def run(k, src, show):
    name = f"<cell {k + 1}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    tree = ast.parse(src, name)
    last = tree.body.pop() if show and tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), ns)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), ns)
        if value is not None:
            print(repr(value))


real_out, real_err = sys.stdout, sys.stderr
with open(os.devnull, "w") as null:
    for k, src in enumerate(cells[:-1]):
        sys.stdout = sys.stderr = null
        try:
            run(k, src, False)
        except BaseException:
            pass
        finally:
            sys.stdout, sys.stderr = real_out, real_err
try:
    run(len(cells) - 1, cells[-1], True)
except SystemExit as e:
    sys.stdout.flush()
    raise
except BaseException:
    sys.stdout.flush()
    etype, err, tb = sys.exc_info()
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell"):
        tb = tb.tb_next
    traceback.print_exception(etype, err, tb)
    sys.exit(1)
'''
NO_OUTPUT = "(no output)"


@dataclass
class ToolResult:
    """One tool call: the sandbox status (ok, error, timeout, memory, killed; harness_error when the run
    itself failed), what the policy is shown, and the sandbox's reason in words."""

    status: str
    output: str
    seconds: float
    reason: str = ""

    @property
    def error(self) -> bool:
        return self.status != "ok"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters: the head and the tail, with how much was cut in between."""
    if len(text) <= limit:
        return text
    head, tail = text[: limit * 2 // 3], text[-(limit // 3):]
    return f"{head}\n... [{len(text) - len(head) - len(tail)} characters cut] ...\n{tail}"


class PythonSession:
    """The cells of one episode and how to run the next one (see the module docstring)."""

    def __init__(self, *, timeout_s: float = 5.0, memory_mb: int = 512, sandbox: str | Sandbox = "bwrap",
                 max_output_chars: int = 2000, max_cell_chars: int = 20_000):
        self.timeout_s, self.memory_mb, self.max_output_chars = timeout_s, memory_mb, max_output_chars
        self.max_cell_chars = max_cell_chars
        self.sandbox = sandbox if isinstance(sandbox, Sandbox) else default_sandbox(sandbox)  # no bwrap: raise now
        self.cells: list[str] = []

    def reset(self) -> None:
        self.cells = []

    def run(self, code: str) -> ToolResult:
        """Run one cell after replaying the earlier clean ones; it joins the session if it ran cleanly."""
        if len(code) > self.max_cell_chars:
            return ToolResult("error", f"The cell has {len(code)} characters; the limit is {self.max_cell_chars}. "
                              "Write a shorter program.", 0.0, "cell too long")
        self.cells.append(code)
        try:
            r = run_program(RUNNER, stdin=json.dumps(self.cells), timeout_s=self.timeout_s,
                            memory_mb=self.memory_mb, sandbox=self.sandbox)
        except SandboxError:
            raise  # no isolation at all: a set-up problem to fix, never a verdict on the policy's code
        except Exception as e:  # noqa: BLE001 - e.g. out of file descriptors: a failed call, not a crash
            self.cells.pop()
            return ToolResult("harness_error", "The tool failed to run this call (an internal error); try again.",
                              0.0, f"{type(e).__name__}: {e}")
        if r.status != "ok":
            self.cells.pop()  # a failed cell is not replayed: a loop or a fork would strike again every call
        text = (r.stdout + r.stderr).strip("\n")
        if r.status == "timeout":
            text += f"\n[timed out: the call ran past its {self.timeout_s:g} s limit]"
        elif r.status == "memory":
            text += f"\n[MemoryError: the call went over its {self.memory_mb} MB memory limit]"
        elif r.status == "killed":
            text += f"\n[killed: {r.reason or 'a signal or too much output'}]"
        return ToolResult(r.status, clip(text.strip("\n"), self.max_output_chars) or NO_OUTPUT, r.wall_s, r.reason)
