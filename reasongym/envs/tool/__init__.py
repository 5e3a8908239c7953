r"""A Python-interpreter tool for any math task source: the policy runs code in the sandbox, then answers.

    reasongym/PythonTool-v0    source= any text env id or alias: math (default), gsm8k, math500, math-file,
                               jagged ...; the source's own kwargs pass through (path=, split=, difficulty=)
    reasongym/JaggedTool-v0    the same with source="reasongym/Jagged-v0"

    import gymnasium as gym, reasongym
    env = gym.make("reasongym/PythonTool-v0", source="gsm8k", path="../shared/data/gsm8k_test.jsonl")
    obs, info = env.reset(seed=0)
    obs, r, term, trunc, info = env.step("```python\nprint(48 / 2 + 48)\n```")   # a call: r = 0, not done
    obs[-1]                       # {"role": "tool", "content": "72.0\n..."}: the output, the calls left
    obs, r, term, trunc, info = env.step("So the answer is \\boxed{72}.")    # final: r = 1, terminated

An episode: the task's prompt (plus a paragraph that explains the tool), then per turn either a tool
call (see calls.py for the forms: a ```python block, a <tool_call> block, an OpenAI tool_calls
message) or a final answer. A call runs in the sandbox (session.py: earlier cells replayed silently,
so state carries; every sandbox limit applies to every call) and its output comes back as a `tool`
message (`tool_role="user"` for templates without a tool role). A final answer ends the episode
(terminated) and is checked by the source's verifier, exactly as without the tool. A call after the
`max_calls` budget is spent ends it unanswered (truncated, reward 0). `max_turns`, when given, is
the whole turn budget: max_calls = max_turns - 1.

Reward: the verified final answer only, minus `call_cost` per call (default 0). Calling the tool is
never rewarded: a policy that only calls the tool ends with 0 (or -call_cost per call).

The task in `info["task"]` is the source's task, unchanged, so a task id means the same question with
and without the tool and evaluation can compare the two task by task. For evaluation, every step's
verdict info carries `tool_calls`, `tool_errors` (calls that did not exit cleanly: exceptions, timeouts,
memory), `tool_timeouts`, `tool_used`, and `final` (whether this step was the final answer); tool
steps also carry `tool_status` and `tool_form`.

Cold start: `demonstration(env, task)` is a worked tool-using transcript (the task's `tool_code`, its
output, the boxed answer); the trainer's cold start (`env.demonstration(task)`, agents/stages.sft_rows)
trains on its assistant turns, and falls back to the task's worked solution where a task has no code.

Training: rollout.episode_row masks everything between sampled turns, so tool outputs never enter
the loss; the transcript must render as a prefix of the next one (check with
`python -m reasongym.check_template MODEL`, or reasongym.lm.template_check in code).
"""

from __future__ import annotations

import copy
from typing import Any

from reasongym.core import Messages, Task, Verdict
from reasongym.envs.base import TextEnv
from reasongym.envs.tool.calls import PYTHON_TOOL, TOOL_NAME, ToolCall, find_call
from reasongym.envs.tool.session import PythonSession, ToolResult
from reasongym.registry import make

__all__ = ["PYTHON_TOOL", "TOOL_NAME", "PythonSession", "PythonToolEnv", "ToolCall", "demonstration", "find_call"]
INSTRUCTIONS = ("You can run Python code: write it in a ```python block and stop there; you will get back "
                "what it prints (use print). Variables persist between your code blocks. You may run code "
                "up to {calls} {times}, then give the final answer in \\boxed{{}}.")
TOOL_ROLES = ("tool", "user")


