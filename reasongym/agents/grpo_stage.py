"""Stage 2 of the training recipe: GRPO with held-out evaluations, checkpoints and the hacking guard.

    grpo(recipe, resume_from=None)      # called by reasongym/train.py after the cold start

Each step: pick tasks (the step number is the data position; with agent.curriculum, near a target pass
rate: agents/curriculum.py; with agent.replay, some are tasks of earlier steps whose groups had signal:
agents/replay.py) -> G rollouts each through the Gymnasium API -> with agent.dynamic_sampling,
groups whose rewards are all equal are set aside and the step is refilled with groups that have signal,
within agent.max_extra_rounds more rounds (DAPO; with agent.screen_size, a task gets its whole group only
if its first samples disagree) -> rows that carry their group advantage
(agents/rollout.py) -> the guard measures signals the reward cannot game -> `Learner.grpo_step`
(agents/learner.py, the loss in agents/grpo.py) -> one metrics row, with the share of generated tokens
that reached the loss (tokens_to_loss_frac), the difficulty mix and the share of harness errors.
Held-out greedy evaluation every `eval_every` steps and at the end; checkpoints every `save_every` steps,
every `save_every_min` minutes, at the end and on Ctrl-C. With `time_budget_min`, GRPO ends early (evaluated and
saved like a finished run) once one more step and the final evaluation would not fit. A resumed stage continues after its checkpoint
with the optimizer, scheduler and RNG it had, so it follows the same curve as an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from accelerate.utils import gather_object

from reasongym.agents.curriculum import Curriculum
from reasongym.agents.grpo import LossConfig
from reasongym.agents.guard import Guard, learned_reward
from reasongym.agents.learner import Learner
from reasongym.agents.replay import SignalReplay
from reasongym.agents.rollout import collect, pick_tasks, to_rows
from reasongym.agents.stages import Recipe, record_tasks, task_seeds
from reasongym.core import Rollout, SamplingParams, Task
from reasongym.runs.log import read_jsonl
from reasongym.runs.progress import Progress


def make_learner(r: Recipe) -> Learner:
    a = r.cfg.agent
    return Learner(r.policy, r.run.acc, lr=a.lr, total_steps=r.cfg.steps, warmup_steps=a.warmup_steps,
                   schedule=a.schedule, weight_decay=a.weight_decay, max_grad_norm=a.max_grad_norm,
                   micro_batch_size=a.micro_batch_size, gradient_checkpointing=a.gradient_checkpointing,
                   loss=LossConfig.of(a))


def grpo(r: Recipe, resume_from: Path | None = None) -> None:
    cfg, run, total = r.cfg, r.run, r.cfg.steps
    learner, done = make_learner(r), 0
    a = cfg.agent
    r.curriculum = Curriculum(r.pool.envs[0], target=a.curriculum_target, group_size=a.group_size,
                              max_difficulty=a.curriculum_max_difficulty,
                              by_signal=a.curriculum_by_signal) if a.curriculum else None
    r.replay = SignalReplay(a.replay_max_uses) if a.dynamic_sampling and a.replay else None
    if resume_from is not None:
        weights_only = resume_from.name.endswith("-00000")  # the cold start's weights, GRPO's own optimizer
        state = learner.load(resume_from, weights_only_model=weights_only)
        done = state["step"]
        if r.curriculum is not None and "curriculum" in state:
            r.curriculum.load_state_dict(state["curriculum"])
        if r.replay is not None and "replay" in state:
            r.replay.load_state_dict(state["replay"])
        run.say(f"resuming GRPO at step {min(done + 1, total)}/{total} from {resume_from}")
    run.acc.wait_for_everyone()  # metrics.jsonl is cut back to the checkpoint before anyone reads it
    guard = Guard(cfg.guard, r.policy, learner, run.acc, run.folder, learned=learned_reward(r.pool.envs[0]))
    guard.resume(read_jsonl(run.folder / "metrics.jsonl"))  # a resumed run continues the guard's history
    if done == 0 and cfg.sft.steps == 0:
        r.summary["start_heldout_accuracy"] = r.heldout(0, "grpo")
    if resume_from is not None and state.get("out_of_time"):
        run.say(f"this run ended GRPO at step {done}/{total} on its time budget ({cfg.time_budget_min:g} min); "
                "to train on, start a new run with a larger time_budget_min (0: none)")
        r.summary["out_of_time"] = {"step": done, "steps": total, "minutes": cfg.time_budget_min}
        done = total
    elif cfg.time_budget_min and done < total:
        run.say(f"time budget: {cfg.time_budget_min:g} min for the whole run (GRPO stops early if its steps "
                "would not fit; time_budget_min=0 for none)")
    bar = Progress(total, "GRPO", enabled=run.main, done=done)
    start, step_seconds = time.time(), []
    try:
        for step in range(done + 1, total + 1):
            row = grpo_step(r, learner, guard, step)
            verdict = guard.observe(row)  # divergence of reward and independent signals; best checkpoint
            bar.update(1, reward=row["reward"], acc=row["accuracy"])
            step_seconds.append(row["step_time"])
            last = step == total or out_of_time(r, step_seconds)
            if last and step < total:
                run.say(f"time budget: GRPO ends after step {step}/{total} so the run finishes within "
                        f"{cfg.time_budget_min:g} min ({run.minutes():.1f} min so far; time_budget_min=0 for none)")
                r.summary["out_of_time"] = {"step": step, "steps": total, "minutes": cfg.time_budget_min}
            if cfg.eval_every and (step % cfg.eval_every == 0 or last):
                bar.update(0, heldout=r.heldout(step, "grpo"))
            if run.due(step, total) or last:
                extra = {"curriculum": r.curriculum.state_dict()} if r.curriculum is not None else {}
                if r.replay is not None:
                    extra["replay"] = r.replay.state_dict()
                if last and step < total:
                    extra["out_of_time"] = True
                run.save(r.policy.model, learner.optimizer, learner.scheduler, {"stage": "grpo", "step": step, **extra})
                guard.checkpoint()
            if verdict.stop or last:
                break
            run.check_stop(f"GRPO step {step}/{total}")
    finally:
        bar.close()
    r.summary["guard"] = guard.finish()
    if r.summary["guard"] and r.summary["guard"]["stopped"]:
        run.say(f"reasongym guard: {r.summary['guard']['message']} Kept: {r.summary['guard']['best_dir']}")
    r.summary["grpo_seconds_this_session"] = time.time() - start


def out_of_time(r: Recipe, step_seconds: list[float]) -> bool:
    """Would one more step, the final held-out evaluation and the final save overrun the time budget?
    Planned with the slowest of the last three steps, the last evaluation's time (two steps before the
    first) and the last checkpoint's, plus half a minute for final/, the plots and the summary."""
    step = max(step_seconds[-3:])
    evaluation = 0.0 if not (r.cfg.eval_every and r.heldout.tasks) else r.heldout.seconds or 2 * step
    return r.run.out_of_time(step + evaluation + r.run.save_seconds + 30.0)


