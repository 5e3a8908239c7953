"""TRL conformance: the real GRPOTrainer trains two steps on a reasongym reward; ToolEnv as environment_factory.

    OMP_NUM_THREADS=1 python -m pytest -q tests/integrations/test_trl.py      # ~30 s (tiny model, 2 steps)
"""

from __future__ import annotations

import json
import math

import pytest

import tests.fixtures.toy_env  # noqa: F401 - registers reasongym-test/Lowercase-v0 (reward: share of lowercase letters)
from reasongym.integrations.common import task_to_json
from reasongym.integrations.trl import RewardFunction, ToolEnv, dataset, reward_function

trl = pytest.importorskip("trl", reason="TRL is not installed (pip install 'reasongym[trl]')")
TOY = "reasongym-test/Lowercase-v0"


@pytest.fixture(autouse=True, scope="module")
def _fresh_accelerate_state():
    """TRL's trainer fixes accelerate's one-per-process state (bf16 here); later tests in this process
    train with reasongym, which refuses a state it did not set up: leave none behind."""
    yield
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)


def test_reward_contract_plain_and_conversational():
    rows = dataset("reasongym/Math-v0", n=2)
    assert set(rows.column_names) >= {"prompt", "task", "task_id", "env_id", "env_kwargs"}
    answers = [json.loads(t)["answer"] for t in rows["task"]]
    fn = reward_function("reasongym/Math-v0")
    plain = [f"so \\boxed{{{answers[0]}}}", "so \\boxed{123456789}"]
    chat = [[{"role": "assistant", "content": text}] for text in plain]
    kwargs = {"task": [rows["task"][0]] * 2, "env_id": [None, None], "env_kwargs": [None, None]}
    logged = {}
    assert fn(prompts=rows["prompt"][:1] * 2, completions=plain, completion_ids=[[1], [2]], **kwargs) == [1.0, 0.0]
    assert fn(prompts=rows["prompt"][:1] * 2, completions=chat, completion_ids=[[1], [2]], trainer_state=None,
              log_metric=lambda k, v: logged.setdefault(k, v), **kwargs) == [1.0, 0.0]
    assert logged == {"reasongym/correct": 0.5}
    # a row without a task is not this reward's business (None); a tampered task pays 0.0
    tampered = json.loads(rows["task"][0])
    tampered["answer"] = "123456789"
    out = fn(prompts=[None, None], completions=["\\boxed{123456789}"] * 2, task=[None, json.dumps(tampered)])
    assert out == [None, 0.0]


def test_grpo_trainer_two_steps_logs_the_reasongym_reward(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    seen: list[float] = []

    class Recorded(RewardFunction):
        def __call__(self, *args, **kwargs):
            out = super().__call__(*args, **kwargs)
            seen.extend(out)
            return out

    reward = Recorded(TOY)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=12, max_steps=2, learning_rate=1e-3, logging_steps=1, use_cpu=True,
                      report_to="none", save_strategy="no", seed=0, dataloader_num_workers=0, temperature=1.0)
    trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=reward, args=args,
                          train_dataset=dataset(TOY))
    before = {k: v.clone() for k, v in model.named_parameters()}
    trainer.train()
    logs = [h for h in trainer.state.log_history if "rewards/Lowercase-v0/mean" in h]
    assert len(logs) == 2 and len(seen) == 8
    for step, log in enumerate(logs):
        mine = seen[4 * step: 4 * step + 4]
        assert math.isclose(log["rewards/Lowercase-v0/mean"], sum(mine) / 4, rel_tol=1e-5, abs_tol=1e-6)
    assert any(0.0 < r < 1.0 for r in seen), f"expected partial lowercase shares, got {seen}"
    assert "reasongym/correct" in {k for h in logs for k in h}
    assert any(not v.equal(before[k]) for k, v in model.named_parameters()), "two GRPO steps changed nothing"


