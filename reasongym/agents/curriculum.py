"""A pass-rate curriculum: ask the environment for tasks the policy solves about half the time.

    cur = Curriculum(env, target=0.5, max_difficulty=3)   # 0: difficulties 1..the env's difficulty
    tasks = cur.pick(env, seeds)                      # one task per reset seed
    cur.update(tasks, correct)                        # correct: (N, G) booleans of the groups
    cur.mix(tasks)                                    # {"difficulty_mean": ..., "difficulty_mix_d1": ...}

Why: a GRPO group whose G rewards are all equal has no advantage, so it teaches nothing; at the start of
the default recipe most groups are all-wrong, later many are all-right. The expected signal of a task is
highest near a pass rate of 1/2 (the variance of a Bernoulli reward is p(1 - p)).

How: pass rates are kept per cell (kind, difficulty) for procedural environments that take
`reset(options={"difficulty": d, "kind": k})` (reasongym/Math-v0), and per task for everything else
(file environments: GSM8K, MATH, code). Both are exponentially decayed counts, so a cell the policy has
outgrown is seen as such after a few steps. A cell or task is chosen with weight
`floor + 1 - p^G - (1 - p)^G`, the chance that a group of G samples at pass rate p has signal (largest at
p = 1/2, and it tells a 10% cell from a 0% one, which matters for a small model whose best cells are far
below 1/2); an unseen one counts as being at `target` (so it is tried), with a tenth of a trial of weight;
per-task sampling draws a few candidate tasks per seed and picks one by weight. Every
choice is a pure function of the reset seed and the curriculum's state, and the state is saved with the
run (state_dict), so a resumed run picks the same tasks.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from reasongym.core import Task

CANDIDATES = 4
"""Tasks drawn per seed for a per-task curriculum (the best-weighted one is used)."""


class Curriculum:
    def __init__(self, env, *, target: float = 0.5, max_difficulty: int = 3, group_size: int = 8,
                 floor: float = 0.02, decay: float = 0.9):
        base = env.unwrapped
        self.kinds = tuple(getattr(base, "kinds", ()) or ())
        top = max_difficulty or int(getattr(base, "difficulty", 1) or 1)  # 0: up to the env's own difficulty
        self.cells = [(k, d) for k in self.kinds for d in range(1, top + 1)]
        self.by_cell = bool(self.cells) and hasattr(base, "difficulty")
        self.target, self.group_size, self.floor, self.decay = target, group_size, floor, decay
        self.stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # key -> [passes, trials]

    # -- choosing ------------------------------------------------------------------------------------
    def weight(self, key: str) -> float:
        passes, trials = self.stats.get(key, (0.0, 0.0))
        p = (passes + 0.1 * self.target) / (trials + 0.1)  # a tenth of a pseudo-trial at the target: unseen -> target
        return self.floor + 1.0 - p ** self.group_size - (1.0 - p) ** self.group_size

    def pick(self, env, seeds: list[int]) -> list[Task]:
        """One task per reset seed, near the target pass rate."""
        return [self._pick_cell(env, s) if self.by_cell else self._pick_task(env, s) for s in seeds]

    def _pick_cell(self, env, seed: int) -> Task:
        rng = np.random.default_rng(seed)
        w = np.array([self.weight(cell_key(k, d)) for k, d in self.cells])
        kind, difficulty = self.cells[int(rng.choice(len(self.cells), p=w / w.sum()))]
        _, info = env.reset(seed=int(seed), options={"difficulty": difficulty, "kind": kind})
        return info["task"]

    def _pick_task(self, env, seed: int) -> Task:
        rng = np.random.default_rng(seed)
        seeds = [int(seed)] + [int(s) for s in rng.integers(0, 2**31, CANDIDATES - 1)]
        tasks = [env.reset(seed=s)[1]["task"] for s in seeds]
        w = np.array([self.weight(task_key(t)) for t in tasks])
        return tasks[int(rng.choice(len(tasks), p=w / w.sum()))]

    # -- learning pass rates -------------------------------------------------------------------------
    def update(self, tasks: list[Task], correct) -> None:
        """correct: the N tasks' groups, one list of booleans (or 0/1) each; groups may differ in size (a
        screened-out group has only its first samples). Older counts decay by `decay` per call."""
        for stat in self.stats.values():
            stat[0] *= self.decay
            stat[1] *= self.decay
        for task, group in zip(tasks, correct):
            stat = self.stats[self.key(task)]
            stat[0] += float(np.mean(group))
            stat[1] += 1.0

    def key(self, task: Task) -> str:
        return cell_key(task.meta.get("kind"), task.meta.get("difficulty")) if self.by_cell else task_key(task)

    def pass_rates(self) -> dict[str, float]:
        return {k: s[0] / s[1] for k, s in sorted(self.stats.items()) if s[1] > 0}

    @staticmethod
    def mix(tasks: list[Task]) -> dict[str, float]:
        """Difficulty mix of a step's tasks: the mean and the share of each difficulty (metrics.jsonl)."""
        levels = [t.meta.get("difficulty") for t in tasks]
        levels = [int(d) for d in levels if isinstance(d, (int, np.integer)) or str(d).isdigit()]
        if not levels:
            return {}
        out = {"difficulty_mean": float(np.mean(levels))}
        for d in sorted(set(levels)):
            out[f"difficulty_mix_d{d}"] = levels.count(d) / len(levels)
        return out

    # -- resume --------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"stats": {k: list(v) for k, v in self.stats.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.stats.clear()
        for k, v in state.get("stats", {}).items():
            self.stats[k] = [float(v[0]), float(v[1])]


def cell_key(kind, difficulty) -> str:
    return f"{kind}/d{difficulty}"


def task_key(task: Task) -> str:
    return f"task/{task.id}"
