"""The plain-data wire format of function tests, and the caller's side of the candidate RPC.

A candidate's function runs in its own sandbox (`serve.py`); whoever checks it (the host for input/expected
pairs, the test harness `check.py` for assert-style tests) calls it through a `Conn`. Values cross as one
JSON line each, in a tagged form that `decode` turns back into *plain built-in objects only*: None, bool,
int, float, complex, str, bytes, list, tuple, set, frozenset, dict, range, an iterator over a list, or a
`Remote` handle (identity equality only) for anything else. Whatever bytes the candidate sends, the checker
never holds an object the candidate defined, so an `__eq__` that is always true, a patched builtin or a
str subclass cannot take part in the comparison: the comparison uses the checker's own built-ins.

Standard library only, and only modules that cost nothing to import (every sandboxed process pays for its
imports: `json` alone pulls in `re`, ~10 ms on a busy machine): JSON is written here and read with the C
scanner of `_json`. The host imports this as `reasongym.verifiers.code.sandboxed.wire`, the sandboxed harness
and server as `wire`.
"""

from __future__ import annotations

import builtins

try:
    from _json import encode_basestring_ascii as _quote
    from _json import make_scanner as _make_scanner
except ImportError:  # an interpreter without the C accelerator: the slow, pure-Python path
    from json.decoder import py_make_scanner as _make_scanner  # type: ignore[no-redef]
    from json.encoder import py_encode_basestring_ascii as _quote  # type: ignore[no-redef]

MAX_LINE = 16 << 20        # one message; a longer one fails the call
MAX_ITEMS = 1_000_000      # items taken from a returned iterator
SMALL_INT = 1 << 53        # larger ints travel as hex (no int/str digit limit, no float confusion)

# Exceptions a candidate may raise *as themselves* in the checker (tests catch them on purpose). Anything
# else, StopIteration and SystemExit included (they would end a loop or the checker), becomes CandidateError.
PASS_THROUGH = {name: getattr(builtins, name) for name in (
    "ArithmeticError", "AssertionError", "AttributeError", "EOFError", "FileNotFoundError", "IndexError",
    "KeyError", "LookupError", "MemoryError", "NameError", "NotImplementedError", "OSError",
    "OverflowError", "RecursionError", "RuntimeError", "TypeError", "UnboundLocalError", "UnicodeError",
    "ValueError", "ZeroDivisionError")}
# Built-ins that may cross by name (`remove_type(xs, int)`, `apply(xs, abs)`): every class, and functions
# that neither run code nor touch the outside.
BY_NAME = {name for name, v in vars(builtins).items() if isinstance(v, type)} | {
    "abs", "all", "any", "ascii", "bin", "callable", "chr", "divmod", "format", "hash", "hex", "isinstance",
    "issubclass", "iter", "len", "max", "min", "next", "oct", "ord", "pow", "repr", "round", "sorted", "sum"}


class WireError(Exception):
    """A message that is not valid wire data (too long, malformed, unknown tag)."""


class CandidateError(Exception):
    """The candidate raised something that is not passed through, crashed, or answered nonsense."""


