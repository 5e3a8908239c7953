"""Making the audited environment: aliases, bundled data files, and envs the audit cannot judge.

`env_factory(name, kwargs)` resolves an id or alias (plugins included) and fills in the bundled data
file of the benchmark envs as `python -m reasongym.evaluate` does (GSM8K, MATH-500, HumanEval, MBPP: from
$REASONGYM_DATA or ../shared/data), so `env=gsm8k` needs no `env.path=`.

`skip_reason` says why an env is not audited: a learned reward model (Preference-v0) pays a continuous
score, not a verdict on a gold, so "paid" has no meaning without the model itself; give it with
`env.rm=runs/rm-001/final` (and `env.prompts=`), or audit another path with `reward_fn=`.

`adapter_reward_fn(via, name)` is that other path for the trainer adapters of reasongym/integrations:
each adapter module has `score(env_id, task, completion_text) -> float`, the reward exactly as that
trainer computes it (`via=trl`, `verl`, `openrlhf`, `prime_verifiers`, or `common`, the shared path).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
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


def adapter_reward_fn(via: str, name: str, kwargs: dict[str, Any]) -> Callable[[Any, str], float]:
    """`reasongym.integrations.<via>.score` bound to the env id (and kwargs, for `common`)."""
    try:
        module = importlib.import_module(f"reasongym.integrations.{via}")
    except ModuleNotFoundError as exc:
        raise ValueError(f"via={via!r}: no adapter reasongym.integrations.{via} ({exc}); use one of trl, verl, "
                         "openrlhf, prime_verifiers, common") from exc
    if not hasattr(module, "score"):
        raise ValueError(f"via={via!r}: reasongym.integrations.{via} has no score(env_id, task, completion_text)")
    env_id = resolve(name)[0]
    if kwargs and via != "common":
        raise ValueError(f"via={via!r} scores the env with its default arguments; env kwargs {kwargs} only "
                         "travel through via=common")
    return partial(module.score, env_id, **kwargs) if via == "common" else partial(module.score, env_id)
