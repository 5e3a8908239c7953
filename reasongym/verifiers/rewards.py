"""Format rewards and the weighted composition of reward components.

An environment's reward is a weighted sum of named components, each reported in `info["rewards"]`:

    correct   the verifier's reward (1/0 for math, pass fraction or all-pass for code, RM score)
    format    1 if the completion is `<think>...</think>` followed by an answer, else 0
    one_box   1 if the part after the think block holds exactly one \\boxed{...}, else 0
    length    -(characters beyond `target_chars`) / target_chars, capped at -1: a soft length penalty

    from reasongym.verifiers.rewards import WeightedReward
    reward = WeightedReward({"correct": 1.0, "format": 0.1})
    total, parts = reward(task, completion_text, verdict)

Unknown component names are an error with a suggestion (a typo must not silently earn nothing).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from reasongym.core import Task, Verdict
from reasongym.verifiers.text import answer_text, find_boxes, strip_think

__all__ = ["WeightedReward", "strip_think", "think_format", "one_box"]  # strip_think: re-exported for old importers

def think_format(task: Task, completion: str, verdict: Verdict) -> float:
    """1 when the completion reasons inside one think block and then answers outside it."""
    text = completion.lstrip()
    end = text.find("</think>")
    if not text.startswith("<think>") or end == -1:
        return 0.0
    thought, answer = text[len("<think>"):end], text[end + len("</think>"):]
    return float(thought.strip() != "" and answer.strip() != "" and "<think>" not in answer)


def one_box(task: Task, completion: str, verdict: Verdict) -> float:
    """1 when the final answer holds exactly one box (no spraying of candidate answers)."""
    return float(len(find_boxes(answer_text(completion), last=2)) == 1)


def make_length_penalty(target_chars: int) -> Callable[[Task, str, Verdict], float]:
    def length(task: Task, completion: str, verdict: Verdict) -> float:
        over = max(0, len(completion) - target_chars)
        return -min(1.0, over / max(1, target_chars))

    return length


def correct(task: Task, completion: str, verdict: Verdict) -> float:
    return float(verdict.reward)


class WeightedReward:
    """Sum of `weight * component(task, completion, verdict)` over the named components."""

    def __init__(self, weights: dict[str, float] | None = None, *, target_chars: int = 2000,
                 extra: dict[str, Callable[[Task, str, Verdict], float]] | None = None):
        self.components: dict[str, Callable[[Task, str, Verdict], float]] = {
            "correct": correct,
            "format": think_format,
            "one_box": one_box,
            "length": make_length_penalty(target_chars),
            **(extra or {}),
        }
        self.weights = dict(weights if weights is not None else {"correct": 1.0})
        for name in self.weights:
            if name not in self.components:
                close = difflib.get_close_matches(name, self.components, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise KeyError(f"unknown reward component {name!r}.{hint} Known: {sorted(self.components)}")

    def __call__(self, task: Task, completion: str, verdict: Verdict) -> tuple[float, dict[str, float]]:
        parts = {name: float(self.components[name](task, completion, verdict)) for name in self.weights}
        return sum(self.weights[n] * v for n, v in parts.items()), parts

    def __repr__(self) -> str:
        return f"WeightedReward({self.weights})"
