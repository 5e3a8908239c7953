"""Registering environments: one call, on top of `gymnasium.register`, plus short aliases and plugins.

    import reasongym
    reasongym.register("acme/Countdown-v0", entry_point="acme.envs:Countdown",
                       description="reach a target with four numbers", alias="countdown")
    env = reasongym.make("countdown")          # or gymnasium.make("acme/Countdown-v0")

Another installed package can add environments without touching reasongym by declaring entry points in
the `reasongym.envs` group: the entry-point name is the environment id, the value its `module:Class`.

    [project.entry-points."reasongym.envs"]
    "acme/Countdown-v0" = "acme.envs:Countdown"

They are registered (lazily: nothing is imported until the env is made) when reasongym is imported.
A mistyped id or alias gets an error listing the close ones.
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import gymnasium

ENTRY_POINT_GROUP = "reasongym.envs"


@dataclass
class EnvInfo:
    """What `python -m reasongym.envs` shows about one registered environment."""

    id: str
    description: str = ""
    splits: tuple[str, ...] = ()
    verifier: str = ""
    source: str = "reasongym"  # which package registered it


@dataclass
class Alias:
    """A short name for an id plus default kwargs: `math-heldout` = Math-v0 with split="heldout"."""

    id: str
    kwargs: dict[str, Any] = field(default_factory=dict)


ENVS: dict[str, EnvInfo] = {}
ALIASES: dict[str, Alias] = {}


def register(
    id: str,
    entry_point: str | Any,
    *,
    description: str = "",
    splits: tuple[str, ...] = (),
    verifier: str = "",
    alias: str | dict[str, dict] | None = None,
    kwargs: dict[str, Any] | None = None,
    source: str = "reasongym",
    **gym_kwargs: Any,
) -> None:
    """Register an environment with Gymnasium and list it in reasongym's table.

    alias: a short name (`"math"`) or a mapping of names to default kwargs
    (`{"math": {}, "math-heldout": {"split": "heldout"}}`). Extra keyword arguments go to
    `gymnasium.register` (e.g. `max_episode_steps`, `disable_env_checker`).
    """
    gymnasium.register(id=id, entry_point=entry_point, kwargs=kwargs or {}, **gym_kwargs)
    ENVS[id] = EnvInfo(id, description, tuple(splits), verifier, source)
    aliases = {alias: {}} if isinstance(alias, str) else dict(alias or {})
    for name, alias_kwargs in aliases.items():
        if name in ALIASES and ALIASES[name].id != id:
            raise ValueError(f"alias {name!r} already points to {ALIASES[name].id!r}; pick another name")
        ALIASES[name] = Alias(id, dict(alias_kwargs))


def resolve(name: str) -> tuple[str, dict[str, Any]]:
    """Turn an alias or id into (gymnasium id, default kwargs); unknown names raise with suggestions.

    `module:id` imports the module first (where it registers its environments), as Gymnasium does.
    """
    if ":" in name:
        module, name = name.split(":", 1)
        importlib.import_module(module)
    if name in ALIASES:
        return ALIASES[name].id, dict(ALIASES[name].kwargs)
    if name in gymnasium.registry:
        return name, {}
    known = sorted(set(ALIASES) | set(gymnasium.registry))
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    close += [k for k in known if name.lower() in k.lower() and k not in close][:5]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise gymnasium.error.NameNotFound(
        f"No environment or alias named {name!r}.{hint} `python -m reasongym.envs` lists them all."
    )


def make(name: str, **kwargs: Any) -> gymnasium.Env:
    """`gymnasium.make` that also takes aliases; explicit kwargs override the alias defaults."""
    env_id, defaults = resolve(name)
    return gymnasium.make(env_id, **{**defaults, **kwargs})


def load_plugins() -> list[str]:
    """Register every environment declared in the `reasongym.envs` entry-point group. Returns their ids.

    A plugin that fails to register is reported as a warning naming the package, not a crash of
    `import reasongym`.
    """
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        source = dist.name if dist is not None else ep.value.split(":")[0]
        try:
            if ep.name in ENVS:
                continue
            register(ep.name, entry_point=ep.value, source=source, description=f"from package {source}")
            found.append(ep.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the import
            warnings.warn(f"reasongym: entry point {ep.name!r} of {source} failed to register: {exc}",
                          stacklevel=2)
    return found
