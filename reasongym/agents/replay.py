"""Signal replay: sample again the tasks whose last group taught something.

    replay = SignalReplay(max_uses=2)
    mine = replay.take(n=3, rank=0, world=1)          # the newest tasks with signal, this process's share
    replay.update(tasks, varied)                      # after a step: every process, all processes' groups
    replay.state_dict() / replay.load_state_dict(s)   # saved with the GRPO checkpoint

Why: under dynamic sampling a fresh task has signal only about half the time (the policy always or never
solves it), and every group without signal is generation that reaches no loss. A task whose last group of
G samples had mixed rewards sits on the policy's boundary, and one optimiser step later it usually still
does: drawn again (with fresh samples from the current policy, so the update stays on-policy) it has
signal far more often than a fresh draw. This is rollout replay by task, as in difficulty-targeted online
data selection for GRPO (Sun et al., 2025) and GRESO's history-based prompt selection; here only the
task is reused, never the old rollouts.

How: a buffer of tasks, newest first, each with the number of times it has been drawn. `take` removes
the first n (and hands each process the entries rank, rank + world, ...); `update` puts back in front
every task whose group varied and that has been drawn fewer than `max_uses` times. The buffer holds at
most `capacity` tasks (the oldest fall off). Every process applies the same updates from gathered
groups, so all hold the same buffer. The state is JSON (tasks as their fields), so a resumed run replays
the same tasks; a task whose fields are not JSON is left out of the saved state.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from reasongym.core import Task


class SignalReplay:
    def __init__(self, max_uses: int = 2, capacity: int = 64):
        if max_uses < 1:
            raise ValueError(f"max_uses must be at least 1 (got {max_uses})")
        self.max_uses, self.capacity = max_uses, capacity
        self.entries: list[tuple[Task, int]] = []  # (task, times drawn again), newest first
        self._drawn: dict[str, int] = {}  # task id -> its uses, for the tasks the last `take` drew

    def __len__(self) -> int:
        return len(self.entries)

    def take(self, n: int, rank: int = 0, world: int = 1) -> list[Task]:
        """Remove the newest n tasks (fewer if the buffer holds fewer) and return this process's share."""
        drawn, self.entries = self.entries[:n], self.entries[n:]
        self._drawn = {t.id: uses + 1 for t, uses in drawn}
        return [t for t, _ in drawn[rank::world]]

    def update(self, tasks: list[Task], varied: list[bool]) -> None:
        """After a step: tasks whose group had signal go to the front, unless drawn max_uses times."""
        back = [(t, self._drawn.get(t.id, 0)) for t, v in zip(tasks, varied) if v]
        back = list({t.id: (t, uses) for t, uses in back if uses < self.max_uses}.values())
        seen = {t.id for t, _ in back}
        self.entries = (back + [e for e in self.entries if e[0].id not in seen])[:self.capacity]
        self._drawn = {}

    def replayed(self, task: Task) -> bool:
        """Whether the last `take` drew this task (its group is not a fresh draw of its cell)."""
        return task.id in self._drawn

    # -- resume --------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        out = []
        for task, uses in self.entries:
            try:
                out.append({"task": json.loads(json.dumps(asdict(task))), "uses": uses})
            except (TypeError, ValueError):
                continue
        return {"entries": out}

    def load_state_dict(self, state: dict) -> None:
        self.entries = [(Task(**e["task"]), int(e["uses"])) for e in state.get("entries", [])]
        self._drawn = {}
