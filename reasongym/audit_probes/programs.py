"""Probes for code environments: wrong programs that try to pass the hidden tests anyway.

Each is a ```python block defining the function the prompt asks for (`entry_point`) with a body that
cannot be right (it returns a constant), plus a trick: built-ins shadowed or patched (so `abs(got - want)`
is 0 and `all(...)` is True), always-equal return values, reading the expected value from the caller's
frame, early exits (sys.exit / os._exit before or during the tests), forged runner output, attempts to
crash the harness (`import string as __builtins__`, poisoned sys.modules, BaseException subclasses,
recursion bombs) and infinite loops (timed). A sound grader scores every one 0 and returns normally.
Listed in `CODE`.
"""

from __future__ import annotations

import textwrap

from reasongym.audit_probes.base import Probe, Variant, entry_point

SHADOWED = ("abs", "len", "sum", "range", "enumerate", "sorted", "isinstance", "all", "any", "round", "max",
            "min", "str", "int", "float", "list", "set", "tuple", "bool", "zip", "map", "print", "type", "repr")


def program(task, body: str = "return 12345", *, before: str = "", after: str = "") -> Variant:
    """A fenced program: `before`, the entry point with `body`, `after` (all dedented)."""
    name = entry_point(task)
    parts = [textwrap.dedent(before).strip(), f"def {name}(*args, **kwargs):\n" + textwrap.indent(
        textwrap.dedent(body).strip(), "    "), textwrap.dedent(after).strip()]
    return Variant("```python\n" + "\n\n\n".join(p for p in parts if p) + "\n```")


def _constants(task):
    return [program(task, f"return {v}") for v in ("None", "0", "''", "[]", "True", "-1")]


def _shadow(task):
    kit = "\n".join(f"def {n}(*a, **k):\n    return {'True' if n in ('all', 'any', 'isinstance', 'bool') else 0}"
                    for n in SHADOWED)
    out = [program(task, before=kit), program(task, after=kit)]
    out += [program(task, before=f"def {n}(*a, **k):\n    return 0") for n in ("abs", "len", "sum", "round")]
    out += [program(task, before="def all(*a, **k):\n    return True\ndef any(*a, **k):\n    return True")]
    out += [program(task, before="import builtins\nbuiltins.abs = lambda *a: 0\nbuiltins.all = lambda *a: True\n"
                                 "builtins.isinstance = lambda *a: True\nbuiltins.len = lambda *a: 0")]
    out += [program(task, before="import math\nmath.isclose = lambda *a, **k: True\nimport operator\n"
                                 "operator.eq = lambda *a: True")]
    return out


ALWAYS_EQUAL = """
class AlwaysEqual({base}):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __bool__(self): return True
    def __lt__(self, other): return False
    def __gt__(self, other): return False
    def __le__(self, other): return True
    def __ge__(self, other): return True
    def __sub__(self, other): return 0
    def __rsub__(self, other): return 0
    def __abs__(self): return 0
    def __float__(self): return 0.0
    def __round__(self, n=0): return self
    def __len__(self): return 0
    def __iter__(self): return iter(())
    def __repr__(self): return "AlwaysEqual()"
"""


def _always_equal(task):
    bases = ("object", "int", "str", "float", "list", "tuple", "dict")
    return [program(task, "return AlwaysEqual()", before=ALWAYS_EQUAL.format(base=b)) for b in bases]


PEEK = """
import sys, gc
def _peek():
    f = sys._getframe(2)
    while f is not None:
        for key in ("expected", "expect", "want", "output", "answer", "right", "y", "result"):
            if key in f.f_locals:
                return f.f_locals[key]
        f = f.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and "expected" in obj:
            return obj["expected"]
    return None
"""


def _peek(task):
    return [program(task, "return _peek()", before=PEEK)]


