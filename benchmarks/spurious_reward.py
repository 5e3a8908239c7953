"""Spurious-reward control: GRPO with a coin flip for a reward, everything else as the quick start.

    python benchmarks/spurious_reward.py model=runs/cs32/final sft.steps=0 steps=19 time_budget_min=0
    python benchmarks/learning.py --report runs/quick-coinflip        # its numbers, as for any run

What a GRPO run does to held-out accuracy is its reward's signal plus the noise of estimating a policy
gradient from a few groups per step. This run keeps the noise and removes the signal: the math tasks, the
sampler, the learner, dynamic sampling, replay and curriculum are the quick start's, but each completion is
paid 1 or 0 by a hash of (task, completion), so advantages are as large and as frequent as real ones and
point nowhere. Held-out evaluation uses the real verifier (`env.eval_name=math-heldout`). If the real run
moves held-out accuracy no more than this one does, its reward did not get through its noise.
Any `reasongym.train` override can be added; the run lands in runs/<name> (default quick-coinflip).
"""

from __future__ import annotations

import hashlib
import sys

import gymnasium

from reasongym.registry import register
from reasongym.train import main as train

ENV_ID = "reasongym/MathCoinFlip-v0"


class CoinFlipReward(gymnasium.Wrapper):
    """Math-v0 whose reward is a fair coin fixed by (task id, completion); the verdict is kept in info."""

    def __init__(self, **kwargs):
        super().__init__(gymnasium.make("reasongym/Math-v0", **kwargs))
        self._task_id = ""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._task_id = getattr(info.get("task"), "id", "")
        return obs, info

    def step(self, action):
        obs, _, terminated, truncated, info = self.env.step(action)
        digest = hashlib.sha256(f"{self._task_id}\0{action}".encode("utf-8", "replace")).digest()
        return obs, float(digest[0] & 1), terminated, truncated, info


def main(argv: list[str]) -> None:
    register(ENV_ID, CoinFlipReward, description="Math-v0 paid by a coin flip (spurious-reward control)",
             splits=("train", "heldout"))
    names = [a for a in argv if a.startswith("name=")]
    train([f"env={ENV_ID}", "env.eval_name=math-heldout", "eval_tasks=200",
           *([] if names else ["name=quick-coinflip"]), *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
