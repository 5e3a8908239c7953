"""`reasongym/Preference-v0`: open-ended prompts scored by a learned reward model (the RLHF environment).

    python -m reasongym.train env=preference env.rm=runs/rm-001/final env.prompts=prompts.jsonl
    env = reasongym.make("preference", rm="runs/rm-001/final", prompts="../shared/data/hh_rlhf_harmless_base_test.jsonl.gz")

Prompts come from a JSONL file: rows {"prompt": text or chat messages, "answer": optional gold,
"solution": optional good reply (the supervised cold start of `reasongym.train` trains on it)}, or any
ranking file (the hh-rlhf pairs: their shared dialogue is the prompt, the preferred reply the solution). `split` keeps the train or held-out
prompts by the same hash of the first user message the reward-model trainer uses, so a policy trained on
the train split never sees a held-out prompt of its reward model either.

Reward components (`info["rewards"]`, weights in `rewards=`):
    rm       the reward model's score of (prompt, reply); `normalize`: none (raw) or dataset (z-score with
             the mean/std the model had on held-out human replies, in reward_model.json). `group` is
             deprecated and means none: GRPO's advantage already normalises within each group, in the
             learner, and the reward-hacking guard must see the raw score rise (a group's z-scores average 0)
    correct  when `verifier=` is set (e.g. "math" with prompts that carry an `answer`): its reward. It is
             reported even at weight 0, as the independent signal the reward-hacking guard watches.
The verdict's info also holds the raw `rm_score`. The reward model is loaded on the first step, once per
process for all copies of the environment, and scores concurrent steps in one batch.
"""

from __future__ import annotations

import importlib

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.tasks import TaskList
from reasongym.rlhf.preferences import load_prompts, prompt_key, split_of_key
from reasongym.rlhf.verifier import RewardModelVerifier, correct_component, rm_component
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


class PreferenceEnv(TextEnv):
    """Prompts from a file; the reply's reward comes from a learned reward model (plus optional checks).

    rm: folder of a trained reward model.  prompts: JSONL of prompts (or a ranking file).
    split: train / heldout / all.  normalize: none / dataset (group: deprecated, as none).  verifier:
    e.g. "math" (needs an `answer` per prompt).  rewards: component weights; default {"rm": 1} (+ {"correct": 0} with a verifier).
    device / precision: where the reward model runs ("cpu" / "fp32" by default).  max_turns > 1: the
    policy may revise its reply after "Please improve your answer."; the return is the last reply's reward.
    """

    def __init__(self, rm: str, prompts: str, *, split: str = "train", heldout_percent: int = 20,
                 limit: int | None = None, normalize: str = "none", verifier: str | Verifier | None = None,
                 rewards: dict[str, float] | None = None, device: str = "cpu", precision: str = "fp32",
                 batch_size: int = 32, max_turns: int = 1, render_mode: str | None = None):
        inner = make_verifier(verifier)
        weights = dict(rewards) if rewards is not None else {"rm": 1.0, **({"correct": 0.0} if inner else {})}
        if "correct" in weights and inner is None:
            raise ValueError("rewards has a 'correct' component but no verifier= is set (e.g. verifier=math)")
        reward_fn = WeightedReward(weights, extra={"rm": rm_component, "correct": correct_component})
        judge = RewardModelVerifier(rm, normalize=normalize, verifier=inner, device=device, precision=precision,
                                    batch_size=batch_size)
        super().__init__(prompt_tasks(prompts, split, heldout_percent, limit), judge, max_turns=max_turns,
                         rewards=reward_fn, render_mode=render_mode)

    def feedback(self, task: Task, verdict: Verdict) -> str:
        """With max_turns > 1 the policy may revise its reply; the reward model scores the latest one."""
        return verdict.feedback or verdict.info.get("verifier", {}).get("feedback") or "Please improve your answer."
