"""`key=value` command lines for dataclass configs (OmegaConf structured), with `--help` from docstrings.

Every CLI of reasongym (train, sft, evaluate, reward) parses its dataclass config with `parse_cli`:

    cfg = parse_cli(TrainConfig, ["env=math", "agent.lr=1e-5", "config=my.yaml"])

- `config=FILE.yaml` loads a file first; later `key=value` pairs override it.
- A nested config with a `_shorthand` field name takes its value directly: `env=math` means `env.name=math`.
- A nested config with an `_extra` dict field collects unknown sub-keys: `env.path=x.jsonl` lands in
  `env.kwargs.path` (passed to the environment's constructor).
- Any other unknown key is an error that suggests the close ones; a wrong type names the key.
- `--help` prints every field with its type, default and the docstring written under it (cleanrl style).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import inspect
import re
import sys
import textwrap
from functools import cache
from typing import Any, TypeVar, get_type_hints

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

T = TypeVar("T")


class ConfigError(ValueError):
    """A bad command line or config file: the message says which key and what to do."""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """The string literal written under each field of a dataclass (its documentation), inherited ones
    included (AgentConfig's loss knobs are documented where they are declared, in agents/grpo.py)."""
    docs: dict[str, str] = {}
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base):
            docs.update(field_docs(base))
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError):
        return docs
    body = tree.body[0].body  # type: ignore[attr-defined]
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if isinstance(nxt, ast.Expr) and isinstance(getattr(nxt, "value", None), ast.Constant):
                docs[node.target.id] = " ".join(str(nxt.value.value).split())
    return docs


def _nested(cls: type) -> dict[str, type]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if dataclasses.is_dataclass(hints[f.name])}


def all_keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    for f in dataclasses.fields(cls):
        sub = _nested(cls).get(f.name)
        keys += all_keys(sub, f"{prefix}{f.name}.") if sub else [f"{prefix}{f.name}"]
    return keys


