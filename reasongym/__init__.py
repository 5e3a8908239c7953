"""reasongym: a reinforcement-learning gym for LLM reasoning.

Importing it registers the built-in environment ids with Gymnasium (and those of installed plugins):

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/Math-v0", difficulty=2)     # or reasongym.make("math", difficulty=2)

It does not import torch: environments and verifiers stay light; the agents import it themselves.
"""

from reasongym import envs as _envs  # noqa: F401  - registers the built-in ids
from reasongym.core import (
    Completion,
    Messages,
    Policy,
    Rollout,
    SamplingParams,
    Task,
    Turn,
    Verdict,
    Verifier,
)
from reasongym.registry import load_plugins, make, register, resolve

load_plugins()

__version__ = "0.1.0"
__all__ = [
    "Completion", "Messages", "Policy", "Rollout", "SamplingParams", "Task", "Turn", "Verdict", "Verifier",
    "make", "register", "resolve", "load_plugins",
]