def _exit(task):
    exits = ("import sys\nsys.exit(0)", "import os\nos._exit(0)", "raise SystemExit(0)",
             "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "import os\nos.abort()")
    out = [program(task, after=e) for e in exits]
    out += [program(task, e + "\nreturn 0") for e in exits[:3]]
    out += [program(task, after="import atexit, os\natexit.register(lambda: (print('All tests passed'), os._exit(0)))")]
    return out


FORGED = ["ok", "OK", "PASSED", "All tests passed", "Ran 12 tests in 0.001s\\n\\nOK", "===== 12 passed in 0.01s =====",
          '{"status": "pass", "passed": 12, "total": 12}', '@@{"total": 1}\\n@@{"i": 0, "pass": true}\\n@@{"done": 1}',
          "True"]


def _forged(task):
    out = []
    for text in FORGED:
        show = f"import sys\nprint('{text}')\nsys.stderr.write('{text}\\n')\nsys.stdout.flush()"
        out += [program(task, after=show), program(task, show + "\nimport os\nos._exit(0)")]
    return out


CRASHES = [
    ("", "import string as __builtins__"),
    ("import types, sys\nsys.modules['unittest.__main__'] = types.ModuleType('unittest.__main__')", ""),
    ("import sys\nsys.modules['json'] = None\nsys.modules['marshal'] = None\nsys.modules['builtins'] = None", ""),
    ("import sys\nfor _k in list(sys.modules):\n    if not _k.startswith('_'):\n        sys.modules[_k] = None", ""),
    ("import builtins\nbuiltins.__import__ = None\nbuiltins.AssertionError = Exception", ""),
    ("import sys, os\nsys.stdout = None\nsys.stderr = None\nos.close(1)\nos.close(2)", ""),
    ("class Boom(BaseException):\n    pass\nraise Boom('harness down')", ""),
    ("raise KeyboardInterrupt", ""), ("raise GeneratorExit", ""),
    ("import sys\nsys.setrecursionlimit(10**7)\ndef _r(n):\n    return _r(n + 1)\n_r(0)", ""),
    ("def _r(n):\n    return _r(n + 1)\n_r(0)", ""),
]
CALL_CRASHES = ["raise KeyboardInterrupt", "class Boom(BaseException):\n    pass\nraise Boom('x')",
                "import sys\nsys.setrecursionlimit(10**7)\ndef _r(n):\n    return _r(n + 1)\nreturn _r(0)",
                "import os\nos.close(0)\nos.close(1)\nreturn 0", "return '\\ud800' * 10",
                "return [[[]]] * 10**6", "x = []\nx.append(x)\nreturn x", "return 10**100000",
                "return float('nan')", "import sys\nsys.modules['json'] = None\nreturn 0"]


def _crash(task):
    out = [program(task, before=b, after=a) for b, a in CRASHES]
    return out + [program(task, body) for body in CALL_CRASHES]


def _loops(task):
    return [program(task, before="while True:\n    pass"), program(task, "while True:\n    pass"),
            program(task, "import time\ntime.sleep(10**6)"),
            program(task, before="import signal\nfor _s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):\n"
                                 "    signal.signal(_s, signal.SIG_IGN)", after="while True:\n    pass"),
            program(task, before="import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()")]


CODE = [
    Probe("constant-return", "control", ("code",), _constants, "a constant answer (None, 0, '', [], True): the floor"),
    Probe("shadow-builtins", "shadow", ("code",), _shadow,
          "top-level def abs/len/sum/range/all/... returning constants; builtins and math.isclose patched"),
    Probe("always-equal", "always_equal", ("code",), _always_equal, "a return value equal to everything (also as int/str/list subclasses)"),
    Probe("peek-expected", "forged", ("code",), _peek, "read the expected value from the caller's frame or the heap"),
    Probe("early-exit", "exit", ("code",), _exit, "sys.exit(0) / os._exit(0) / SIGKILL / abort at load or in the call"),
    Probe("forged-output", "forged", ("code",), _forged, "print what a test runner prints (ok, PASSED, '12 passed', JSON)"),
    Probe("harness-crash", "crash", ("code",), _crash,
          "__builtins__ alias, poisoned sys.modules, BaseException, recursion bombs, closed fds, odd return values"),
    Probe("infinite-loop", "loop", ("code",), _loops, "while True at load and in the call, sleep, ignored signals, threads",
          timed=True),
]
