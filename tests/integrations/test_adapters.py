"""verl, OpenRLHF, verifiers and reasoning-gym adapters, loaded the way those projects load them.

    OMP_NUM_THREADS=1 python -m pytest -q tests/integrations/test_adapters.py        # ~20 s

verl and OpenRLHF cannot be installed on this CPU machine without breaking it (verl 0.9 pins
transformers 5.10 / tokenizers 0.22 and pulls ray; OpenRLHF needs deepspeed built against CUDA and
vLLM), so their loaders are reproduced here line for line from their source (verl
`verl/utils/import_utils.py::load_module`, OpenRLHF `openrlhf/utils/agent.py::SingleTurnAgentExecutor`)
and fed payloads in their documented formats; where the real package is importable the test uses it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import gymnasium as gym
import pytest

import reasongym.integrations.openrlhf as openrlhf_adapter
import reasongym.integrations.verl as verl_adapter
from reasongym.integrations import trl as trl_adapter
from reasongym.integrations.common import rows, task_from_json, task_to_json

ROOT = Path(__file__).resolve().parents[2]


def probes(gold: str) -> list[str]:
    """Completions a policy might try (what the reward audit sends), right and wrong."""
    return [f"\\boxed{{{gold}}}", "\\boxed{123456789}", "", f"<think>\\boxed{{{gold}}}</think> no idea",
            f"\\boxed{{123456789}} or \\boxed{{{gold}}}", f"```python\nprint('\\\\boxed{{{gold}}}')\n```", f"{gold}"]


def env_step_reward(env_id: str, task, text: str, **kwargs) -> float:
    env = gym.make(env_id, **kwargs)
    env.reset(options={"task": task})
    return env.step(text)[1]


def test_task_json_round_trip_and_tamper_check():
    for env_id in ("reasongym/Math-v0", "reasongym/GSM8K-v0", "reasongym/MBPP-v0"):
        row = rows(env_id, 2)[1]
        task = task_from_json(row["task"])
        assert task.id == row["task_id"] and task_to_json(task) == row["task"]
    bad = json.loads(row["task"])
    bad["prompt"][-1]["content"] += " (edited)"
    with pytest.raises(ValueError, match="id mismatch"):
        task_from_json(json.dumps(bad))


def verl_load(path: str, name: str, reward_kwargs: dict):
    """verl's custom_reward_function loading (get_custom_reward_fn + load_extern_object, verl 0.9.1)."""
    try:
        from verl.utils.import_utils import load_extern_object
    except ImportError:
        spec = importlib.util.spec_from_file_location(f"custom_module_{hash(os.path.abspath(path))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        raw_fn = getattr(module, name)
    else:
        raw_fn = load_extern_object(module_path=path, object_name=name)
    return partial(lambda fn, extra, *a, **k: fn(*a, **{**k, **extra}), raw_fn, reward_kwargs)


def test_verl_export_and_compute_score_loaded_by_path(tmp_path):
    out = subprocess.run([sys.executable, "-m", "reasongym.integrations.verl", "export", "env=math",
                          f"out={tmp_path}", "n=6", "test_n=3", "env.difficulty=2"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    import pyarrow.parquet as pq

    train, test = (pq.read_table(tmp_path / f"{s}.parquet").to_pylist() for s in ("train", "test"))
    assert len(train) == 6 and len(test) == 3
    assert set(train[0]) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    assert train[0]["data_source"] == "reasongym/Math-v0" and train[0]["ability"] == "math"
    assert train[0]["prompt"][-1]["role"] == "user" and train[0]["reward_model"]["style"] == "rule"
    assert not {r["extra_info"]["task_id"] for r in train} & {r["extra_info"]["task_id"] for r in test}
    assert json.loads(test[0]["extra_info"]["env_kwargs"]) == {"difficulty": 2, "split": "heldout"}

    compute_score = verl_load(verl_adapter.__file__, "compute_score", {})
    row = test[0]
    gold = str(task_from_json(row["reward_model"]["ground_truth"]).answer)
    task = task_from_json(row["reward_model"]["ground_truth"])
    for text in probes(gold):   # the payload verl's NaiveRewardManager sends
        extra = {**row["extra_info"], "num_turns": 2, "rollout_reward_scores": {}}
        result = compute_score(data_source=row["data_source"], solution_str=text,
                               ground_truth=row["reward_model"]["ground_truth"], extra_info=extra)
        assert set(result) == {"score", "acc"}
        assert result["score"] == env_step_reward("reasongym/Math-v0", task, text, difficulty=2, split="heldout")
    assert compute_score(data_source="openai/gsm8k", solution_str="#### 4", ground_truth="4")["score"] == 0.0


def test_verl_export_of_a_file_env_writes_test_only(tmp_path):
    written = verl_adapter.export("gsm8k", tmp_path, test_n=5)
    assert set(written) == {"test"} and not (tmp_path / "train.parquet").exists()


def test_openrlhf_reward_func_loaded_from_file(tmp_path):
    # OpenRLHF's SingleTurnAgentExecutor: spec_from_file_location("reward_func", path) ... .reward_func
    spec = importlib.util.spec_from_file_location("reward_func", openrlhf_adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reward_func = module.reward_func

    data = openrlhf_adapter.export("math", tmp_path / "math.jsonl", n=3)
    records = [json.loads(line) for line in data.read_text().splitlines()]
    from tests.fixtures.tiny_model import build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    for rec in records:
        prompt = tok.apply_chat_template(rec["prompt"], tokenize=False, add_generation_prompt=True)
        task = task_from_json(json.loads(rec["label"])["task"])
        for text in probes(str(task.answer)):
            # the query as OpenRLHF builds it: decode(prompt ids + response ids), special tokens kept
            ids = tok(prompt, add_special_tokens=False)["input_ids"] + tok(text)["input_ids"] + [tok.eos_token_id]
            query = tok.decode(ids, skip_special_tokens=False)
            out = reward_func([query], [prompt], [rec["label"]])
            assert set(out) == {"rewards", "scores", "extra_logs"}
            assert float(out["rewards"][0]) == env_step_reward("reasongym/Math-v0", task, text), (text, query)
    gold = str(task.answer)
    unlocated = reward_func([f"\\boxed{{{gold}}}"], ["a prompt that is not in the query"], [rec["label"]])
    assert float(unlocated["rewards"][0]) == 0.0 and unlocated["extra_logs"]["reasongym_unlocated"] == 1.0
    bos = reward_func([f"<s>{prompt}\\boxed{{{gold}}}</s>"], [prompt], [rec["label"]])  # a BOS the prompt lacks
    assert float(bos["rewards"][0]) == 1.0


def test_verifiers_environment_loaded_by_verifiers():
    vf = pytest.importorskip("verifiers.v1", reason="verifiers is not installed (pip install 'reasongym[verifiers]')")
    import asyncio

    from verifiers.v1.trace import Trace
    from verifiers.v1.utils.loaders import load_environment as vf_load_environment

    from reasongym.integrations.prime_verifiers import TASKSET_ID, load_environment

    env = load_environment("reasongym/Math-v0", num_tasks=3, difficulty=2)
    assert isinstance(env, vf.Env) and len(list(env.taskset)) == 3
    same = vf_load_environment(vf.SingleAgentEnvConfig(taskset={"id": TASKSET_ID, "env": "reasongym/Math-v0",
                                                                "num_tasks": 3, "env_kwargs": {"difficulty": 2}}))
    assert [t.data.id for t in same.taskset] == [t.data.id for t in env.taskset]
    task = next(iter(env.taskset))
    inner = task_from_json(task.data.task_json)
    for text in probes(str(inner.answer)):
        trace = Trace.model_construct(rewards={}, metrics={}, root_reply=text, nodes=[], errors=[])
        asyncio.run(task.score(trace))     # verifiers' own offline scoring of the @vf.reward methods
        assert trace.rewards["reasongym"].value == env_step_reward("reasongym/Math-v0", inner, text, difficulty=2)


def test_reasoning_gym_env_through_our_verifier_and_every_adapter():
    pytest.importorskip("reasoning_gym", reason="reasoning-gym is not installed (pip install 'reasongym[reasoning-gym]')")
    from gymnasium.utils.env_checker import check_env

    env = gym.make("reasongym/ReasoningGym-v0", dataset="leg_counting", size=20)
    check_env(env.unwrapped, skip_render_check=True)
    _, info = env.reset(seed=1)
    task = info["task"]
    gold = task.answer["gold"]
    assert env.step(f"\\boxed{{{gold}}}")[1:3] == (1.0, True)
    env.reset(options={"task": task})
    assert env.step(f"<answer>{int(gold) + 1}</answer>")[1] == 0.0
    adapters = [trl_adapter, verl_adapter, openrlhf_adapter]
    for text in probes(gold):
        want = env_step_reward("reasongym/ReasoningGym-v0", task, text)
        for adapter in adapters:   # default kwargs: the same 500-task set's task 0.. rebuilt from the answer
            assert adapter.score("reasongym/ReasoningGym-v0", task, text) == want, (adapter.__name__, text)
    with pytest.raises(ValueError, match="unknown reasoning-gym dataset"):
        gym.make("reasongym/ReasoningGym-v0", dataset="leg_countin")


def test_every_adapter_scores_like_env_step_on_math_and_code():
    """The audit's promise: the same probes through each adapter give the env's own reward."""
    for env_id in ("reasongym/Math-v0", "reasongym/Code-v0"):
        task = task_from_json(rows(env_id, 1, seed=5)[0]["task"])
        gold = task.meta.get("solution", "") if env_id.endswith("Code-v0") else str(task.answer)
        texts = probes(gold) if env_id.endswith("Math-v0") else [gold, "```python\ndef f(: pass\n```", ""]
        for text in texts:
            want = env_step_reward(env_id, task, text)
            for adapter in (trl_adapter, verl_adapter, openrlhf_adapter):
                assert adapter.score(env_id, task, text) == want, (env_id, adapter.__name__, text)


def test_import_reasongym_stays_light():
    code = ("import sys, reasongym, reasongym.integrations, reasongym.data; "
            "heavy = {'torch', 'trl', 'datasets', 'verifiers', 'reasoning_gym', 'pyarrow'} & set(sys.modules); "
            "assert not heavy, heavy")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-1000:]


def test_adapters_take_the_env_kwargs_the_audit_uses():
    """score(env_id, task, text, **env_kwargs) builds the env with those kwargs (reward weights here)."""
    weights = {"correct": 1.0, "one_box": 0.25}
    task = task_from_json(rows("reasongym/Math-v0", 1, seed=2)[0]["task"])
    adapters = [trl_adapter, verl_adapter, openrlhf_adapter]
    if importlib.util.find_spec("verifiers") is not None:
        from reasongym.integrations import prime_verifiers

        adapters.append(prime_verifiers)
    for text in probes(str(task.answer)):
        want = env_step_reward("reasongym/Math-v0", task, text, rewards=weights)
        for adapter in adapters:
            assert adapter.score("reasongym/Math-v0", task, text, rewards=weights) == want, (adapter.__name__, text)
    assert verl_adapter.score("reasongym/Math-v0", task, f"\\boxed{{{task.answer}}}", rewards=weights) == 1.25
