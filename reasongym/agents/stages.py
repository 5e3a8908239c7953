"""The pieces of the training recipe that are not the learner: data position, cold-start rows, held-out eval.

- `task_seeds(seed, stage, step, n)`: the reset seeds that choose a step's tasks. The step number *is* the
  data position, so a resumed run (or a run on another number of processes) sees the same tasks.
- `sft_rows`: prompt + worked solution (`task.meta["solution"]`) as a training row, loss on the solution;
  for an env that writes worked episodes (a tool env), the whole transcript, loss on the assistant turns.
- `heldout_tasks` / `evaluate_greedy` / `Heldout`: a fixed list of held-out tasks, greedy accuracy on it
  (split over processes and gathered, with a labelled progress bar), and the evaluation of a run: a metrics
  row, one line on screen with a Wilson interval and the change since the cold start, fresh plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from accelerate.utils import gather_object

from reasongym.agents.rollout import EnvPool, Row, collect, transcript_row
from reasongym.core import SamplingParams, Task
from reasongym.data import HELDOUT_SEED
from reasongym.runs.progress import Progress, accuracy_line

STAGES = {"sft": 1, "grpo": 2, "eval": 3}
EVAL_BATCH = 64
"""Held-out episodes generated per call, so the evaluation bar moves (greedy: the batch size does not
change what is generated beyond float noise of padding)."""


def task_seeds(seed: int, stage: str, step: int, n: int) -> list[int]:
    """n reset seeds for a step: a pure function of (seed, stage, step)."""
    ss = np.random.SeedSequence([seed, STAGES[stage], step])
    return [int(s) for s in ss.generate_state(n, dtype=np.uint32)]


def sft_rows(policy, tasks: list[Task], env_id: str, env=None) -> list[Row]:
    """Cold-start rows. An environment that writes worked episodes (`env.unwrapped.demonstration(task)`,
    e.g. a tool env: call, output, boxed answer) gives whole transcripts with the loss on its assistant
    turns; otherwise the row is the task's prompt and `task.meta["solution"]`."""
    demo = getattr(getattr(env, "unwrapped", env), "demonstration", None)
    rows = []
    for t in tasks:
        transcript = demo(t) if demo is not None else None
        if transcript is not None:
            rows.append(transcript_row(policy, transcript))
            continue
        solution = t.meta.get("solution")
        if not solution:
            raise ValueError(f"{env_id}: task {t.id} has no worked solution (task.meta['solution']) for the "
                             "cold start; set sft.steps=0, or start from an SFT model")
        prompt = policy.encode_chat(env.reset(options={"task": t})[0] if demo is not None else t.prompt)
        answer = policy.tokenizer.encode(solution, add_special_tokens=False) + [policy.eos_ids[0]]
        rows.append(Row(prompt + answer, [0] * len(prompt) + [1] * len(answer)))
    return rows


def heldout_tasks(cfg, env_id: str, env_kwargs: dict) -> tuple[EnvPool | None, list[Task]]:
    """The evaluation environment and its fixed task list (empty when eval is off)."""
    from reasongym.cli import ConfigError

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
        raise ConfigError(f"{eval_id} takes no split='heldout' ({exc}); name a held-out environment with "
                          "env.eval_name=<id or alias>, or set eval_every=0") from None
    source = getattr(pool.envs[0].unwrapped, "tasks", None)
    if source is None or not hasattr(source, "take"):
        raise ConfigError(f"{eval_id}: the environment exposes no task set (env.unwrapped.tasks); set "
                          "eval_every=0 or env.eval_name=<a held-out environment>")
    return pool, list(source.take(cfg.eval_tasks, seed=HELDOUT_SEED))


def evaluate_greedy(policy, pool: EnvPool, tasks: list[Task], acc, max_new_tokens: int,
                    label: str = "held-out eval") -> float:
    """Greedy accuracy on `tasks`, each process scoring its share, with a labelled bar on the main one."""
    mine = tasks[acc.process_index::acc.num_processes]
    greedy = SamplingParams(temperature=0.0, max_new_tokens=max_new_tokens)
    bar = Progress(len(mine), label, enabled=acc.is_main_process, transient=True)
    correct = []
    for b in range(0, len(mine), EVAL_BATCH):
        rollouts = collect(pool, policy, mine[b:b + EVAL_BATCH], 1, greedy)
        correct += [float(r.correct) for r in rollouts]
        bar.update(len(rollouts), acc=float(np.mean(correct)))
    bar.close()
    results = gather_object(correct)
    return float(np.mean(results)) if results else 0.0


class Heldout:
    """The held-out evaluations of a training run: metrics row, one line on screen, plots."""

    NAMES = {"base": "of the base policy", "sft": "after the cold start", "grpo": "at GRPO step {step}"}
    SHORT = {"base": "base", "sft": "cold start", "grpo": "GRPO step {step}"}

    def __init__(self, cfg, policy, pool, tasks, run, max_new_tokens: int):
        self.cfg, self.policy, self.pool, self.tasks, self.run = cfg, policy, pool, tasks, run
        self.max_new_tokens = max_new_tokens
        self.seconds: float | None = None  # how long the last evaluation took (a time budget plans with it)

    def __call__(self, step: int, phase: str) -> float | None:
        if not self.tasks:
            return None
        what, t0 = self.NAMES[phase].format(step=step), time.time()
        value = evaluate_greedy(self.policy, self.pool, self.tasks, self.run.acc, self.max_new_tokens,
                                label=f"eval {self.SHORT[phase].format(step=step)}")
        self.seconds = time.time() - t0
        row = {"phase": phase, "step": step, "heldout_accuracy": value, "eval_tasks": len(self.tasks),
               "minutes": self.run.minutes()}
        self.run.log.metrics(row)
        since = self.reference(phase, step)
        self.run.say(accuracy_line(what, value, len(self.tasks), since=since[1] if since else None,
                                   since_name=since[0] if since else ""))
        if self.cfg.plots and self.run.main:
            self.run.log.plot()
        return value

    def reference(self, phase: str, step: int) -> tuple[str, float] | None:
        """What a new result is compared with: the cold start, else the GRPO start or the base policy."""
        first: dict[str, float] = {}
        for r in self.run.log.history:
            if "heldout_accuracy" in r:
                key = r.get("phase") if r.get("phase") in ("base", "sft") else "start" if r.get("step") == 0 else ""
                first.setdefault(key, r["heldout_accuracy"])
        if phase == "grpo" and "sft" in first:
            return "cold start", first["sft"]
        if phase == "grpo" and step and "start" in first:
            return "GRPO start", first["start"]
        if phase != "base" and "base" in first:
            return "base policy", first["base"]
        return None


@dataclass
class Recipe:
    """What both stages of `python -m reasongym.train` share (built once by train.py)."""

    cfg: object
    run: object  # reasongym.runs.run.Run
    policy: object
    env_id: str
    pool: EnvPool
    heldout: Heldout
    summary: dict = field(default_factory=dict)


def record_tasks(run, tasks: list[Task], phase: str) -> None:
    """Every task the policy trained on (train_tasks.jsonl), for contamination checks by reasongym.evaluate."""
    rows = gather_object([{"phase": phase, "id": t.id, "question": t.question} for t in tasks])
    run.log.append("train_tasks.jsonl", rows)
