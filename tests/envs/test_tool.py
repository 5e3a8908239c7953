"""The Python tool environment: calls run in the real bwrap sandbox, state carries, only answers pay.

A scripted policy that runs the task's `tool_code` and boxes what it printed earns 1 through the same
rollout code the trainer uses; one that only calls the tool earns 0; hostile calls are contained; tool
observations are masked out of training rows.

    OMP_NUM_THREADS=1 python -m pytest -q tests/envs/test_tool.py      # ~20 s (about 40 sandbox runs)
"""

from __future__ import annotations

import time
from pathlib import Path

import gymnasium
import pytest

import reasongym  # noqa: F401 - registers the ids
from reasongym.agents.rollout import EnvPool, collect, episode_row, pick_tasks
from reasongym.agents.stages import sft_rows
from reasongym.core import Completion, SamplingParams
from reasongym.envs.tool import PythonSession, demonstration, find_call
from tests.fixtures.tiny_model import build_tiny_tokenizer

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


class ToolUser:
    """Runs the task's tool_code, then boxes the last line the tool printed (or, `only_calls`, never stops
    calling). A real tokenizer, so episode rows are built as for a model."""

    def __init__(self, tasks, only_calls: bool = False):
        self.code = {t.question: t.meta["tool_code"] for t in tasks}
        self.only_calls, self.tokenizer = only_calls, build_tiny_tokenizer()
        self.eos_ids = [self.tokenizer.eos_token_id]

    def encode_chat(self, messages):
        enc = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        return list(enc["input_ids"] if hasattr(enc, "keys") else enc)

    def act(self, observations, sampling):
        return [Completion(self.reply(obs)) for obs in observations]

    def reply(self, obs) -> str:
        question = next(m["content"] for m in obs if m["role"] == "user").split("\n\nYou can run")[0]
        if obs[-1]["role"] == "user" or self.only_calls:
            return f"Let me compute it.\n```python\n{self.code[question]}```"
        printed = obs[-1]["content"].split("\n(")[0].strip().splitlines()[-1]
        return f"The tool printed {printed}, so the answer is \\boxed{{{printed}}}."


def run_policy(env_id: str, only_calls: bool, n: int = 4, **kwargs):
    pool = EnvPool(env_id, kwargs, size=n)
    tasks = pick_tasks(pool.envs[0], seeds=list(range(n)))
    policy = ToolUser(tasks, only_calls=only_calls)
    rollouts = collect(pool, policy, tasks, group_size=1, sampling=SamplingParams(max_new_tokens=64))
    pool.close()
    return rollouts, policy


def test_a_correct_tool_user_earns_1_and_a_tool_only_caller_earns_0():
    good, _ = run_policy("reasongym/JaggedTool-v0", False, difficulty=3)
    assert [r.reward for r in good] == [1.0] * 4 and all(r.terminated and not r.truncated for r in good)
    assert all(len(r.turns) == 2 and r.turns[-1].verdict.info["tool_calls"] == 1 for r in good)
    spam, _ = run_policy("reasongym/JaggedTool-v0", True, difficulty=3, max_calls=2)
    assert [r.reward for r in spam] == [0.0] * 4 and all(r.truncated and not r.terminated for r in spam)
    assert all(len(r.turns) == 3 and r.turns[-1].verdict.status == "no_answer" for r in spam)
    assert all(r.turns[-1].verdict.info["tool_calls"] == 2 for r in spam)


def test_call_cost_is_charged_and_never_negative():
    good, _ = run_policy("reasongym/JaggedTool-v0", False, n=2, call_cost=0.1)
    assert [round(r.reward, 6) for r in good] == [0.9, 0.9]
    with pytest.raises(ValueError, match="never rewarded"):
        gymnasium.make("reasongym/JaggedTool-v0", call_cost=-0.5)


def test_tool_outputs_are_masked_out_of_training_rows():
    rollouts, policy = run_policy("reasongym/JaggedTool-v0", False, n=2, difficulty=2)
    for r in rollouts:
        row = episode_row(r, policy)
        sampled = policy.tokenizer.decode([i for i, m in zip(row.input_ids, row.mask) if m])
        env_side = policy.tokenizer.decode([i for i, m in zip(row.input_ids, row.mask) if not m])
        assert sampled == "".join(t.completion.text for t in r.turns)
        tool_output = r.turns[1].observation[-1]
        assert tool_output["role"] == "tool" and tool_output["content"] in env_side
        assert tool_output["content"] not in sampled


def test_state_carries_across_calls_and_failed_cells_are_not_replayed():
    s = PythonSession(timeout_s=5)
    assert s.run("x = 6 * 7").output == "(no output)"
    assert s.run("x + 1").output == "43"
    r = s.run("y = 1\nraise ValueError('boom')")
    assert r.status == "error" and "ValueError: boom" in r.output and "<cell 3>" in r.output
    assert "NameError" in s.run("print(y)").output  # the failed cell is gone, side effects and all
    drawn = s.run("import random\nv = random.random()\nv").output
    assert s.run("v").output == drawn  # random is seeded per call, so the replay draws the same number