def grpo_step(r: Recipe, learner: Learner, guard: Guard, step: int) -> dict:
    """One GRPO step on this process's groups; logs and returns the metrics row (all processes' rollouts)."""
    cfg, run, a = r.cfg, r.run, r.cfg.agent
    t0 = time.time()
    got = step_rollouts(r, step)
    t_gen = time.time() - t0
    rollouts, kept = got.rollouts, got.kept
    rows = to_rows(rollouts, r.policy, a.group_size, a.scale_rewards)  # rows carry their advantage
    watch = guard.measure(rollouts, rows)  # signals the reward cannot game, before the update
    train = [row for g in kept for row in rows[g * a.group_size:(g + 1) * a.group_size]]
    stats = learner.grpo_step(train, mu=a.mu)
    groups = got.groups()  # every group this step sampled, screened-out ones with their first samples
    every = gather_object([(o.reward, o.correct, sum(len(t.completion.token_ids or []) for t in o.turns),
                            o.turns[-1].completion.finish_reason == "length", _harness_error(o))
                           for g in groups for o in g])
    zero_var = gather_object([float(not _varies(g, a.zero_var_eps)) for g in groups])
    gen_tokens = sum(e[2] for e in every)
    all_tasks = gather_object(got.all_tasks())
    replay = getattr(r, "replay", None)
    again = [replay is not None and replay.replayed(t) for t in all_tasks]
    row = {"phase": "grpo", "step": step, "reward": float(np.mean([e[0] for e in every])),
           "accuracy": float(np.mean([e[1] for e in every])), "completion_len": gen_tokens / len(every),
           "truncated_frac": float(np.mean([e[3] for e in every])), "zero_var_frac": float(np.mean(zero_var)),
           "harness_error_frac": float(np.mean([e[4] for e in every])),
           "tokens_to_loss_frac": stats["trained_tokens"] / max(gen_tokens, 1), "gen_tokens": gen_tokens,
           "groups": len(all_tasks), "groups_trained": sum(gather_object([len(kept)])),
           "groups_screened_out": sum(gather_object([len(got.screened)])),
           "extra_rounds": max(gather_object([got.rounds])), **Curriculum.mix(all_tasks),
           **(_replay_metrics(again, zero_var) if replay is not None else {}),
           **stats, **watch, "gen_time": t_gen, "step_time": time.time() - t0,
           "gen_tokens_per_s": gen_tokens / max(t_gen, 1e-9), "minutes": run.minutes()}
    curriculum = getattr(r, "curriculum", None)
    if curriculum is not None:  # every process updates the same state from all processes' groups
        correct = gather_object([[o.correct for o in g] for g in groups])
        fresh = [i for i, replayed in enumerate(again) if not replayed]  # replays would bias a cell to 1/2
        curriculum.update([all_tasks[i] for i in fresh], [correct[i] for i in fresh])
    if replay is not None:
        replay.update(all_tasks, [z == 0.0 for z in zero_var])
    run.log.metrics(row)
    pick = rollouts[:: max(1, len(rollouts) // max(1, cfg.samples_to_log))] if cfg.samples_to_log else []
    run.log.samples([{"step": step, "task_id": o.task.id, "prompt": o.turns[0].observation[-1]["content"],
                      "completion": o.turns[-1].completion.text, "reward": o.reward, "correct": o.correct}
                     for o in pick])
    record_tasks(run, got.all_tasks(), "grpo")
    return row


@dataclass
class StepRollouts:
    """What a step sampled: `tasks` with their complete groups (`rollouts`, G per task, group by group),
    the indices of the groups to train on, the extra rounds used, and the groups stopped after their first
    `agent.screen_size` samples (`screened`: (task, rollouts) pairs; not trained on)."""

    tasks: list[Task]
    rollouts: list[Rollout]
    kept: list[int]
    rounds: int
    screened: list[tuple[Task, list[Rollout]]] = field(default_factory=list)

    def groups(self) -> list[list[Rollout]]:
        g = len(self.rollouts) // max(len(self.tasks), 1)
        return [self.rollouts[i * g:(i + 1) * g] for i in range(len(self.tasks))] + [rs for _, rs in self.screened]

    def all_tasks(self) -> list[Task]:
        return self.tasks + [t for t, _ in self.screened]


def step_rollouts(r: Recipe, step: int) -> StepRollouts:
    """This process's rollouts of a step. Without dynamic sampling every group is trained on. With it,
    groups whose rewards are all equal are left out and extra rounds (each at most this process's share of
    prompts_per_step tasks, sized by the share of groups with signal so far) refill the step, up to
    max_extra_rounds. Every group with signal is trained on, also beyond prompts_per_step when the last round
    found more than it needed: its tokens are generated already, and dropping them was 5-10% of all the
    generated tokens of the quick start. With agent.screen_size,
    see `_screened_rollouts`."""
    a = r.cfg.agent
    want = a.prompts_per_step // r.run.acc.num_processes
    if a.dynamic_sampling and a.screen_size:
        return _screened_rollouts(r, step, want)
    tasks = _first_round(r, step, a.prompts_per_step)
    rollouts = _generate(r, [(t, a.group_size) for t in tasks])
    rollouts = [o for g in rollouts for o in g]
    if not a.dynamic_sampling:
        return StepRollouts(tasks, rollouts, list(range(len(tasks))), 0)
    kept = _signal(rollouts, len(tasks), a.group_size, a.zero_var_eps)
    rounds = 0
    while len(kept) < want and rounds < a.max_extra_rounds:
        rounds += 1
        rate = max(len(kept) / len(tasks), 0.25)
        n = min(want, math.ceil((want - len(kept)) / rate))
        more = _pick(r, _round_seeds(r, step, rounds, n))
        more_rollouts = [o for g in _generate(r, [(t, a.group_size) for t in more]) for o in g]
        kept += [len(tasks) + g for g in _signal(more_rollouts, len(more), a.group_size, a.zero_var_eps)]
        tasks, rollouts = tasks + more, rollouts + more_rollouts
    return StepRollouts(tasks, rollouts, kept, rounds)


def _screened_rollouts(r: Recipe, step: int, want: int) -> StepRollouts:
    """Dynamic sampling that screens (agent.screen_size = S < G): each new task first gets S samples; only a
    task whose S rewards differ gets the other G - S, in the next round, batched with the screens of the
    refill tasks. A task the policy always or never solves is dropped after S samples instead of G, so
    fewer generated tokens miss the loss; the price is the groups whose first S agree but whose G would
    not (not trained on) and one more generation round per step. The first round screens want x G / S
    tasks (the rows of one unscreened round); refills follow the share of screens with signal so far,
    up to max_extra_rounds; a step completes at most `want` groups."""
    a = r.cfg.agent
    size, rest = a.screen_size, a.group_size - a.screen_size
    first = math.ceil(a.prompts_per_step * a.group_size / size)
    new = _first_round(r, step, first)
    tasks, rollouts, screened, pending, seen, rounds = [], [], [], [], 0, 0
    while pending or new:
        got = _generate(r, [(t, rest) for t, _ in pending] + [(t, size) for t in new])
        for (t, head), tail in zip(pending, got):
            tasks.append(t)
            rollouts += head + tail
        pending, seen = [], seen + len(new)
        for t, head in zip(new, got[len(got) - len(new):]):
            if _varies(head, a.zero_var_eps) and len(tasks) + len(pending) < want:
                pending.append((t, head))
            else:  # no signal in the screen, or a surplus task: its screen is all it costs
                screened.append((t, head))
        need = want - len(tasks) - len(pending)
        new = []
        if need > 0 and rounds < a.max_extra_rounds:
            rounds += 1
            rate = max((len(tasks) + len(pending)) / seen, 1 / 8)
            n = min(first, math.ceil(need / rate))
            new = _pick(r, _round_seeds(r, step, rounds, n))
    return StepRollouts(tasks, rollouts, _signal(rollouts, len(tasks), a.group_size, a.zero_var_eps), rounds, screened)


def _first_round(r: Recipe, step: int, n: int) -> list[Task]:
    """This process's share of a step's first n tasks: up to agent.replay of them drawn again from the
    signal replay (agents/replay.py), the others picked fresh from the step's seeds."""
    rank, world = r.run.acc.process_index, r.run.acc.num_processes
    replay = getattr(r, "replay", None)
    again = replay.take(min(r.cfg.agent.replay, n), rank, world) if replay is not None else []
    seeds = task_seeds(r.cfg.seed, "grpo", step, n)[rank::world]
    return again + _pick(r, seeds[len(again):])


def _replay_metrics(again: list[bool], zero_var: list[float]) -> dict:
    """Groups drawn again from the signal replay this step, and the share of them that had signal."""
    if not any(again):
        return {"groups_replayed": 0}
    mine = [z for z, replayed in zip(zero_var, again) if replayed]
    return {"groups_replayed": len(mine), "replay_signal_frac": 1.0 - float(np.mean(mine))}


def _round_seeds(r: Recipe, step: int, round_: int, n: int) -> list[int]:
    ss = np.random.SeedSequence([r.cfg.seed, 2, step, 1000 + round_, r.run.acc.process_index])
    return [int(s) for s in ss.generate_state(n, dtype=np.uint32)]


def _generate(r: Recipe, jobs: list[tuple[Task, int]]) -> list[list[Rollout]]:
    """One local round: (task, n) -> n rollouts of the task, for every job in one batch; cut-off replies
    unpaid (agent.pay_cut_off)."""
    a = r.cfg.agent
    if not jobs:
        return []
    sampling = SamplingParams(a.temperature, a.top_p, a.max_new_tokens)
    flat = _unfinished_unpaid(collect(r.pool, r.policy, [t for t, n in jobs for _ in range(n)], 1, sampling),
                              a.pay_cut_off)
    out, i = [], 0
    for _, n in jobs:
        out.append(flat[i:i + n])
        i += n
    return out


def _unfinished_unpaid(rollouts: list[Rollout], pay_cut_off: bool) -> list[Rollout]:
    """Episodes whose last reply was cut off at max_new_tokens earn at most 0 (agent.pay_cut_off=false): an
    unfinished reply is not an answer, whatever it boxed before the limit. At most 0, not 0: a learned
    reward's negative score stays, so being cut off never pays more than finishing."""
    if not pay_cut_off:
        for o in rollouts:
            if o.turns and o.turns[-1].completion.finish_reason == "length" and o.reward > 0:
                o.turns[-1].reward -= o.reward
    return rollouts


def _pick(r: Recipe, seeds: list[int]) -> list[Task]:
    if getattr(r, "curriculum", None) is not None:
        return r.curriculum.pick(r.pool.envs[0], seeds)
    return pick_tasks(r.pool.envs[0], seeds)


def _signal(rollouts: list[Rollout], n: int, group_size: int, eps: float) -> list[int]:
    """Indices of the groups whose rewards vary (variance above eps)."""
    return [i for i in range(n) if _varies(rollouts[i * group_size:(i + 1) * group_size], eps)]


def _varies(group: list[Rollout], eps: float) -> bool:
    """Whether a group's rewards vary (variance above eps), whatever its size: it has signal."""
    return float(np.var([o.reward for o in group])) > eps


def _harness_error(rollout: Rollout) -> bool:
    """The verifier could not judge (core.VERDICT_STATUSES: harness_error), on any turn."""
    return any(getattr(t.verdict, "status", None) == "harness_error" for t in rollout.turns)
