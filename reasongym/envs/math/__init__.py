"""Math environments: procedural problems (`reasongym/Math-v0`) and GSM8K / MATH-style files.

Every task asks for the final answer in \\boxed{}; the reward comes from `MathVerifier` (last box,
sympy equivalence), weighted with optional format components (see `reasongym.verifiers.rewards`).

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/Math-v0", difficulty=2, kinds=["arithmetic", "linear"])
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("... \\boxed{42}")
    heldout = env.unwrapped.tasks.take(200, seed=0)    # a fixed held-out list needs split="heldout"
    sft = [(t.prompt, t.meta["solution"]) for t in env.unwrapped.tasks.take(1000)]   # cold-start data

    gym.make("reasongym/GSM8K-v0")            # the shipped GSM8K test set; path= / hf= override it
    gym.make("reasongym/GSM8K-v0", path="grade_school_math/data/test.jsonl")
    gym.make("reasongym/MATH500-v0", path="prm800k/math_splits/test.jsonl", levels=[1, 2])
    gym.make("reasongym/MathFile-v0", path="mine.jsonl", fields={"question": "q", "answer": "a"})

Kinds of procedural problems (`kinds=`): arithmetic, fractions, word, linear, system, expand, simplify,
roots; difficulty 1 (easy enough for a 135M model) to 5. A narrow arithmetic-only environment is this
same class with `kinds=["arithmetic"]` (alias `arithmetic`), not a separate id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from reasongym.core import Task, Verdict, Verifier
from reasongym.data import data_file
from reasongym.envs.base import TextEnv
from reasongym.envs.math.files import Fields, load_hf, load_tasks
from reasongym.envs.math.gen import INSTRUCTION, check_difficulty, no_echo
from reasongym.envs.math.gen.algebra import expand, quadratic_roots, simplify
from reasongym.envs.math.gen.arith import arithmetic, fractions
from reasongym.envs.math.gen.equations import linear_equation, linear_system
from reasongym.envs.math.gen.words import word_problem
from reasongym.envs.tasks import ProceduralTaskSet, TaskList, TaskSet
from reasongym.envs.tasks import check_kinds as tasks_check_kinds
from reasongym.envs.tasks import mixed_generator as tasks_mixed_generator
from reasongym.verifiers.math.verifier import MathVerifier
from reasongym.verifiers.rewards import WeightedReward

GENERATORS: dict[str, Callable[[np.random.Generator, int], Task]] = {  # no task's answer is a question number
    "arithmetic": no_echo(arithmetic),
    "fractions": no_echo(fractions),
    "word": no_echo(word_problem),
    "linear": no_echo(linear_equation),
    "system": linear_system,
    "expand": expand,
    "simplify": simplify,
    "roots": quadratic_roots,
}
KINDS = tuple(GENERATORS)


def check_kinds(kinds: Sequence[str] | str | None) -> tuple[str, ...]:
    """Validate a list of math kind names (None = all); unknown names get suggestions."""
    return tasks_check_kinds(GENERATORS, kinds, "math")


def mixed_generator(kinds: Sequence[str] | None = None) -> Callable[[np.random.Generator, int], Task]:
    """One generator drawing a math kind uniformly, then a task of that kind (deterministic per rng)."""
    return tasks_mixed_generator(GENERATORS, kinds, "math")


def math_feedback(task: Task, verdict: Verdict) -> str:
    """What the user says after a wrong attempt in a multi-turn episode."""
    got = verdict.info.get("extracted")
    if got is None or got == "":
        return f"I could not find a final answer. {INSTRUCTION}"
    return f"{got} is not correct. Check your work and try again. {INSTRUCTION}"


class _MathTextEnv(TextEnv):
    """A TextEnv with the math verifier and math feedback.

    The default verifier takes only a closed box (the prompt asks for one) and checks the answer's form
    before its value: `task.meta["form"]` for procedural tasks, a default from the gold for files (a
    numeric gold needs a number, not `17 \\times 23`): see reasongym/verifiers/math/form.py.
    """

    def __init__(self, tasks: TaskSet, *, max_turns: int = 1,
                 rewards: dict[str, float] | WeightedReward | None = None, turn_penalty: float = 0.0,
                 render_mode: str | None = None, verifier: Verifier | None = None):
        super().__init__(tasks, verifier or MathVerifier(), max_turns=max_turns, rewards=rewards,
                         turn_penalty=turn_penalty, render_mode=render_mode)

    def feedback(self, task: Task, verdict: Verdict) -> str:
        return math_feedback(task, verdict)


class MathEnv(_MathTextEnv):
    """Procedural math problems, endless and seeded, restricted to one split.

    difficulty: 1..5.  split: "train" or "heldout" (disjoint by construction).  kinds: None for all, or a
    list of GENERATORS names.  rewards: weights of reward components, e.g. {"correct": 1, "format": 0.1}.
    """

    def __init__(self, difficulty: int = 1, split: str = "train", kinds: Sequence[str] | None = None, *,
                 max_turns: int = 1, rewards: dict[str, float] | None = None, turn_penalty: float = 0.0,
                 render_mode: str | None = None, verifier: Verifier | None = None):
        self.difficulty, self.kinds = check_difficulty(difficulty), check_kinds(kinds)
        tasks = ProceduralTaskSet(mixed_generator(self.kinds), split=split, difficulty=self.difficulty,
                                  name=f"math[{','.join(self.kinds)}] d{self.difficulty} {split}")
        super().__init__(tasks, max_turns=max_turns, rewards=rewards, turn_penalty=turn_penalty,
                         render_mode=render_mode, verifier=verifier)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """options={"difficulty": d, "kind": k} (either or both) draws this episode's task at that difficulty
        and of that kind, from this env's split (how a pass-rate curriculum asks for tasks)."""
        options = dict(options or {})
        want = {k: options.pop(k) for k in ("difficulty", "kind") if k in options}
        if not want or options.get("task") is not None:
            return super().reset(seed=seed, options=options)
        kind = want.get("kind")
        if kind is not None and kind not in self.kinds:
            raise ValueError(f"reset options: kind {kind!r} is not one of this env's kinds {self.kinds}")
        super().reset(seed=seed)  # seeds np_random as a plain reset would
        source = ProceduralTaskSet(GENERATORS[kind] if kind else mixed_generator(self.kinds), split=self.tasks.split,
                                   difficulty=check_difficulty(want.get("difficulty", self.difficulty)))
        return super().reset(options={**options, "task": source.sample(self.np_random)})


