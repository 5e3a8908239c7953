"""reasoning-gym's procedural datasets as a reasongym environment (pip install "reasongym[reasoning-gym]").

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/ReasoningGym-v0", dataset="leg_counting")      # any of its ~100 datasets
    env = gym.make("reasongym/ReasoningGym-v0", dataset="basic_arithmetic", config={"min_terms": 2})
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("... \\boxed{292}")

    python -m reasongym.train env=reasongym/ReasoningGym-v0 env.dataset=leg_counting    # our trainer, evaluation,
                                                                                          # audit and adapters too

Each task is one entry of `reasoning_gym.create_dataset(dataset, size=, seed=, **config)`. The task's answer
records (dataset, config, size, seed, index) rather than the entry itself, so it stays small JSON that the
trainer adapters can ship, and the verifier regenerates the entry (deterministic per seed) and grades with
the dataset's own `score_answer(answer, entry)`. The answer read from a completion is the last \\boxed{}
(reasongym's convention), else the last <answer>...</answer> (reasoning-gym's). The held-out split is the
same dataset under another seed (reasoning-gym has no split of its own): distinct draws, not a guarantee
that no question repeats. Partial credit (score_answer between 0 and 1) is paid; only 1.0 counts as solved.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.tasks import TaskList
from reasongym.verifiers.text import answer_text, last_boxed

INSTRUCTION = "Put your final answer alone in \\boxed{}."
HELDOUT_SEED_OFFSET = 1_000_003  # the held-out split: the same dataset under seed + this offset
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


@functools.lru_cache(maxsize=64)
def _dataset(name: str, config_json: str, size: int, seed: int):
    try:
        import reasoning_gym
    except ImportError:
        raise ImportError("reasongym/ReasoningGym-v0 needs reasoning-gym: pip install 'reasongym[reasoning-gym]'") \
            from None
    return reasoning_gym.create_dataset(name, size=size, seed=seed, **json.loads(config_json))


def extract(completion: str) -> str | None:
    """The last \\boxed{} outside think/code, else the last <answer>...</answer>; None when neither."""
    boxed = last_boxed(completion)
    if boxed is not None:
        return boxed
    tags = _ANSWER_TAG.findall(answer_text(completion))
    return tags[-1].strip() if tags else None


class ReasoningGymVerifier(Verifier):
    """Grades with the source dataset's own `score_answer`; never raises."""

    def verify(self, task: Task, completion: str) -> Verdict:
        spec = task.answer
        answer = extract(completion)
        if answer is None:
            return Verdict(0.0, False, {"extracted": None, "feedback": f"No final answer found. {INSTRUCTION}"},
                           answer=None, feedback=f"No final answer found. {INSTRUCTION}", status="no_answer")
        try:
            ds = _dataset(spec["dataset"], json.dumps(spec.get("config") or {}, sort_keys=True), int(spec["size"]),
                          int(spec["seed"]))
            score = float(ds.score_answer(answer, ds[int(spec["index"])]))
        except Exception as exc:  # noqa: BLE001 - a crashed grader pays nothing and is counted
            return Verdict(0.0, False, {"extracted": answer, "error": f"{type(exc).__name__}: {exc}"}, answer=answer,
                           status="harness_error")
        score = min(max(score, 0.0), 1.0)
        correct = score >= 1.0
        feedback = None if correct else f"{answer} is not correct. Try again. {INSTRUCTION}"
        return Verdict(score, correct, {"extracted": answer, "score": score, "feedback": feedback}, answer=answer,
                       feedback=feedback, status="ok")


def load_tasks(dataset: str, *, size: int, seed: int, config: dict[str, Any] | None = None) -> TaskList:
    """Every entry of the dataset as a task (prompt: question + INSTRUCTION)."""
    ds = _dataset(dataset, json.dumps(config or {}, sort_keys=True), size, seed)
    tasks = []
    for index in range(size):
        entry = ds[index]
        spec = {"dataset": dataset, "config": config or {}, "size": size, "seed": seed, "index": index,
                "gold": str(entry["answer"])}
        tasks.append(Task.create(f"{entry['question']}\n\n{INSTRUCTION}", spec, kind=f"reasoning_gym:{dataset}",
                                 source="reasoning-gym", solution=f"The answer is \\boxed{{{entry['answer']}}}."))
    return TaskList(tasks, name=f"reasoning_gym {dataset} seed {seed}")


class ReasoningGymEnv(TextEnv):
    """One reasoning-gym dataset. dataset: its name (`reasoning_gym.factory.DATASETS`); config: its options;
    size: tasks per split; seed: the train seed; split: "train" or "heldout"."""

    def __init__(self, dataset: str = "leg_counting", *, config: dict[str, Any] | None = None, size: int = 500,
                 seed: int = 0, split: str = "train", max_turns: int = 1, rewards: dict[str, float] | None = None,
                 turn_penalty: float = 0.0, render_mode: str | None = None, verifier: Verifier | None = None):
        if split not in ("train", "heldout"):
            raise ValueError(f"ReasoningGym-v0 split must be 'train' or 'heldout', got {split!r}")
        known = _known_datasets()
        if known and dataset not in known:
            close = [d for d in known if dataset.lower() in d][:5]
            raise ValueError(f"unknown reasoning-gym dataset {dataset!r}." + (f" Did you mean {close}?" if close else "")
                             + " See reasoning_gym.factory.DATASETS.")
        self.dataset, self.split = dataset, split
        task_seed = seed if split == "train" else seed + HELDOUT_SEED_OFFSET
        tasks = load_tasks(dataset, size=size, seed=task_seed, config=config)
        super().__init__(tasks, verifier or ReasoningGymVerifier(), max_turns=max_turns, rewards=rewards,
                         turn_penalty=turn_penalty, render_mode=render_mode)

    def feedback(self, task: Task, verdict: Verdict) -> str:
        return verdict.feedback or f"That is not correct. {INSTRUCTION}"


def _known_datasets() -> list[str]:
    try:
        from reasoning_gym.factory import DATASETS
    except ImportError:
        return []
    return sorted(DATASETS)
