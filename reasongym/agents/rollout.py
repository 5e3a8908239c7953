"""Rollouts: G episodes of each task through the Gymnasium API, flattened into token rows for the learner.

    pool = EnvPool("reasongym/Math-v0", {"difficulty": 1}, size=16)
    tasks = pick_tasks(pool.envs[0], seeds=[101, 102])       # reset(seed) chooses a task
    rollouts = collect(pool, policy, tasks, group_size=8, sampling=SamplingParams(max_new_tokens=128))
    rows = to_rows(rollouts, policy, group_size=8)             # ids + mask + advantage per episode

A group is G resets to the same task (`reset(options={"task": task})`), so any environment built on
TextEnv trains. Steps of many episodes are verified in parallel threads (the verifiers do their work in
worker processes or sandboxes). A multi-turn episode becomes one row: the final transcript's tokens, with
mask 1 on tokens the policy sampled and 0 on prompts and environment feedback.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import gymnasium

from reasongym.core import Rollout, SamplingParams, Task, Turn
from reasongym.registry import make


class EnvPool:
    """`size` instances of one environment, reused across steps."""

    def __init__(self, env_id: str, kwargs: dict | None = None, size: int = 1):
        self.env_id, self.kwargs = env_id, dict(kwargs or {})
        self.envs: list[gymnasium.Env] = [make(env_id, **self.kwargs) for _ in range(max(1, size))]
        self.threads = ThreadPoolExecutor(max_workers=min(16, len(self.envs)))

    def grow(self, size: int) -> None:
        while len(self.envs) < size:
            self.envs.append(make(self.env_id, **self.kwargs))

    def close(self) -> None:
        self.threads.shutdown(wait=False)
        for env in self.envs:
            env.close()


def pick_tasks(env: gymnasium.Env, seeds: list[int]) -> list[Task]:
    """The task each seed selects: `reset(seed=s)` is deterministic, so seeds are the data position."""
    tasks = []
    for s in seeds:
        _, info = env.reset(seed=int(s))
        if not isinstance(info.get("task"), Task):
            raise TypeError(f"{env.spec.id if env.spec else env}: reset() must put the Task in info['task'] "
                            "(build the environment on reasongym.envs.base.TextEnv)")
        tasks.append(info["task"])
    return tasks


def collect(pool: EnvPool, policy, tasks: list[Task], group_size: int,
            sampling: SamplingParams) -> list[Rollout]:
    """Run group_size episodes of each task to the end; returns rollouts grouped task by task."""
    n = len(tasks) * group_size
    pool.grow(n)
    envs = pool.envs[:n]
    episode_tasks = [t for t in tasks for _ in range(group_size)]
    observations = [env.reset(options={"task": t})[0] for env, t in zip(envs, episode_tasks)]
    turns: list[list[Turn]] = [[] for _ in range(n)]
    ends = [(False, False)] * n
    active = list(range(n))
    one = SamplingParams(sampling.temperature, sampling.top_p, sampling.max_new_tokens, n=1)
    while active:
        completions = policy.act([observations[i] for i in active], one)
        results = list(pool.threads.map(lambda ic: envs[ic[0]].step(ic[1].text), zip(active, completions)))
        still = []
        for i, c, (obs, reward, term, trunc, info) in zip(active, completions, results):
            turns[i].append(Turn(observations[i], c, float(reward), info.get("verdict")))
            observations[i], ends[i] = obs, (bool(term), bool(trunc))
            if not (term or trunc):
                still.append(i)
        active = still
    return [Rollout(t, tr, *e) for t, tr, e in zip(episode_tasks, turns, ends)]


@dataclass
class Row:
    """One training sequence: token ids, which of them the policy sampled (mask 1), the episode's return
    and the advantage of every sampled token (set by `set_advantages`, read by the learner)."""

    input_ids: list[int]
    mask: list[int]
    reward: float = 0.0
    advantage: float = 0.0


def to_rows(rollouts: list[Rollout], policy, group_size: int | None = None, scale: bool = True) -> list[Row]:
    """One row per episode; with group_size, the rows also get their group advantages (set_advantages)."""
    rows = [episode_row(r, policy) for r in rollouts]
    return set_advantages(rows, group_size, scale) if group_size else rows


def set_advantages(rows: list[Row], group_size: int, scale: bool = True) -> list[Row]:
    """Give each row its GRPO advantage (agents/grpo.py) within its group: rows come group by group, G
    consecutive rows per task, as `collect` returns them. Returns the rows."""
    if group_size < 1 or len(rows) % group_size:
        raise ValueError(f"set_advantages: {len(rows)} rows do not split into groups of {group_size}")
    if not rows:  # a step whose every task was screened out
        return rows
    import torch  # here, not at the top: evaluation collects rollouts without torch

    from reasongym.agents.grpo import group_advantages

    rewards = torch.tensor([r.reward for r in rows], dtype=torch.float32).view(-1, group_size)  # (N, G)
    for row, adv in zip(rows, group_advantages(rewards, scale=scale).flatten().tolist()):
        row.advantage = adv
    return rows


def episode_row(rollout: Rollout, policy) -> Row:
    """Flatten an episode: prompt, then per turn the sampled tokens (mask 1) and the environment's
    reply rendered by the chat template (mask 0). The prompt's ids come with the first completion when
    the policy gave them (HFPolicy does), else the chat template is applied here."""
    first = rollout.turns[0]
    ids = list(first.completion.prompt_ids or policy.encode_chat(first.observation))
    mask = [0] * len(ids)
    for k, turn in enumerate(rollout.turns):
        sampled = list(turn.completion.token_ids or policy.tokenizer.encode(turn.completion.text))
        ids += sampled
        mask += [1] * len(sampled)
        if k + 1 < len(rollout.turns):
            ended = bool(sampled) and sampled[-1] in policy.eos_ids
            between = between_turns(policy, turn.observation, turn.completion.text, ended,
                                    rollout.turns[k + 1].observation)
            ids += between
            mask += [0] * len(between)
    return Row(ids, mask, rollout.reward)


def transcript_row(policy, messages: list[dict]) -> Row:
    """A written transcript (a worked tool-using episode for the cold start) as one row built the way
    `episode_row` builds a sampled one: each assistant message's tokens plus EOS carry mask 1, the prompt
    and everything the environment said carry mask 0."""
    turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
    if not turns:
        raise ValueError("a transcript for the cold start needs at least one assistant message")
    ids = policy.encode_chat(messages[:turns[0]])
    mask = [0] * len(ids)
    for k, i in enumerate(turns):
        reply = policy.tokenizer.encode(messages[i]["content"], add_special_tokens=False) + [policy.eos_ids[0]]
        ids += reply
        mask += [1] * len(reply)
        if k + 1 < len(turns):
            between = between_turns(policy, messages[:i], messages[i]["content"], True, messages[:turns[k + 1]])
            ids += between
            mask += [0] * len(between)
    return Row(ids, mask)


def between_turns(policy, observation, reply: str, ended: bool, next_obs) -> list[int]:
    """Tokens the chat template puts between a reply (that closed with EOS when `ended`) and the next
    generation prompt."""
    tok = policy.tokenizer
    before = tok.apply_chat_template(observation, add_generation_prompt=True, tokenize=False)
    after = tok.apply_chat_template(next_obs, add_generation_prompt=True, tokenize=False)
    if not after.startswith(before + reply):
        raise ValueError("the chat template re-renders earlier turns differently; multi-turn rows need a "
                         "template that renders each transcript as a prefix of the next")
    rest = after[len(before) + len(reply):]
    eos_text = tok.decode([policy.eos_ids[0]]) if ended else ""
    if eos_text and rest.startswith(eos_text):
        rest = rest[len(eos_text):]  # the sampled EOS already closed the reply
    return tok.encode(rest, add_special_tokens=False)
