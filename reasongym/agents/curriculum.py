"""A pass-rate curriculum: ask the environment for tasks the policy solves about half the time.

    cur = Curriculum(env, target=0.5, max_difficulty=3)   # 0: difficulties 1..the env's difficulty
    tasks = cur.pick(env, seeds)                      # one task per reset seed
    cur.update(tasks, correct)                        # correct: (N, G) booleans of the groups
    cur.mix(tasks)                                    # {"difficulty_mean": ..., "difficulty_mix_d1": ..., "kind_mix_linear": ...}

Why: a GRPO group whose G rewards are all equal has no advantage, so it teaches nothing; at the start of
the default recipe most groups are all-wrong, later many are all-right. The expected signal of a task is
highest near a pass rate of 1/2 (the variance of a Bernoulli reward is p(1 - p)).

How: pass rates are kept per cell (kind, difficulty) for procedural environments that take
`reset(options={"difficulty": d, "kind": k})` (reasongym/Math-v0), and per task for everything else
(file environments: GSM8K, MATH, code). Both are exponentially decayed counts, so a cell the policy has
outgrown is seen as such after a few steps. A cell or task is chosen with weight `floor + s`, s the chance
that its next group has signal. From the pass rate p alone that chance is `1 - p^G - (1 - p)^G` (largest
at p = 1/2, and it tells a 10% cell from a 0% one, which matters for a small model whose best cells are
far below 1/2), but only if every task of the cell is solved at rate p. A cold-started small policy is
nearly deterministic per task: in a cell at 25% most tasks are always right or always wrong, and its
groups have signal less often than the formula says. With `by_signal=True` (agent.curriculum_by_signal)
s is the cell's observed share of groups with signal (decayed like the pass rate), with one pseudo-group
at the formula's value: the formula while a cell is new, what happens once it has been tried. Off by
default: on the quick start (one seed, README Results) it sent fewer tokens to the loss, not more. An
unseen cell counts as being at `target` (so it is tried), with a tenth of a trial of weight; per-task
sampling draws a few candidate tasks per seed and picks one by weight. Every choice is a pure function of
the reset seed and the curriculum's state, and the state is saved with the run (state_dict), so a resumed
run picks the same tasks.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from reasongym.core import Task

CANDIDATES = 4
"""Tasks drawn per seed for a per-task curriculum (the best-weighted one is used)."""


class Curriculum:
    def __init__(self, env, *, target: float = 0.5, max_difficulty: int = 3, group_size: int = 8,
                 floor: float = 0.02, decay: float = 0.9, by_signal: bool = False):
        base = env.unwrapped
        self.kinds = tuple(getattr(base, "kinds", ()) or ())
        top = max_difficulty or int(getattr(base, "difficulty", 1) or 1)  # 0: up to the env's own difficulty
        self.cells = [(k, d) for k in self.kinds for d in range(1, top + 1)]
        self.by_cell = bool(self.cells) and hasattr(base, "difficulty")
        self.target, self.group_size, self.floor, self.decay = target, group_size, floor, decay
        self.by_signal = by_signal  # weigh by observed signal, not by the pass-rate formula alone
        self.stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # key -> [passes, trials, signals]

    # -- choosing ------------------------------------------------------------------------------------
    def weight(self, key: str) -> float:
        return self.floor + self.signal_chance(key)

    def signal_chance(self, key: str) -> float:
        """The chance that the next group of this cell or task has signal: from its pass rate alone, or
        (by_signal) its observed share of groups with signal plus one pseudo-group at the formula's value."""
        passes, trials, signals = self.stats.get(key, (0.0, 0.0, 0.0))
        p = (passes + 0.1 * self.target) / (trials + 0.1)  # a tenth of a pseudo-trial at the target: unseen -> target
        if not self.by_signal:
            return self.from_pass_rate(p)
        return (signals + self.from_pass_rate(p)) / (trials + 1.0)

    def from_pass_rate(self, p: float) -> float:
        """The chance that G samples at pass rate p are neither all right nor all wrong."""
        return 1.0 - p ** self.group_size - (1.0 - p) ** self.group_size

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
            for i in range(3):
                stat[i] *= self.decay
        for task, group in zip(tasks, correct):
            stat, group = self.stats[self.key(task)], np.asarray(group, dtype=float)
            stat[0] += float(group.mean())
            stat[1] += 1.0
            stat[2] += float(group.min() != group.max())  # signal: some right, some wrong

    def key(self, task: Task) -> str:
        return cell_key(task.meta.get("kind"), task.meta.get("difficulty")) if self.by_cell else task_key(task)

    def pass_rates(self) -> dict[str, float]:
        return {k: s[0] / s[1] for k, s in sorted(self.stats.items()) if s[1] > 0}

    def signal_rates(self) -> dict[str, float]:
        """Observed share of groups with signal per cell or task (decayed)."""
        return {k: s[2] / s[1] for k, s in sorted(self.stats.items()) if s[1] > 0}

    @staticmethod
    def mix(tasks: list[Task]) -> dict[str, float]:
        """The mix of a step's tasks (metrics.jsonl): the mean difficulty, the share of each difficulty and
        of each kind."""
        levels = [t.meta.get("difficulty") for t in tasks]
        levels = [int(d) for d in levels if isinstance(d, (int, np.integer)) or str(d).isdigit()]
        kinds = [str(t.meta["kind"]) for t in tasks if t.meta.get("kind")]
        out = {"difficulty_mean": float(np.mean(levels))} if levels else {}
        for d in sorted(set(levels)):
            out[f"difficulty_mix_d{d}"] = levels.count(d) / len(levels)
        for k in sorted(set(kinds)):
            out[f"kind_mix_{k}"] = kinds.count(k) / len(kinds)
        return out

    # -- resume --------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"stats": {k: list(v) for k, v in self.stats.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.stats.clear()
        for k, v in state.get("stats", {}).items():  # a checkpoint from before signals were counted: the formula's
            passes, trials = float(v[0]), float(v[1])
            signals = float(v[2]) if len(v) > 2 else trials * self.from_pass_rate(passes / max(trials, 1e-9))
            self.stats[k] = [passes, trials, signals]


def cell_key(kind, difficulty) -> str:
    return f"{kind}/d{difficulty}"


def task_key(task: Task) -> str:
    return f"task/{task.id}"
