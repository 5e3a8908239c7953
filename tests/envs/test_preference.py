"""reasongym/Preference-v0: rewards from a tiny reward model through the Gymnasium API, normalisation, the
verifiable component, splits, lazy torch, and GRPO end to end through `python -m reasongym.train`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gymnasium.utils.env_checker import check_env

import reasongym
from reasongym.agents.rollout import EnvPool, collect
from reasongym.core import Completion, SamplingParams
from reasongym.reward import main as reward_main
from reasongym.rlhf.model import RewardModel
from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main
from tests.rlhf.test_reward_model import case_rankings, rm_args

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_rm(tiny_model_dir, tmp_path_factory) -> Path:
    """A tiny reward model that learned "lowercase beats UPPERCASE"."""
    tmp = tmp_path_factory.mktemp("tiny-rm")
    folder = reward_main(rm_args(tiny_model_dir, case_rankings(tmp / "pairs.jsonl", n=120), tmp, "epochs=1"))
    return folder / "final"


@pytest.fixture(scope="module")
def prompts(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prompts") / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(60)))
    return path


def test_reward_is_the_reward_model_score(tiny_rm, prompts):
    env = reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts))
    obs, info = env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("a calm reply")
    expected = RewardModel.load(tiny_rm, precision="fp32").score([obs], ["a calm reply"])[0]
    assert reward == pytest.approx(expected, abs=1e-4) and info["verdict"].info["rm_score"] == pytest.approx(expected, abs=1e-4)
    assert info["rewards"] == {"rm": pytest.approx(expected, abs=1e-4)} and terminated and not truncated
    env.reset(options={"task": info["task"]})
    _, shouting, *_ = env.step("A CALM REPLY")
    assert shouting < reward  # the rule it learned


def test_check_env(tiny_rm, prompts):
    check_env(reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts)).unwrapped, skip_render_check=True)


def test_dataset_normalisation_uses_the_saved_statistics(tiny_rm, prompts):
    stats = json.loads((tiny_rm / "reward_model.json").read_text())["stats"]
    env = reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts), normalize="dataset")
    env.reset(seed=1)
    _, reward, *_, info = env.step("hello")
    raw = info["verdict"].info["rm_score"]
    assert reward == pytest.approx((raw - stats["mean"]) / stats["std"])


class Fixed:
    """A policy that answers from a list (so a group has known, different replies)."""

    def __init__(self, replies):
        self.replies, self.i = replies, 0

    def act(self, observations, sampling):
        out = []
        for _ in observations:
            out.append(Completion(self.replies[self.i % len(self.replies)], token_ids=[1, 2]))
            self.i += 1
        return out


def test_group_normalisation_is_deprecated_and_reports_the_raw_score(tiny_rm, prompts):
    """The learner normalises groups (GRPO's advantage); the env reports the raw score and never waits."""
    kwargs = {"rm": str(tiny_rm), "prompts": str(prompts), "normalize": "group"}
    with pytest.warns(FutureWarning, match="normalize='group' is deprecated"):
        pool = EnvPool("reasongym/Preference-v0", kwargs, size=8)
    tasks = [pool.envs[0].unwrapped.tasks[i] for i in (0, 1)]
    rollouts = collect(pool, Fixed(["hello there", "HELLO THERE", "quiet music", "QUIET"]), tasks, 4,
                       SamplingParams(max_new_tokens=4))
    rewards = [r.reward for r in rollouts]
    assert rewards == [r.turns[0].verdict.info["rm_score"] for r in rollouts]
    assert abs(sum(rewards[:4])) > 1e-3  # not z-scores, which sum to 0 within a group
    pool.close()
    with pytest.warns(FutureWarning):
        a, b = reasongym.make("preference", **kwargs), reasongym.make("preference", **kwargs)
    _, info = a.reset(seed=0)
    b.reset(options={"task": info["task"]})
    assert a.step("hello")[1] == pytest.approx(b.step("hello")[1])  # one thread, one after the other


def test_verifiable_component_is_reported_even_at_weight_zero(tiny_rm, prompts):
    env = reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts), verifier="math", split="all")
    _, info = env.reset(options={"task": env.unwrapped.tasks[3]})
    _, reward, terminated, _, info = env.step("so the answer is \\boxed{6}")
    assert info["rewards"]["correct"] == 1.0 and terminated and reward == pytest.approx(info["rewards"]["rm"])
    env = reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts), verifier="math", split="all",
                         rewards={"rm": 0.0, "correct": 1.0})
    env.reset(options={"task": env.unwrapped.tasks[3]})
    assert env.step("\\boxed{7}")[1] == 0.0
    with pytest.raises(ValueError, match="no verifier"):
        reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts), rewards={"correct": 1.0})