# -- encoding (any side) -------------------------------------------------------------------------------
def encode(x: object, ref=None) -> object:
    """A JSON-able tagged tree for x. Objects of other types become `ref(x)` (a handle), or fail."""
    if x is None or isinstance(x, (bool, str)):
        return str.__str__(x) if isinstance(x, str) else x
    if isinstance(x, int) or (hasattr(type(x), "__index__") and not isinstance(x, float)):
        n = int.__index__(x) if isinstance(x, int) else int(type(x).__index__(x))
        return n if -SMALL_INT < n < SMALL_INT else ["i", hex(n)]
    if isinstance(x, float):
        return ["f", float.hex(float(x))]
    if isinstance(x, complex):
        return ["c", float.hex(x.real), float.hex(x.imag)]
    if isinstance(x, (bytes, bytearray)):
        return ["b" if isinstance(x, bytes) else "ba", bytes(x).decode("latin-1")]
    name = getattr(x, "__name__", None)
    if type(name) is str and name in BY_NAME and getattr(builtins, name) is x:
        return ["bi", name]
    if isinstance(x, Remote):
        return ["ref", object.__getattribute__(x, "_id"), object.__getattribute__(x, "_type")]
    seq = _SEQUENCES.get(next((t for t in _SEQUENCES if isinstance(x, t)), None))  # type: ignore[arg-type]
    if seq is not None:
        return [seq, [encode(v, ref) for v in x]]
    if isinstance(x, dict):
        return ["d", [[encode(k, ref), encode(v, ref)] for k, v in dict.items(x)]]
    if isinstance(x, range):
        return ["r", x.start, x.stop, x.step]
    if hasattr(type(x), "__next__") and hasattr(type(x), "__iter__"):  # an iterator or generator
        items = []
        for v in x:
            if len(items) >= MAX_ITEMS:
                raise WireError(f"returned iterator has more than {MAX_ITEMS} items")
            items.append(encode(v, ref))
        return ["it", items]
    if ref is None:
        raise WireError(f"cannot send a {type(x).__name__} object (only plain data)")
    return ref(x)


_SEQUENCES = {list: "l", tuple: "t", set: "s", frozenset: "fs"}


# -- decoding (the checker's side: builds plain objects only) -------------------------------------------
def decode(tree: object, remote=None) -> object:
    """The value a tagged tree stands for, built from built-in types; handles become `remote(id, type)`."""
    t = type(tree)
    if tree is None or t is bool or t is str:
        return tree
    if t is int:
        return tree
    if t is not list or not tree or type(tree[0]) is not str:
        raise WireError(f"malformed value {str(tree)[:80]!r}")
    tag, args = tree[0], tree[1:]
    try:
        if tag in ("l", "t", "s", "fs", "it"):
            (items,) = args
            if type(items) is not list:
                raise WireError("sequence payload is not a list")
            values = [decode(v, remote) for v in items]
            return {"l": list, "t": tuple, "s": set, "fs": frozenset, "it": iter}[tag](values)
        if tag == "d":
            (pairs,) = args
            return {decode(k, remote): decode(v, remote) for k, v in pairs}
        if tag == "i":
            return int(_text(args), 16)
        if tag == "f":
            return float.fromhex(_text(args))
        if tag == "c":
            re, im = args
            return complex(float.fromhex(_text([re])), float.fromhex(_text([im])))
        if tag in ("b", "ba"):
            raw = _text(args).encode("latin-1")
            return raw if tag == "b" else bytearray(raw)
        if tag == "r":
            start, stop, step = args
            if not all(type(v) is int for v in args):
                raise WireError("range bounds must be ints")
            return range(start, stop, step)
        if tag == "bi":
            if _text(args) not in BY_NAME:
                raise WireError(f"built-in {args[0][:40]!r} may not cross the wire")
            return getattr(builtins, args[0])
        if tag == "ref" and remote is not None:
            ident, type_name = args
            if type(ident) is not int or type(type_name) is not str:
                raise WireError("bad handle")
            return remote(ident, type_name[:100])
    except (TypeError, ValueError, RecursionError) as e:  # unhashable member, bad hex, arity, depth
        raise WireError(f"bad {tag!r} value: {e}") from None
    raise WireError(f"unknown tag {tag!r}")


def _text(args: list) -> str:
    if len(args) != 1 or type(args[0]) is not str:
        raise WireError("expected one string")
    return args[0]


# -- JSON lines: only null, booleans, small ints, strings, lists and str-keyed dicts ---------------------
def _write(t: object) -> str:
    if t is None or t is True or t is False:
        return {None: "null", True: "true", False: "false"}[t]
    kind = type(t)
    if kind is int:
        return int.__repr__(t)
    if kind is str:
        return _quote(t)
    if kind is list:
        return "[" + ",".join(map(_write, t)) + "]"
    if kind is dict:
        return "{" + ",".join(_quote(k) + ":" + _write(v) for k, v in t.items()) + "}"
    raise WireError(f"cannot write a {kind.__name__} as wire JSON")