class MathFileEnv(_MathTextEnv):
    """Math problems from a file (JSONL / JSON / Parquet) or a Hugging Face dataset, mapped by `fields`.

    path: the file.  hf: a dataset name or a `save_to_disk` folder instead (with hf_split, hf_config).
    fields: a preset name ("gsm8k", "math"), a dict like {"question": "q", "answer": "a"}, or Fields.
    limit: only the first `limit` rows.  levels: keep only tasks whose meta difficulty is in this list.
    """

    preset: str | None = None
    default_file: str | None = None  # the shipped benchmark file used when neither path= nor hf= is given
    example = "a JSONL file with question and answer fields"

    def __init__(self, path: str | None = None, *, hf: str | None = None, hf_split: str = "test",
                 hf_config: str | None = None, fields: Fields | str | Mapping[str, Any] | None = None,
                 limit: int | None = None, levels: Sequence[int] | None = None, max_turns: int = 1,
                 rewards: dict[str, float] | None = None, turn_penalty: float = 0.0,
                 render_mode: str | None = None, verifier: Verifier | None = None):
        spec = Fields.of(fields if fields is not None else self.preset)
        if path is None and hf is None and self.default_file:
            path = str(data_file(self.default_file))
        if (path is None) == (hf is None):
            raise ValueError(f"{type(self).__name__} needs exactly one of path= ({self.example}) or hf= "
                             f"(a Hugging Face dataset name); got path={path!r}, hf={hf!r}")
        tasks = (load_tasks(path, spec, limit=limit) if path is not None
                 else load_hf(hf, spec, split=hf_split, config=hf_config, limit=limit))
        if levels is not None:
            kept = [t for t in tasks if t.meta.get("difficulty") in set(levels)]
            if not kept:
                raise ValueError(f"no task in {tasks.name} has a level in {list(levels)}")
            tasks = TaskList(kept, name=f"{tasks.name} levels {list(levels)}")
        super().__init__(tasks, max_turns=max_turns, rewards=rewards, turn_penalty=turn_penalty,
                         render_mode=render_mode, verifier=verifier)


class GSM8KEnv(MathFileEnv):
    """GSM8K grade-school word problems (`#### answer` format). hf="openai/gsm8k" uses config "main"."""

    preset = "gsm8k"
    default_file = "gsm8k_test.jsonl"
    example = "a GSM8K-format JSONL file, e.g. grade_school_math/data/test.jsonl"

    def __init__(self, path: str | None = None, *, hf: str | None = None, hf_config: str | None = None,
                 **kwargs: Any):
        if hf == "openai/gsm8k" and hf_config is None:
            hf_config = "main"
        super().__init__(path, hf=hf, hf_config=hf_config, **kwargs)


class MATH500Env(MathFileEnv):
    """MATH / MATH-500 competition problems (`answer` field, or the last box of `solution`)."""

    preset = "math"
    default_file = "math500_test.jsonl"
    example = "a MATH-format JSONL file, e.g. prm800k/math_splits/test.jsonl"