class PythonToolEnv(TextEnv):
    """A source environment's tasks and verifier, with a sandboxed Python tool (module docstring)."""

    def __init__(self, source: str = "math", *, max_calls: int = 4, max_turns: int | None = None,
                 call_cost: float = 0.0, tool_role: str = "tool", timeout_s: float = 5.0, memory_mb: int = 512,
                 sandbox: str = "bwrap", max_output_chars: int = 2000, instructions: str | None = None,
                 render_mode: str | None = None, **source_kwargs: Any):
        if max_turns is not None:
            max_calls = int(max_turns) - 1
        if max_calls < 0 or call_cost < 0 or tool_role not in TOOL_ROLES:
            raise ValueError(f"PythonToolEnv needs max_calls >= 0 (got {max_calls}), call_cost >= 0 (got "
                             f"{call_cost}: calling the tool is never rewarded) and tool_role in {TOOL_ROLES} "
                             f"(got {tool_role!r})")
        self.source = make(source, **source_kwargs).unwrapped
        if not isinstance(self.source, TextEnv) or isinstance(self.source, PythonToolEnv):
            raise TypeError(f"source={source!r} must be a reasongym text environment without a tool (TextEnv), "
                            f"got {type(self.source).__name__}")
        super().__init__(self.source.tasks, self.source.verifier, max_turns=max_calls + 1,
                         rewards=self.source.reward_fn, render_mode=render_mode)
        self.max_calls, self.call_cost, self.tool_role = int(max_calls), float(call_cost), tool_role
        times = "time" if max_calls == 1 else "times"
        self.instructions = INSTRUCTIONS.format(calls=max_calls, times=times) if instructions is None else instructions
        self.session = PythonSession(timeout_s=timeout_s, memory_mb=memory_mb, sandbox=sandbox,
                                     max_output_chars=max_output_chars)
        self.stats = self._fresh_stats()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        _, info = super().reset(seed=seed, options=options)
        self.session.reset()
        self.stats = self._fresh_stats()
        if self.max_calls and self.instructions:
            self.messages = with_instructions(self.messages, self.instructions)
        return copy.deepcopy(self.messages), info

    def step(self, action: str):
        self._start_turn(action)
        self.messages.append({"role": "assistant", "content": action})
        call = find_call(action) if self.max_turns > 1 else None
        if call is not None and self.stats["tool_calls"] < self.max_calls:
            return self._tool_step(call)
        if call is not None:  # budget spent and still calling: no final answer
            verdict = Verdict(0.0, False, {"extracted": None, "reason": "tool budget spent without a final answer"},
                              status="no_answer")
            return self._end(verdict, self.score, {}, terminated=False)
        verdict = self.source.verify(self.task, action)
        score, parts = self.reward_fn(self.task, action, verdict)
        return self._end(verdict, score - self.call_cost * self.stats["tool_calls"], parts, terminated=True)

    # -- the two kinds of step ---------------------------------------------------------------------
    def _tool_step(self, call: ToolCall):
        result = self.session.run(call.code)
        s = self.stats
        s["tool_calls"] += 1
        s["tool_errors"] += int(result.error)
        s["tool_timeouts"] += int(result.status == "timeout")
        s["tool_used"] = True
        self.messages.append(self.tool_message(result))
        score = -self.call_cost * s["tool_calls"] if self.call_cost else 0.0
        reward, self.score = score - self.score, score
        verdict = Verdict(0.0, False, {"tool_status": result.status, "tool_form": call.form,
                                       "tool_seconds": round(result.seconds, 3), **s, "final": False},
                          feedback=result.output, status="ok")
        return copy.deepcopy(self.messages), float(reward), False, False, self._info(verdict=verdict, score=score)

    def _end(self, verdict: Verdict, score: float, parts: dict, *, terminated: bool):
        verdict.info = {**verdict.info, **self.stats, "final": terminated}
        reward, self.score, self.done = score - self.score, score, True
        info = self._info(verdict=verdict, rewards=parts, score=score)
        if self.render_mode == "human":
            print(self.render_text())
        return copy.deepcopy(self.messages), float(reward), terminated, not terminated, info

    # -- helpers ------------------------------------------------------------------------------------
    def tool_message(self, result: ToolResult) -> dict[str, str]:
        """The observation after a call: the output, and how many calls are left."""
        left = self.max_calls - self.stats["tool_calls"]
        note = (f"({left} code run{'s' if left != 1 else ''} left.)" if left else
                "(No code runs left: give your final answer in \\boxed{}.)")
        if self.tool_role == "tool":
            return {"role": "tool", "content": f"{result.output}\n{note}"}
        return {"role": "user", "content": f"Output of your code:\n```\n{result.output}\n```\n{note}"}

    def demonstration(self, task: Task) -> Messages | None:
        """A worked tool-using episode of `task` (see the module function); the cold start trains on it."""
        return demonstration(self, task)

    @property
    def env_roles(self) -> tuple[str, ...]:
        """The roles of what this env says after a reply (for reasongym.lm.template_check at start-up)."""
        return (self.tool_role,)

    def _fresh_stats(self) -> dict[str, Any]:
        return {"tool_calls": 0, "tool_errors": 0, "tool_timeouts": 0, "tool_used": False}

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {**super()._info(**extra), "tool": dict(self.stats)}


def demonstration(env: PythonToolEnv, task: Task) -> Messages | None:
    """A worked tool-using episode for the cold start: run the task's `meta["tool_code"]` in the env, then
    box the gold answer. Returns the whole transcript (train on its assistant turns only), or None when
    the task has no tool code or the episode does not earn the full reward."""
    code = task.meta.get("tool_code")
    if not code:
        return None
    env.reset(options={"task": task})
    env.step(f"Let me compute it with Python.\n```python\n{code}```")
    _, reward, terminated, _, _ = env.step(f"The code printed the result, so the answer is \\boxed{{{task.answer}}}.")
    return copy.deepcopy(env.messages) if terminated and reward == 1.0 else None


def with_instructions(messages: list[dict[str, str]], text: str) -> list[dict[str, str]]:
    """The prompt with the tool paragraph appended to its last user message (a system prompt stays as
    it is: small chat models were tuned with their own default system prompt)."""
    out = [dict(m) for m in messages]
    for m in reversed(out):
        if m["role"] == "user":
            m["content"] = f"{m['content']}\n\n{text}"
            return out
    return out + [{"role": "user", "content": text}]

