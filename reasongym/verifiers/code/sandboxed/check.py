"""The harness side of an assert-style function test (HumanEval `check(candidate)`, MBPP assert lists).

Runs as the program of its own sandbox, next to a second sandbox running `serve.py` with the solution:
stdin carries that process's replies, stdout this side's requests. The test code is trusted (it comes from
the task file) and runs *here*, against `Remote` proxies of the candidate's functions. No candidate code
ever runs in this process, so the built-ins the tests see are the real ones, and every comparison in an
assert is made by them on plain decoded values (see `wire.py`): the solution can neither see the tests
nor touch the objects they compare, and exiting early only fails the tests.

The tests' namespace (decided by the host from the task alone, see `asserts.py`): the context, the
standard-library modules the tests name, the entry point (also as `candidate`) and the `wanted` names
the tests need from the candidate (never one named like a built-in). Nothing the candidate chose is
imported or bound.

spec.marshal (written by the host, which splits the tests with `ast` so this side imports nothing costly):
    {"context": code run first (HumanEval's prompt: trusted helpers such as `poly`),
     "entry_point": name bound to the candidate (and as `candidate`) or None,
     "imports": [stdlib module names], "wanted": [names], "stop_early": stop at the first failing test,
     "steps": [{"code": source, "test": bool, "left": source or None, "right": source or None}, ...]}
A test step `assert LEFT == RIGHT` comes with its two sides, so a failure can show expected and actual.

Results go to the host on the original stderr as lines `@@{json}`: first {"total": n}, then one {"i",
"pass", "src", "expected"?, "actual"?, "error"?} per test in order, then {"done": n} (or {"stopped": n}
after the first failure when stopping early); or {"fatal": why}
when the candidate leaves the rest unable to run, or {"broken": why} when the harness itself failed. The
tests' own prints and writes to stderr go to /dev/null.
"""
import builtins
import marshal
import posix

import wire


def short(value) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a 5,000-digit int, a deep list
        text = "<a " + type(value).__name__ + " too large to show>"
    return text if len(text) <= 300 else text[:300] + "..."


def error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:500]


def run_test(i: int, step: dict, g: dict) -> dict:
    result: dict = {"i": i, "src": step["code"][:500]}
    try:
        if step.get("left") is not None:
            actual = eval(compile(step["left"], "<test>", "eval"), g)
            result["actual"] = short(actual)
            expected = eval(compile(step["right"], "<test>", "eval"), g)
            result["expected"] = short(expected)
            result["pass"] = bool(actual == expected)  # plain built-ins on both sides
        else:
            exec(compile(step["code"], "<test>", "exec"), g)
            result["pass"] = True
    except AssertionError as e:
        result.update({"pass": False, "error": f"AssertionError: {e}"[:500] if str(e) else "assertion failed"})
    except Exception as e:  # noqa: BLE001 - a test that raises fails; the harness goes on
        result.update({"pass": False, "error": error_text(e)})
    return result


def namespace(spec: dict, remotes: dict) -> dict:
    """The tests' globals: real built-ins, the context, the modules the tests name, the entry point and
    the names they need from the candidate (see the module docstring)."""
    g: dict = {"__name__": "__main__", "__builtins__": builtins}
    exec(compile(spec["context"] or "", "<prompt>", "exec"), g)
    for name in spec["imports"]:
        try:
            g[name] = __import__(name)
        except ImportError:
            pass  # a test that uses it fails with NameError
    for name in spec["wanted"]:
        if name in remotes and not hasattr(builtins, name):
            g[name] = remotes[name]
    return g


def run_steps(steps: list, g: dict, report, stop_early: bool) -> None:
    n = 0
    for step in steps:
        if step["test"]:
            result = run_test(n, step, g)
            report(**result)
            n += 1
            if stop_early and not result["pass"]:
                return report(stopped=n)
            continue
        try:
            exec(compile(step["code"], "<test setup>", "exec"), g)
        except Exception as e:  # noqa: BLE001 - set-up that calls the candidate can fail by its doing
            return report(fatal=f"test set-up failed: {error_text(e)} in {step['code'][:300]}")
    report(done=n)


def main() -> None:
    replies = open(posix.dup(0), "rb")
    requests = open(posix.dup(1), "wb")
    results = open(posix.dup(2), "w")
    devnull = posix.open("/dev/null", posix.O_RDWR)
    for fd in (0, 1, 2):  # the tests' own prints must reach neither the request nor the result channel
        posix.dup2(devnull, fd)

    def report(**fields) -> None:
        results.write("@@" + wire.dumps(fields).decode())
        results.flush()

    def write(data: bytes) -> None:
        requests.write(data)
        requests.flush()

    try:
        with open("spec.marshal", "rb") as f:
            spec = marshal.load(f)  # written by the host: trusted
        report(total=sum(step["test"] for step in spec["steps"]))
        conn = wire.Conn(lambda: replies.readline(wire.MAX_LINE + 1), write)
        try:
            remotes = conn.hello()
        except (wire.CandidateError, wire.WireError) as e:
            return report(fatal=str(e))
        entry = spec["entry_point"]
        if entry and entry not in remotes:
            return report(fatal=f"the solution does not define {entry}()")
        g = namespace(spec, remotes)
        if entry:
            g[entry] = g["candidate"] = remotes[entry]
        run_steps(spec["steps"], g, report, spec.get("stop_early", False))
    except BaseException as e:  # noqa: BLE001 - the host must hear why, never guess from an exit code
        report(broken=error_text(e))


main()
