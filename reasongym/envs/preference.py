"""`reasongym/Preference-v0`: open-ended prompts scored by a learned reward model (the RLHF environment).

    python -m reasongym.train env=preference env.rm=runs/rm-001/final env.prompts=prompts.jsonl
    env = reasongym.make("preference", rm="runs/rm-001/final", prompts="../shared/data/hh_rlhf_harmless_base_test.jsonl.gz")

Prompts come from a JSONL file: rows {"prompt": text or chat messages, "answer": optional gold,
"solution": optional good reply (the supervised cold start of `reasongym.train` trains on it)}, or any
ranking file (the hh-rlhf pairs: their shared dialogue is the prompt, the preferred reply the solution). `split` keeps the train or held-out
prompts by the same hash of the first user message the reward-model trainer uses, so a policy trained on
the train split never sees a held-out prompt of its reward model either.

Reward components (`info["rewards"]`, weights in `rewards=`):
    rm       the reward model's score of (prompt, reply); `normalize`: none (raw), dataset (z-score with the
             mean/std the model had on held-out human replies, in reward_model.json) or group (z-score
             among the G replies to the same prompt; see reasongym/rlhf/scorer.py)
    correct  when `verifier=` is set (e.g. "math" with prompts that carry an `answer`): its reward. It is
             reported even at weight 0, as the independent signal the reward-hacking guard watches.
The verdict's info also holds the raw `rm_score`. The reward model is loaded on the first step, once per
process for all copies of the environment, and scores concurrent steps in one batch.
"""

from __future__ import annotations

import importlib
from typing import Any

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.tasks import TaskList
from reasongym.rlhf.preferences import load_prompts, prompt_key, split_of_key
from reasongym.rlhf.scorer import NORMALIZE, SharedScorer
from reasongym.verifiers.rewards import WeightedReward

VERIFIERS = {"math": "reasongym.verifiers.math.verifier:MathVerifier"}


def make_verifier(spec: str | Verifier | None) -> Verifier | None:
    """A verifier from a short name (math), a "module:Class" path, or an instance."""
    if spec is None or isinstance(spec, Verifier):
        return spec
    path = VERIFIERS.get(spec, spec)
    if ":" not in path:
        raise ValueError(f"verifier={spec!r}: use one of {sorted(VERIFIERS)} or a 'module:Class' path")
    module, name = path.split(":", 1)
    return getattr(importlib.import_module(module), name)()


def prompt_tasks(path: str, split: str = "train", heldout_percent: int = 20, limit: int | None = None) -> TaskList:
    """The prompts of a file as tasks, restricted to a split (train, heldout or all)."""
    if split not in ("train", "heldout", "all"):
        raise ValueError(f"split must be train, heldout or all, got {split!r}")
    tasks = []
    for row in load_prompts(path):
        key = prompt_key(row.prompt)
        if split == "all" or split_of_key(key, heldout_percent) == split:
            meta = {"source": row.source, "split_key": key, **({"solution": row.solution} if row.solution else {})}
            tasks.append(Task.create(row.prompt, row.answer, **meta))
        if limit is not None and len(tasks) >= limit:
            break
    if not tasks:
        raise ValueError(f"{path}: no prompt falls in split {split!r} (heldout_percent={heldout_percent})")
    return TaskList(tasks, name=f"prompts {path} {split}")


class RewardModelVerifier(Verifier):
    """Verdict.reward = the (normalised) reward-model score; correct = the optional verifier's verdict."""

    learned = True  # the reward-hacking guard is on by default for learned rewards

    def __init__(self, rm: str, *, normalize: str = "none", verifier: Verifier | None = None,
                 device: str = "cpu", precision: str = "fp32", batch_size: int = 32, group_timeout_s: float = 120.0):
        if normalize not in NORMALIZE:
            raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
        self.scorer = SharedScorer.get(rm, device, precision, batch_size=batch_size)
        self.normalize, self.inner, self.group_timeout_s = normalize, verifier, group_timeout_s

    def verify(self, task: Task, completion: str, env_key: int | None = None) -> Verdict:
        if self.normalize == "group":
            raw, value = self.scorer.score_in_group(env_key if env_key is not None else id(task), task.id,
                                                    task.prompt, completion, self.group_timeout_s)
        else:
            raw = value = self.scorer.score(task.prompt, completion)
            if self.normalize == "dataset":
                stats = self.scorer.stats
                if not stats.get("std"):
                    raise ValueError(f"{self.scorer.folder}: reward_model.json has no score statistics for "
                                     "normalize='dataset'; use normalize='none' or 'group'")
                value = (raw - stats["mean"]) / stats["std"]
        info: dict[str, Any] = {"rm_score": raw, "rm": value}
        correct = False
        if self.inner is not None:
            inner = self.inner.verify(task, completion)
            correct, info["verifier"], info["verifier_reward"] = inner.correct, inner.info, inner.reward
        return Verdict(reward=value, correct=correct, info=info)


def _rm_component(task: Task, completion: str, verdict: Verdict) -> float:
    return float(verdict.info["rm"])


def _correct_component(task: Task, completion: str, verdict: Verdict) -> float:
    return float(verdict.info.get("verifier_reward", 0.0))


class PreferenceEnv(TextEnv):
    """Prompts from a file; the reply's reward comes from a learned reward model (plus optional checks).

    rm: folder of a trained reward model.  prompts: JSONL of prompts (or a ranking file).
    split: train / heldout / all.  normalize: none / dataset / group.  verifier: e.g. "math" (needs an
    `answer` per prompt).  rewards: component weights; default {"rm": 1} (+ {"correct": 0} with a verifier).
    device / precision: where the reward model runs ("cpu" / "fp32" by default).  max_turns > 1: the
    policy may revise its reply after "Please improve your answer."; the return is the last reply's reward.
    """

    def __init__(self, rm: str, prompts: str, *, split: str = "train", heldout_percent: int = 20,
                 limit: int | None = None, normalize: str = "none", verifier: str | Verifier | None = None,
                 rewards: dict[str, float] | None = None, device: str = "cpu", precision: str = "fp32",
                 batch_size: int = 32, group_timeout_s: float = 120.0, max_turns: int = 1,
                 render_mode: str | None = None):
        if max_turns > 1 and normalize == "group":
            raise ValueError("normalize='group' needs single-turn episodes (max_turns=1): a group is the G first "
                             "replies to one prompt")
        inner = make_verifier(verifier)
        weights = dict(rewards) if rewards is not None else {"rm": 1.0, **({"correct": 0.0} if inner else {})}
        if "correct" in weights and inner is None:
            raise ValueError("rewards has a 'correct' component but no verifier= is set (e.g. verifier=math)")
        reward_fn = WeightedReward(weights, extra={"rm": _rm_component, "correct": _correct_component})
        judge = RewardModelVerifier(rm, normalize=normalize, verifier=inner, device=device, precision=precision,
                                    batch_size=batch_size, group_timeout_s=group_timeout_s)
        super().__init__(prompt_tasks(prompts, split, heldout_percent, limit), judge, max_turns=max_turns,
                         rewards=reward_fn, render_mode=render_mode)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = super().reset(seed=seed, options=options)
        if self.verifier.normalize == "group":
            self.verifier.scorer.join(id(self), self.task.id)
        return obs, info

    def verify(self, task: Task, completion: str) -> Verdict:
        return self.verifier.verify(task, completion, env_key=id(self))

    def feedback(self, task: Task, verdict: Verdict) -> str:
        """With max_turns > 1 the policy may revise its reply; the reward model scores the latest one."""
        return verdict.info.get("verifier", {}).get("feedback") or "Please improve your answer."