def _canonical_key(cls: type, key: str) -> str:
    """Map shorthands and extras onto real keys; raise with suggestions for unknown ones."""
    parts, node, out = key.split("."), cls, []
    for i, part in enumerate(parts):
        names = {f.name for f in dataclasses.fields(node)}
        if part not in names:
            extra = getattr(node, "_extra", None)
            if extra and i > 0:
                return ".".join(out + [extra] + parts[i:])
            close = difflib.get_close_matches(key, all_keys(cls), n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise ConfigError(f"unknown config key {key!r}.{hint} Run with --help to list every key.")
        out.append(part)
        sub = _nested(node).get(part)
        if sub is None:
            if i + 1 < len(parts) and not isinstance(getattr(node, part, None), dict):
                raise ConfigError(f"config key {'.'.join(out)!r} is a value, not a section: {key!r}")
            return ".".join(out + parts[i + 1:])
        if i == len(parts) - 1:
            short = getattr(sub, "_shorthand", None)
            if not short:
                raise ConfigError(f"{key!r} is a section; set one of its keys, e.g. {all_keys(sub, key + '.')[0]}")
            return f"{key}.{short}"
        node = sub
    return key


def parse_cli(cls: type[T], argv: list[str] | None = None, prog: str = "", doc: str = "") -> T:
    """Parse `key=value` arguments (and an optional `config=FILE`) into an instance of `cls`; `doc`
    replaces the class docstring at the top of --help (a CLI that shares another's config)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help", "help") for a in argv):
        print(help_text(cls, prog, doc))
        raise SystemExit(0)
    conf = OmegaConf.structured(cls)
    dotlist = []
    for arg in argv:
        if "=" not in arg:
            raise ConfigError(f"argument {arg!r} is not key=value (e.g. env=math agent.lr=1e-5); see --help")
        key, value = arg.split("=", 1)
        if key == "config":
            try:
                conf = OmegaConf.merge(conf, _canonical_file(cls, OmegaConf.load(value), value))
            except FileNotFoundError as exc:
                raise ConfigError(f"config file {value!r} not found") from exc
            except OmegaConfBaseException as exc:
                raise ConfigError(f"config file {value}: {exc.msg if hasattr(exc, 'msg') else exc}") from exc
            continue
        dotlist.append(f"{_canonical_key(cls, key)}={value}")
    try:
        conf = OmegaConf.merge(conf, OmegaConf.from_dotlist(dotlist))
        return OmegaConf.to_object(conf)  # type: ignore[return-value]
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "?"
        msg = str(getattr(exc, "msg", exc)).split("\n")[0]
        raise ConfigError(f"bad value for {key}: {msg} (see --help for its type)") from exc


def _canonical_file(cls: type, loaded: Any, path: str):
    flat = OmegaConf.to_container(loaded) or {}
    dotlist = [f"{_canonical_key(cls, k)}={v}" for k, v in _flatten(flat)]
    return OmegaConf.from_dotlist(dotlist)


def _flatten(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", ("null" if v is None else v)


def run_cli(main, prog: str) -> None:
    """Run a CLI's main(); a user mistake prints one clear line and exits 2, Ctrl-C one line and exits 130
    (no traceback). Bugs still raise with their traceback."""
    import gymnasium

    try:
        main()
    except (ConfigError, gymnasium.error.NameNotFound, gymnasium.error.Error, FileNotFoundError) as exc:
        print(f"{prog}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
              file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (Ctrl-C); running the same command again continues where it can",
              file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as exc:
        if type(exc).__name__ != "Stop":  # reasongym.runs.run.Stop: Ctrl-C with the resume command
            raise
        print(f"{prog}: {exc}", file=sys.stderr)
        raise SystemExit(130) from None


PRECISIONS = ("auto", "bf16", "fp32")
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_name(name: str) -> None:
    """A run name is one folder inside run_dir: no path separators, no `..`."""
    if name and (not NAME_RULE.fullmatch(name) or ".." in name):
        raise ConfigError(f"name={name!r}: a run name is one folder name inside run_dir (letters, digits, "
                          ". _ -), e.g. name=math-baseline")


def check_values(checks) -> None:
    """checks: (key, value, ok, rule) tuples; the first failing one raises one line naming key and rule."""
    for key, value, ok, rule in checks:
        if not ok:
            raise ConfigError(f"{key}={value!r}: {rule}")


def to_yaml(cfg: Any) -> str:
    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


COMMON = ("model", "env", "steps", "name", "resume")
"""Keys `--help` lists first: what a new user sets (the rest follow, section by section)."""


def help_text(cls: type, prog: str = "", doc: str = "") -> str:
    lines = [f"usage: python -m {prog} [config=FILE.yaml] [key=value ...]" if prog else "", "",
             (doc or inspect.getdoc(cls) or "").strip(), ""]
    first = [name for name in COMMON if name in {f.name for f in dataclasses.fields(cls)}]
    if first:
        lines += ["common keys:"] + _help_lines(cls, cls(), "", only=first) + ["", "all other keys:"]
    lines += _help_lines(cls, cls(), "", skip=first)
    return "\n".join(lines)


def _help_lines(cls: type, default: Any, prefix: str, only=(), skip=()) -> list[str]:
    out, docs, hints = [], field_docs(cls), get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for f in [fields[n] for n in only] or [f for f in fields.values() if f.name not in skip]:
        value = getattr(default, f.name)
        sub = _nested(cls).get(f.name)
        if sub is not None:
            out += ["", f"{prefix}{f.name}.*  {(inspect.getdoc(sub) or '').splitlines()[0]}"]
            out += _help_lines(sub, value, f"{prefix}{f.name}.")
            continue
        typ = getattr(hints[f.name], "__name__", str(hints[f.name]).replace("typing.", ""))
        out.append(f"  {prefix}{f.name}={value!r}  ({typ})")
        if docs.get(f.name):
            out += ["      " + line for line in textwrap.wrap(docs[f.name], 94)]
    return out