def test_tool_env_is_a_trl_environment():
    """ToolEnv has what TRL's environment_factory reads: reset(**row), documented tool methods, get_reward."""
    import inspect

    from transformers.utils import get_json_schema

    factory = ToolEnv.factory("reasongym/Math-v0", max_turns=2)
    env = factory()
    tools = [n for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
             if n not in ("reset", "get_reward", "factory") and not n.startswith("_")]
    assert tools == ["submit"]
    schema = get_json_schema(env.submit)
    assert schema["function"]["name"] == "submit" and "answer" in schema["function"]["parameters"]["properties"]
    row = dataset("reasongym/Math-v0", n=1)[0]
    gold = json.loads(row["task"])["answer"]
    assert env.reset(**row) is None                          # the prompt column already shows the task
    assert "not correct" in env.submit("\\boxed{123456789}")  # first attempt wrong: feedback, one turn left
    assert env.submit(f"\\boxed{{{gold}}}") == "Correct."
    assert env.get_reward() == 1.0 and env.submit("again") .startswith("The episode is over")
    env.reset(**row)
    env.submit("\\boxed{1}"), env.submit("\\boxed{2}")
    assert env.get_reward() == 0.0


def test_trl_score_matches_env_step():
    import gymnasium as gym

    env = gym.make("reasongym/Math-v0")
    _, info = env.reset(seed=3)
    task = info["task"]
    from reasongym.integrations.trl import score

    for text in (f"\\boxed{{{task.answer}}}", "\\boxed{0.123}", "", "<think>\\boxed{" + str(task.answer) + "}</think>"):
        env.reset(options={"task": task})
        assert score("reasongym/Math-v0", task_to_json(task), text) == env.step(text)[1], text


def test_grpo_trainer_with_tool_env_as_environment_factory(tiny_model_dir, tmp_path, monkeypatch):
    """Multi-turn through TRL's environment_factory: two real steps; the G generations of a group reset to
    the row's task; the env's get_reward is TRL's reward column; TRL's own tool-call parser reaches submit."""
    from transformers import AutoModelForCausalLM
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import add_response_schema, qwen2_5_chat_template

    from tests.fixtures.tiny_model import build_tiny_tokenizer

    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    calls: list[tuple[str, object]] = []

    class Spy(ToolEnv.factory("reasongym/Math-v0", max_turns=2)):
        def reset(self, **row):
            calls.append(("reset", json.loads(row["task"])["id"]))
            return super().reset(**row)

        def get_reward(self):
            calls.append(("reward", super().get_reward()))
            return calls[-1][1]

    tok = build_tiny_tokenizer()
    tok.chat_template, tok.padding_side = qwen2_5_chat_template, "left"   # a template TRL can parse tools from
    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, num_generations=4,
                      max_completion_length=12, max_steps=2, logging_steps=1, use_cpu=True, report_to="none",
                      save_strategy="no", seed=0, max_tool_calling_iterations=2)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), processing_class=tok,
                          args=args, train_dataset=dataset("reasongym/Math-v0", n=4), environment_factory=Spy)
    trainer.train()
    resets = [v for k, v in calls if k == "reset"]
    assert len(resets) == 8 and len(set(resets[:4])) == 1 and len(set(resets[4:])) == 1
    assert [h["rewards/Spy/mean"] for h in trainer.state.log_history if "rewards/Spy/mean" in h] == \
        [sum(v for k, v in calls[i * 8:(i + 1) * 8] if k == "reward") / 4 for i in range(2)]
    env = Spy()
    row = dataset("reasongym/Math-v0", n=1)[0]
    env.reset(**row)
    gold = json.loads(row["task"])["answer"]
    call = json.dumps({"name": "submit", "arguments": {"answer": f"\\boxed{{{gold}}}"}})
    parsed = add_response_schema(tok).parse_response(f"<tool_call>\n{call}\n</tool_call><|im_end|>",
                                                     prefix="")
    fn = parsed["tool_calls"][0]["function"]
    assert getattr(env, fn["name"])(**fn["arguments"]) == "Correct." and env.get_reward() == 1.0