def dumps(message: object) -> bytes:
    return (_write(message) + "\n").encode("ascii")


class _Strict:
    """What `_json.make_scanner` reads its options from."""

    strict, object_hook, object_pairs_hook, parse_float, parse_int = True, None, None, float, int

    @staticmethod
    def parse_constant(name: str) -> None:
        raise ValueError(f"{name} is not allowed")


_scan = _make_scanner(_Strict())


def loads(line: bytes) -> object:
    if len(line) > MAX_LINE:
        raise WireError(f"message longer than {MAX_LINE} bytes")
    try:
        text = line.decode("utf-8").strip()
        value, end = _scan(text, 0)
    except (ValueError, RecursionError, StopIteration) as e:
        raise WireError(f"not a JSON message: {str(e)[:100]}") from None
    if end != len(text):
        raise WireError("trailing data after the message")
    return value


# -- the caller's side of the RPC ------------------------------------------------------------------------
class Remote:
    """A candidate object seen from the checker: callable, attributes readable and settable over the
    wire, equal only to itself. Dunder lookups stay local (copy/pickle probes never reach the candidate)."""

    __slots__ = ("_conn", "_id", "_type")

    def __init__(self, conn, ident: int, type_name: str):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_type", type_name)

    def __call__(self, *args, **kwargs):
        return self._conn.request({"op": "call", "id": self._id, "args": encode(list(args)),
                                   "kwargs": encode(kwargs)})

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._conn.request({"op": "getattr", "id": self._id, "name": name})

    def __setattr__(self, name: str, value) -> None:
        self._conn.request({"op": "setattr", "id": self._id, "name": name, "value": encode(value)})

    def __repr__(self) -> str:
        return f"<{self._type} object of the candidate>"

    def __bool__(self) -> bool:  # `assert candidate(x)` must not pass on an object the checker cannot see
        raise TypeError(f"a {self._type} object of the candidate has no truth value here (return plain data)")


class Conn:
    """Sends requests to a `serve.py` process and decodes its replies. `readline` may enforce a deadline."""

    def __init__(self, readline, write):
        self.readline, self.write, self.broken = readline, write, ""

    def _reply(self) -> dict:
        line = self.readline()
        if not line:
            self.broken = "the candidate process ended (it exited, crashed or was killed)"
            raise CandidateError(self.broken)
        message = loads(line)
        if type(message) is not dict:
            raise WireError("reply is not an object")
        return message

    def hello(self) -> dict:
        """The candidate's top-level callables as {name: Remote}, or CandidateError. (Only names: the
        checker binds the few its tests need and imports nothing the candidate chose.)"""
        message = self._reply()
        if "error" in message:
            raise CandidateError(f"the solution failed to load: {str(message['error'])[:2000]}")
        names = message.get("names")
        if type(names) is not dict:
            raise WireError("bad hello")
        remotes = {}
        for k, v in names.items():
            remote = decode(v, self.remote)
            if type(remote) is not Remote:  # a forged hello naming built-ins or plain values
                raise WireError(f"bad hello: {str(k)[:40]!r} is not a handle")
            remotes[str(k)] = remote
        return remotes

    def remote(self, ident: int, type_name: str) -> Remote:
        return Remote(self, ident, type_name)

    def request(self, message: dict) -> object:
        if self.broken:
            raise CandidateError(self.broken)
        self.write(dumps(message))
        reply = self._reply()
        if "ok" in reply:
            return decode(reply["ok"], self.remote)
        raised = reply.get("raise")
        if type(raised) is not list or len(raised) != 2 or not all(type(s) is str for s in raised):
            raise WireError("reply has neither 'ok' nor a well-formed 'raise'")
        name, text = raised[0][:100], raised[1][:2000]
        raise PASS_THROUGH.get(name, CandidateError)(text if name in PASS_THROUGH else f"{name}: {text}")
