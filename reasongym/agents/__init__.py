"""Agents: policies (HF causal LMs, LoRA, remote servers, a scripted oracle), rollout collection, the GRPO
algorithm and its learner.

    from reasongym.agents import HFPolicy, Learner, collect, set_advantages, LossConfig

Names are imported on first use, so `import reasongym.agents.policies.remote` stays free of torch.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "HFPolicy": "policies.hf",
    "Sampler": "policies.sampler", "KVCacheSampler": "policies.sampler",
    "RemotePolicy": "policies.remote", "ScriptedPolicy": "policies.scripted",
    "EnvPool": "rollout", "Row": "rollout", "collect": "rollout", "pick_tasks": "rollout",
    "to_rows": "rollout", "set_advantages": "rollout",
    "LossConfig": "grpo", "group_advantages": "grpo", "policy_loss": "grpo",
    "Learner": "learner",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'reasongym.agents' has no attribute {name!r}")
    return getattr(importlib.import_module(f"reasongym.agents.{_PUBLIC[name]}"), name)
