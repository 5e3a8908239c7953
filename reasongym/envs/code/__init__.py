"""Code environments: write a Python function, get rewarded by hidden tests run in the sandbox.

    reasongym/Code-v0           procedural function-writing tasks (difficulty 1-5, train/heldout splits)
    reasongym/CodeMultiTurn-v0  the same with max_turns=3: a failed attempt gets the failing test back
    reasongym/HumanEval-v0      the 164 HumanEval problems (evaluation only)
    reasongym/MBPP-v0           MBPP problems; split train (task ids 601-974), validation (511-600),
                                heldout (the MBPP test split, 11-510) or all

The code is the last fenced block of the completion (see `reasongym.verifiers.code.verifier`); it runs isolated
(`reasongym.verifiers.code.sandbox`). Every environment takes `max_turns` (multi-turn with test feedback),
`reward` ("all": 1 if every test passes else 0; "fraction": share of tests passed), `timeout_s`,
`memory_mb` and `sandbox` ("bwrap", or "none" to run unisolated on purpose).

Reward per episode: the TextEnv convention, step t returns score_t - score_{t-1}, so an episode's return is
the score of its final attempt (minus `turn_penalty` per extra turn). A success terminates the episode;
running out of turns truncates it. The next observation after a failure is the transcript plus a user
message naming the first failing test (input, expected, actual).

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/Code-v0", difficulty=2)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("```python\\ndef f(x):\\n    return x\\n```")

HumanEval and MBPP read `../shared/data/HumanEval.jsonl.gz` and `../shared/data/mbpp.jsonl` next to the
checkout (or $REASONGYM_DATA, or `path=`).
"""

from __future__ import annotations

from collections.abc import Sequence

from reasongym.core import Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.code.files import load_humaneval, load_mbpp
from reasongym.envs.code.gen import check_difficulty, make_generator
from reasongym.envs.tasks import ProceduralTaskSet, TaskSet
from reasongym.verifiers.code.verifier import CodeVerifier
from reasongym.verifiers.rewards import WeightedReward


class _CodeTextEnv(TextEnv):
    """A TextEnv with the sandboxed code verifier; its failure feedback comes from verdict.info."""

    def __init__(self, tasks: TaskSet, *, max_turns: int = 1, reward: str = "all", timeout_s: float = 10.0,
                 memory_mb: int = 512, sandbox: str = "bwrap",
                 rewards: dict[str, float] | WeightedReward | None = None, turn_penalty: float = 0.0,
                 render_mode: str | None = None, verifier: Verifier | None = None):
        verifier = verifier or CodeVerifier(reward=reward, timeout_s=timeout_s, memory_mb=memory_mb,
                                            sandbox=sandbox)
        super().__init__(tasks, verifier, max_turns=max_turns, rewards=rewards, turn_penalty=turn_penalty,
                         render_mode=render_mode)


class CodeEnv(_CodeTextEnv):
    """Procedural function-writing tasks, endless and seeded, restricted to one split.

    difficulty: 1..5.  split: "train" or "heldout" (disjoint by spec).  families: None for all, or names
    from `reasongym.envs.code.gen.families.FAMILIES`.  n_tests: hidden tests per task (plus two shown).
    """

    def __init__(self, difficulty: int = 1, split: str = "train", families: Sequence[str] | None = None,
                 n_tests: int = 10, **kwargs):
        self.difficulty = check_difficulty(difficulty)
        chosen = tuple(families) if families is not None else None
        tasks = ProceduralTaskSet(make_generator(chosen, n_tests), split=split, difficulty=self.difficulty,
                                  name=f"code d{self.difficulty} {split}")
        super().__init__(tasks, **kwargs)


class HumanEvalEnv(_CodeTextEnv):
    """The HumanEval problems (`path=` HumanEval.jsonl.gz; `limit=` the first n). Evaluation only."""

    def __init__(self, path: str | None = None, *, limit: int | None = None, **kwargs):
        super().__init__(load_humaneval(path, limit=limit), **kwargs)


class MBPPEnv(_CodeTextEnv):
    """MBPP problems (`path=` mbpp.jsonl) of one split: train, validation, heldout (MBPP's test) or all."""

    def __init__(self, path: str | None = None, *, split: str = "train", limit: int | None = None, **kwargs):
        super().__init__(load_mbpp(path, split=split, limit=limit), **kwargs)
