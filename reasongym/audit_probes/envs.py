"""Making the audited environment: aliases, bundled data files, and envs the audit cannot judge.

`env_factory(name, kwargs)` resolves an id or alias (plugins included) and fills in the bundled data
file of the benchmark envs as `python -m reasongym.evaluate` does (GSM8K, MATH-500, HumanEval, MBPP: from
$REASONGYM_DATA or ../shared/data), so `env=gsm8k` needs no `env.path=`.

`skip_reason` says why an env is not audited: a learned reward model (Preference-v0) pays a continuous
score, not a verdict on a gold, so "paid" has no meaning without the model itself; give it with
`env.rm=runs/rm-001/final` (and `env.prompts=`), or audit another path with `reward_fn=`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium

from reasongym.evaluation.suites import suite_kwargs
from reasongym.registry import ENVS, make, resolve


def skip_reason(name: str, kwargs: dict[str, Any], reward_fn: Any) -> str | None:
    """Why `name` cannot be audited as given (None: it can)."""
    env_id, defaults = resolve(name)
    info = ENVS.get(env_id)
    learned = info is not None and "reward model" in info.verifier
    if learned and reward_fn is None and not {**defaults, **kwargs}.get("rm"):
        return (f"{env_id} is scored by a learned reward model and none was given: pass env.rm=<reward model "
                "folder> and env.prompts=<prompts.jsonl> to audit it (a probe then counts as paid when it "
                "scores above 0), or audit another reward path with reward_fn=")
    return None


def env_factory(env: str | gymnasium.Env, kwargs: dict[str, Any]) -> Callable[[], gymnasium.Env]:
    """A function that builds a fresh copy of the env (the audit rebuilds it after a hung call)."""
    if not isinstance(env, str):
        if kwargs:
            raise ValueError("env_kwargs only apply when the env is given by name, not as a made env")
        spec = env.spec

        def again() -> gymnasium.Env:
            return gymnasium.make(spec) if spec is not None else env
        made = [env]

        def first_then_again() -> gymnasium.Env:
            return made.pop() if made else again()
        return first_then_again
    env_id, full = suite_kwargs(env, dict(kwargs))

    def build() -> gymnasium.Env:
        try:
            return make(env_id, **full)
        except TypeError as exc:
            raise TypeError(f"env {env!r} ({env_id}) rejected its arguments {full}: {exc}") from exc
    return build
