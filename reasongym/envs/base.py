"""TextEnv: the Gymnasium environment every reasongym task runs in.

An episode is one task. `reset` picks a task (seeded by `reset(seed=...)`, or pinned with
`reset(options={"task": task})` so a trainer can draw G samples of the same task), and the observation is
the task's chat messages. `step(text)` verifies the text and returns the reward, with the full Verdict in
`info["verdict"]` and each reward component in `info["rewards"]`.

Turns: a solved task terminates. Otherwise, with turns left, the next observation is the transcript plus
the environment's feedback (a failing test, "that is not right") and the policy tries again; when the
turns run out the episode is truncated (cut short: the policy could have gone on trying). With
`max_turns=1` (the default) the episode is one question and one answer, so it terminates after the answer,
right or wrong: there was never a next turn to cut off (and Gymnasium's `check_env` rejects episodes that
truncate after one step). Whether it was solved is `info["verdict"].correct`.

Reward over turns: step t returns `score_t - score_{t-1}` (score_0 = 0), so the episode return equals the
score of the final attempt: a multi-turn episode cannot earn more by failing many times with partial
credit, and a policy that fixes its answer on turn 2 earns what a first-time solver earns. Set
`turn_penalty` to make later fixes worth less (return = final score - turn_penalty * (turns - 1)).

    env = TextEnv(tasks=TaskList([...]), verifier=MathVerifier())
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("... \\boxed{4}")
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium

from reasongym.core import Messages, Task, Verdict, Verifier
from reasongym.envs.tasks import TaskSet
from reasongym.spaces import Chat, UnicodeText
from reasongym.verifiers.rewards import WeightedReward


class TextEnv(gymnasium.Env):
    """A text-in, text-out environment over a task source and a verifier."""

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(self, tasks: TaskSet, verifier: Verifier, *, max_turns: int = 1,
                 rewards: dict[str, float] | WeightedReward | None = None, turn_penalty: float = 0.0,
                 render_mode: str | None = None):
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} not in {self.metadata['render_modes']}")
        self.tasks, self.verifier, self.max_turns = tasks, verifier, int(max_turns)
        self.reward_fn = rewards if isinstance(rewards, WeightedReward) else WeightedReward(rewards)
        self.turn_penalty, self.render_mode = float(turn_penalty), render_mode
        self.observation_space = Chat()
        self.action_space = UnicodeText()
        self.task: Task | None = None
        self.messages: Messages = []
        self.turn, self.score, self.done = 0, 0.0, True

    # -- the Gymnasium API -------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        task = options.get("task")
        if task is not None and not isinstance(task, Task):
            raise TypeError(f"options['task'] must be a reasongym.core.Task, got {type(task).__name__}")
        self.task = task if task is not None else self.tasks.sample(self.np_random)
        self.messages = copy.deepcopy(self.task.prompt)
        self.turn, self.score, self.done = 0, 0.0, False
        return copy.deepcopy(self.messages), self._info()

    def step(self, action: str):
        self._start_turn(action)
        verdict = self.verify(self.task, action)
        score, parts = self.reward_fn(self.task, action, verdict)
        score -= self.turn_penalty * (self.turn - 1)
        reward, self.score = score - self.score, score
        self.messages.append({"role": "assistant", "content": action})
        terminated = bool(verdict.correct) or self.max_turns == 1
        truncated = not terminated and self.turn >= self.max_turns
        self.done = terminated or truncated
        if not self.done:
            self.messages.append({"role": "user", "content": self.feedback(self.task, verdict)})
        info = self._info(verdict=verdict, rewards=parts, score=score)
        if self.render_mode == "human":
            print(self.render_text())
        return copy.deepcopy(self.messages), float(reward), terminated, truncated, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self.render_text()
        if self.render_mode == "human":
            print(self.render_text())
        return None

    # -- hooks for subclasses ----------------------------------------------------------------------
    def _start_turn(self, action: str) -> None:
        """What every step begins with (here and in subclasses): an open episode and a text action."""
        if self.task is None or self.done:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset()")
        if not isinstance(action, str):
            raise TypeError(f"action must be the completion text (str), got {type(action).__name__}")
        self.turn += 1

    def verify(self, task: Task, completion: str) -> Verdict:
        return self.verifier.verify(task, completion)

    def feedback(self, task: Task, verdict: Verdict) -> str:
        """The user message after a failed attempt (multi-turn only): the verifier's `feedback` (info's, for
        verifiers written before the typed field), else a generic nudge. Subclasses may say more."""
        return (verdict.feedback or verdict.info.get("feedback")
                or "That is not correct. Check your work and try again.")

    # -- helpers -----------------------------------------------------------------------------------
    def _info(self, **extra: Any) -> dict[str, Any]:
        assert self.task is not None
        return {"task": self.task, "task_id": self.task.id, "turn": self.turn, **extra}

    def render_text(self) -> str:
        return "\n".join(f"[{m['role']}] {m['content']}" for m in self.messages)