def test_every_call_form_is_a_call_and_prose_or_thinking_is_not():
    code = "print(1)"
    assert find_call(f"```python\n{code}\n```").form == "fence"
    assert find_call(f'<tool_call>\n{{"name": "python", "arguments": {{"code": "{code}"}}}}\n</tool_call>').code == code
    openai = '{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "python", ' \
             '"arguments": "{\\"code\\": \\"print(1)\\"}"}}]}'
    assert find_call(openai).code == code and find_call(openai).form == "openai"
    for not_a_call in (f"<think>```python\n{code}\n```</think> \\boxed{{1}}", f"```\n{code}\n```",
                       f"```python\n{code}", '<tool_call>{"name": "shell", "arguments": {"code": "ls"}}</tool_call>',
                       "The answer is \\boxed{1}."):
        assert find_call(not_a_call) is None, not_a_call


def test_tool_role_user_for_templates_without_a_tool_role():
    env = gymnasium.make("reasongym/JaggedTool-v0", tool_role="user").unwrapped
    env.reset(seed=1)
    obs, reward, term, trunc, info = env.step("```python\nprint(2 ** 10)\n```")
    assert obs[-1]["role"] == "user" and "1024" in obs[-1]["content"] and (reward, term, trunc) == (0.0, False, False)
    assert info["tool"]["tool_calls"] == 1 and info["verdict"].info["tool_status"] == "ok"


@pytest.mark.parametrize("attack, expect", [
    ("print(open({secret!r}).read())", "FileNotFoundError"),                       # a host file
    ("open({outside!r}, 'w').write('x')", "Error"),                                # writing outside /work
    ("import os\nwhile True:\n    os.fork()", ""),                                  # a fork bomb
    ("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)", "Error"),  # the network
])
def test_hostile_tool_calls_are_contained(tmp_path, attack, expect):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    outside = tmp_path / "pwned.txt"
    env = gymnasium.make("reasongym/JaggedTool-v0", timeout_s=3).unwrapped
    env.reset(seed=0)
    t0 = time.monotonic()
    code = attack.format(secret=str(secret), outside=str(outside))
    obs, reward, term, trunc, info = env.step(f"```python\n{code}\n```")
    assert time.monotonic() - t0 < 20 and reward == 0.0 and not (term or trunc)
    assert "TOP-SECRET-42" not in obs[-1]["content"] and expect in obs[-1]["content"]
    assert info["verdict"].info["tool_status"] != "ok" and info["tool"]["tool_errors"] == 1
    assert not outside.exists()
    obs, *_ = env.step("```python\nprint('still here')\n```")  # the next call runs normally
    assert obs[-1]["content"].startswith("still here")


def test_math_sources_work_with_the_tool():
    env = gymnasium.make("reasongym/PythonTool-v0", source="math", difficulty=1, kinds=["arithmetic"]).unwrapped
    _, info = env.reset(seed=3)
    shown = env.messages[-1]["content"]
    assert "```python" in shown and info["task"].prompt[-1]["content"] in shown
    obs, *_ = env.step("```python\nprint(6 * 7)\n```")
    obs, reward, term, trunc, _ = env.step(info["task"].meta["solution"])
    assert (reward, term, trunc) == (1.0, True, False)
    path = DATA / "gsm8k_test.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    env = gymnasium.make("reasongym/PythonTool-v0", source="gsm8k", path=str(path), limit=5).unwrapped
    _, info = env.reset(seed=0)
    assert len(env.tasks) == 5
    _, reward, term, _, _ = env.step(f"\\boxed{{{info['task'].answer}}}")
    assert reward == 1.0 and term


def test_a_demonstration_is_a_full_reward_tool_episode_for_the_cold_start():
    env = gymnasium.make("reasongym/JaggedTool-v0", difficulty=4).unwrapped
    task = env.tasks.take(1, seed=5)[0]
    msgs = demonstration(env, task)
    assert [m["role"] for m in msgs][-3:] == ["assistant", "tool", "assistant"]
    assert task.meta["tool_code"] in msgs[-3]["content"] and f"\\boxed{{{task.answer}}}" in msgs[-1]["content"]
    assert msgs[-2]["content"].startswith(str(task.answer).split(".")[0])


def test_the_cold_start_of_a_tool_env_trains_on_worked_tool_episodes():
    """sft_rows on a tool env: whole demonstrations, loss on the assistant turns (call and answer, each
    closed by EOS), never on the prompt or the tool's output."""
    env = gymnasium.make("reasongym/JaggedTool-v0", difficulty=2)
    tasks = env.unwrapped.tasks.take(3, seed=1)
    policy = ToolUser(tasks)
    rows = sft_rows(policy, tasks, "reasongym/JaggedTool-v0", env)
    tok = policy.tokenizer
    for task, row in zip(tasks, rows):
        msgs = demonstration(env.unwrapped, task)
        replies = [m["content"] for m in msgs if m["role"] == "assistant"]
        sampled = tok.decode([i for i, m in zip(row.input_ids, row.mask) if m])
        eos = tok.decode([tok.eos_token_id])
        assert sampled == "".join(r + eos for r in replies)
        assert task.meta["tool_code"] in sampled and f"\\boxed{{{task.answer}}}" in sampled
        env_side = tok.decode([i for i, m in zip(row.input_ids, row.mask) if not m])
        assert msgs[-2]["role"] == "tool" and msgs[-2]["content"] in env_side and "You can run Python" in env_side
    plain = gymnasium.make("reasongym/Jagged-v0", difficulty=2)
    (row,) = sft_rows(policy, tasks[:1], "reasongym/Jagged-v0", plain)   # no tool: the worked solution
    assert tok.decode([i for i, m in zip(row.input_ids, row.mask) if m]).startswith(tasks[0].meta["solution"])
    env.close()
    plain.close()
