"""The pieces of the training recipe that are not the learner: data position, cold-start rows, held-out eval.

- `task_seeds(seed, stage, step, n)`: the reset seeds that choose a step's tasks. The step number *is* the
  data position, so a resumed run (or a run on another number of processes) sees the same tasks.
- `sft_rows`: prompt + worked solution (`task.meta["solution"]`) as a training row, loss on the solution.
- `heldout_tasks` / `evaluate_greedy`: a fixed list of held-out tasks and greedy accuracy on it, split
  over processes and gathered.
"""

from __future__ import annotations

import numpy as np
from accelerate import Accelerator
from accelerate.utils import gather_object

from reasongym.agents.rollout import EnvPool, Row, collect
from reasongym.core import SamplingParams, Task

STAGES = {"sft": 1, "grpo": 2, "eval": 3}


def task_seeds(seed: int, stage: str, step: int, n: int) -> list[int]:
    """n reset seeds for a step: a pure function of (seed, stage, step)."""
    ss = np.random.SeedSequence([seed, STAGES[stage], step])
    return [int(s) for s in ss.generate_state(n, dtype=np.uint32)]


def sft_rows(policy, tasks: list[Task], env_id: str) -> list[Row]:
    rows = []
    for t in tasks:
        solution = t.meta.get("solution")
        if not solution:
            raise ValueError(f"{env_id}: task {t.id} has no worked solution (task.meta['solution']) for the "
                             "cold start; set sft.steps=0, or start from an SFT model")
        prompt = policy.encode_chat(t.prompt)
        answer = policy.tokenizer.encode(solution, add_special_tokens=False) + [policy.eos_ids[0]]
        rows.append(Row(prompt + answer, [0] * len(prompt) + [1] * len(answer), 0.0, len(rows), len(answer)))
    return rows


def heldout_tasks(cfg, env_id: str, env_kwargs: dict) -> tuple[EnvPool | None, list[Task]]:
    """The evaluation environment and its fixed task list (empty when eval is off)."""
    if not cfg.eval_every or cfg.eval_tasks <= 0:
        return None, []
    if cfg.env.eval_name:
        from reasongym.registry import resolve

        eval_id, eval_kwargs = resolve(cfg.env.eval_name)
    else:
        eval_id, eval_kwargs = env_id, {**env_kwargs, "split": "heldout"}
    try:
        pool = EnvPool(eval_id, eval_kwargs, size=1)
    except TypeError as exc:
        raise ValueError(f"{eval_id} takes no split='heldout' ({exc}); name a held-out environment with "
                         "env.eval_name=<id or alias>, or set eval_every=0") from exc
    source = getattr(pool.envs[0].unwrapped, "tasks", None)
    if source is None or not hasattr(source, "take"):
        raise ValueError(f"{eval_id}: the environment exposes no task set (env.unwrapped.tasks)")
    return pool, list(source.take(cfg.eval_tasks, seed=12345))


def evaluate_greedy(policy, pool: EnvPool, tasks: list[Task], acc: Accelerator, max_new_tokens: int) -> float:
    """Greedy accuracy on `tasks`, each process scoring its share."""
    mine = tasks[acc.process_index::acc.num_processes]
    rollouts = collect(pool, policy, mine, 1, SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens))
    results = gather_object([float(r.correct) for r in rollouts])
    return float(np.mean(results)) if results else 0.0
