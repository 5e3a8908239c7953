"""The candidate's side of a function test: load the solution, then answer calls with plain data.

Runs as the program of its own sandbox. stdin carries requests and stdout replies, one JSON line each (see
`wire.py`); before the solution is loaded, fd 0 is pointed at /dev/null and fd 1 at stderr, so the
solution's own `print` and `input` cannot touch the channel by accident. (On purpose it can: it shares this
process. That buys it nothing: a forged reply is only a value, the same as one its function could return.)

The solution runs as module `solution`, not `__main__`, so its `if __name__ == "__main__":` demo code
does not run. Objects that are not plain data stay here and travel as handles. The hello lists the
solution's top-level callables by name; the checker binds only those its tests need (the entry point,
classes such as MBPP's `Node`), never one named like a built-in. (Only free imports: `posix` and `io`
instead of `os`, see wire.py.)
"""
import posix
import sys

import wire

Module = type(sys)


def main() -> None:
    requests = open(posix.dup(0), "rb")
    replies = open(posix.dup(1), "wb")
    posix.dup2(posix.open("/dev/null", posix.O_RDONLY), 0)
    posix.dup2(2, 1)
    table: list = []

    def ref(obj):
        table.append(obj)
        return ["ref", len(table) - 1, type(obj).__name__]

    def send(message) -> None:
        replies.write(wire.dumps(message))
        replies.flush()

    module = Module("solution")
    module.__file__ = posix.getcwd() + "/solution.py"
    sys.modules["solution"] = module
    try:
        with open("solution.py", "rb") as f:
            exec(compile(f.read(), module.__file__, "exec"), module.__dict__)
    except BaseException as e:  # noqa: BLE001 - SystemExit at import time is a failed load too
        import traceback
        send({"error": "".join(traceback.format_exception_only(type(e), e)).strip()})
        return
    names = {k: ref(v) for k, v in vars(module).items()
             if type(k) is str and not k.startswith("__") and callable(v) and not isinstance(v, Module)}
    send({"names": names})

    def resolve(ident, type_name):
        return table[ident]

    for line in requests:
        try:
            message = wire.loads(line)
            target = table[message["id"]]
            op = message["op"]
            if op == "call":
                result = target(*wire.decode(message["args"], resolve), **wire.decode(message["kwargs"], resolve))
            elif op == "getattr":
                result = getattr(target, message["name"])
            elif op == "setattr":
                result = setattr(target, message["name"], wire.decode(message["value"], resolve))
            else:
                raise wire.WireError(f"unknown op {op!r}")
            reply = {"ok": wire.encode(result, ref)}
        except BaseException as e:  # noqa: BLE001 - every failure is reported to the caller
            reply = {"raise": [type(e).__name__, str(e)[:2000]]}
        send(reply)


main()
