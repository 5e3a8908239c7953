"""The harness side of an assert-style function test (HumanEval `check(candidate)`, MBPP assert lists).

Runs as the program of its own sandbox, next to a second sandbox running `serve.py` with the solution:
stdin carries that process's replies, stdout this side's requests. The test code is trusted (it comes from
the task file) and runs *here*, against `Remote` proxies of the candidate's functions, so every comparison
in an assert is made by this process's built-ins on plain decoded values (see `wire.py`): the solution
can neither see the tests nor touch the objects they compare, and exiting early only fails the tests.

spec.marshal (written by the host, which splits the tests with `ast` so this side imports nothing costly):
    {"context": code run first (HumanEval's prompt: trusted helpers such as `poly`),
     "entry_point": name bound to the candidate (and as `candidate`) or None,
     "steps": [{"code": source, "test": bool, "left": source or None, "right": source or None}, ...]}
A test step `assert LEFT == RIGHT` comes with its two sides, so a failure can show expected and actual.

Results go to stderr as lines `@@{json}`: first {"total": n}, then one {"i", "pass", "src", "expected"?,
"actual"?, "error"?} per test in order, then {"done": n}; or {"fatal": why} when the rest cannot run.
"""
import builtins
import marshal
import posix
import sys

import wire


def short(value) -> str:
    text = repr(value)
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


def main() -> None:
    replies = open(posix.dup(0), "rb")
    requests = open(posix.dup(1), "wb")
    results = open(posix.dup(2), "w")
    devnull = posix.open("/dev/null", posix.O_RDWR)
    posix.dup2(devnull, 0)
    posix.dup2(devnull, 1)  # the tests' own prints must not reach the request channel

    def report(**fields) -> None:
        results.write("@@" + wire.dumps(fields).decode())
        results.flush()

    def write(data: bytes) -> None:
        requests.write(data)
        requests.flush()

    with open("spec.marshal", "rb") as f:
        spec = marshal.load(f)  # written by the host: trusted
    steps = spec["steps"]
    report(total=sum(step["test"] for step in steps))
    conn = wire.Conn(lambda: replies.readline(wire.MAX_LINE + 1), write)
    try:
        remotes, modules = conn.hello()
    except (wire.CandidateError, wire.WireError) as e:
        return report(fatal=str(e))
    g: dict = {"__name__": "__main__", "__builtins__": builtins}
    for alias, name in modules.items():  # tests may lean on the solution's imports, as in one namespace
        if name.split(".")[0] in sys.stdlib_module_names:
            try:
                __import__(name)
                g[alias] = sys.modules[name]
            except ImportError:
                pass
    g.update(remotes)
    exec(compile(spec["context"] or "", "<prompt>", "exec"), g)
    entry = spec["entry_point"]
    if entry:
        if entry not in remotes:
            return report(fatal=f"the solution does not define {entry}()")
        g[entry] = g["candidate"] = remotes[entry]
    n = 0
    for step in steps:
        if step["test"]:
            report(**run_test(n, step, g))
            n += 1
            continue
        try:
            exec(compile(step["code"], "<test setup>", "exec"), g)
        except Exception as e:  # noqa: BLE001
            return report(fatal=f"test set-up failed: {error_text(e)} in {step['code'][:300]}")
    report(done=n)


main()