def test_train_and_heldout_prompts_are_disjoint(tiny_rm, prompts):
    train = reasongym.make("preference", rm=str(tiny_rm), prompts=str(prompts)).unwrapped.tasks
    held = reasongym.make("preference-heldout", rm=str(tiny_rm), prompts=str(prompts)).unwrapped.tasks
    assert len(train) + len(held) == 60 and not {t.id for t in train} & {t.id for t in held}


def test_missing_reward_model_is_a_clear_error(prompts, tmp_path):
    with pytest.raises(FileNotFoundError, match="env.rm=<folder written by"):
        reasongym.make("preference", rm=str(tmp_path / "nope"), prompts=str(prompts))


def test_torch_loads_only_when_the_first_reply_is_scored(tiny_rm, prompts):
    code = (f"import sys, reasongym; env = reasongym.make('preference', rm={str(tiny_rm)!r}, prompts={str(prompts)!r}); "
            "env.reset(seed=0); assert 'torch' not in sys.modules, 'torch loaded early'; "
            "env.step('hi'); assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_grpo_on_a_learned_reward_end_to_end(tiny_model_dir, tiny_rm, prompts, tmp_path):
    """The same trainer as math: the policy learns what the reward model likes; the guard is on by default."""
    folder = train_main([f"model={tiny_model_dir}", "env=preference", f"env.rm={tiny_rm}", f"env.prompts={prompts}",
                         "sft.steps=0", "steps=16", "agent.max_new_tokens=8", "agent.pay_cut_off=true", "agent.lr=1e-2", "agent.prompts_per_step=4",
                         "agent.group_size=8", "precision=fp32", f"run_dir={tmp_path}", "plots=false",
                         "eval_every=0", "guard.stop=false", f"guard.judge={tiny_rm}"])
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo"]
    assert len(rows) == 16 and {"rep3", "distinct2", "kl_ref", "judge_score"} <= set(rows[0])  # guard: on by default
    assert rows[0]["judge_score"] == pytest.approx(rows[0]["reward"], abs=1e-3)  # the judge here is the same model
    first, last = sum(r["reward"] for r in rows[:4]) / 4, sum(r["reward"] for r in rows[-4:]) / 4
    assert last > first + 0.5, f"the reward-model score did not rise: {first:.2f} -> {last:.2f}"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["guard"]["best_by"] == "judge_score" and summary["guard"]["best_step"] is not None
    assert (folder / "final" / "config.json").exists() and (folder / "best" / "config.json").exists()


def test_the_guard_fires_on_a_hacked_learned_reward_with_group_normalisation(tiny_model_dir, tiny_rm, prompts, tmp_path):
    """normalize=group used to z-score inside the env: every step's mean reward was 0, so "the reward rose"
    could never be seen. The guard must see the raw score rise while an independent signal collapses
    (here the KL budget, set to ~0 so that every updated step breaks it)."""
    folder = train_main([f"model={tiny_model_dir}", "env=preference", f"env.rm={tiny_rm}", f"env.prompts={prompts}",
                         "env.normalize=group", "sft.steps=0", "steps=16", "agent.max_new_tokens=8", "agent.pay_cut_off=true", "agent.lr=1e-2",
                         "agent.prompts_per_step=4", "agent.group_size=8", "precision=fp32", f"run_dir={tmp_path}",
                         "plots=false", "eval_every=0", "guard.max_kl=1e-12", "guard.warmup=2", "guard.window=2",
                         "guard.patience=2", "guard.min_reward_rise=0.2"])
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo"]
    guard = json.loads((folder / "summary.json").read_text())["guard"]
    assert guard["stopped"] and len(rows) < 16, [(r["step"], round(r["reward"], 3)) for r in rows]
    assert "rose" in guard["message"] and "KL to the reference" in guard["message"]
    assert abs(rows[0]["reward"]) > 1e-3  # the raw score, not a group z-score (whose mean is 0)
