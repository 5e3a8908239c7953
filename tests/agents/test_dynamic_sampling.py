"""Dynamic sampling in the GRPO stage (reasongym/agents/grpo_stage.py): groups without signal are not
trained on, extra rounds refill the step within their budget, and every step logs where its tokens went.

    python -m pytest -q tests/agents/test_dynamic_sampling.py
"""

import torch

from reasongym.agents.grpo_stage import _harness_error, _signal, _unfinished_unpaid
from reasongym.core import Completion, Rollout, Task, Turn, Verdict
from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main
from tests.test_trainer import toy_args

TASK = Task.create("q", "a")


def _rollout(reward: float, status: str = "ok", finish: str = "stop") -> Rollout:
    verdict = Verdict(reward=reward, correct=reward > 0, info={}, status=status)
    return Rollout(TASK, [Turn([], Completion(text="x", token_ids=[1], finish_reason=finish), reward, verdict)],
                   True, False)


def test_a_reply_cut_off_at_the_length_limit_earns_nothing_unless_asked():
    """A boxed answer padded with junk up to max_new_tokens is not paid (agent.pay_cut_off=false)."""
    def batch():
        return [_rollout(1.0), _rollout(1.0, finish="length"), _rollout(0.0, finish="length"),
                _rollout(-0.7, finish="length")]  # a learned reward's negative score is not raised to 0
    assert [o.reward for o in _unfinished_unpaid(batch(), pay_cut_off=False)] == [1.0, 0.0, 0.0, -0.7]
    assert [o.reward for o in _unfinished_unpaid(batch(), pay_cut_off=True)] == [1.0, 1.0, 0.0, -0.7]


def test_groups_with_all_equal_rewards_have_no_signal():
    rewards = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0.5, 0.5 + 1e-9, 0.5, 0.5]
    rollouts = [_rollout(r) for r in rewards]
    assert _signal(rollouts, 4, 4, eps=1e-6) == [2]  # the last group varies by less than the epsilon
    assert _signal(rollouts, 4, 4, eps=0.0) == [2, 3]
    assert _harness_error(_rollout(0.0, "harness_error")) and not _harness_error(_rollout(0.0))


def grpo_rows(folder):
    return [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo" and "reward" in r]


def test_without_signal_the_step_spends_its_extra_rounds_and_trains_nothing(tiny_model_dir, tmp_path):
    """A random tiny model never boxes an answer: every math group is all-zero."""
    from reasongym.agents.policies.hf import HFPolicy

    before = HFPolicy.load(str(tiny_model_dir)).model.state_dict()
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "env=math", "steps=2", "eval_every=0",
                                 "agent.max_extra_rounds=2", "agent.curriculum_max_difficulty=2"))
    rows = grpo_rows(folder)
    assert [r["extra_rounds"] for r in rows] == [2, 2]
    assert all(r["groups"] == 12 and r["groups_trained"] == 0 and r["tokens_to_loss_frac"] == 0 for r in rows)
    assert all(r["gen_tokens"] > 0 and r["harness_error_frac"] == 0.0 for r in rows)
    assert {k for r in rows for k in r if k.startswith("difficulty_mix_d")} <= {"difficulty_mix_d1", "difficulty_mix_d2"}
    after = HFPolicy.load(str(folder / "final")).model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no group with signal: no update


def test_with_signal_the_tokens_reach_the_loss(tiny_model_dir, tmp_path):
    """The toy reward (share of lowercase letters) varies in almost every group."""
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=3", "eval_every=0"))
    rows = grpo_rows(folder)
    assert all(r["extra_rounds"] == 0 and r["groups_trained"] == 4 for r in rows)
    assert all(0.9 < r["tokens_to_loss_frac"] <= 1.0 for r in rows)
    two = grpo_rows(train_main(toy_args(tiny_model_dir, tmp_path / "two", "steps=1", "eval_every=0",
                                        "env.max_turns=2")))  # a wrong first reply gets a second turn
    assert 0.9 < two[0]["tokens_to_loss_frac"] <= 1.0  # tokens of every turn count as generated
    off = grpo_rows(train_main(toy_args(tiny_model_dir, tmp_path / "off", "env=math", "steps=1", "eval_every=0",
                                        "agent.dynamic_sampling=false", "agent.curriculum=false")))
    assert off[0]["groups"] == off[0]["groups_trained"] == 4 and off[0]["extra_rounds"] == 0
    assert off[0]["zero_var_frac"] == 1.0 and off[0]["tokens_to_loss_frac"] == 0.0


def test_every_group_with_signal_is_trained_on_also_beyond_the_step_size(tiny_model_dir, tmp_path):
    """env.flat_every=2: half the toy tasks pay a flat 0.5 (no signal), so steps need refills, and a refill
    round may find more groups with signal than the step still needed; those are trained on, not dropped."""
    rows = grpo_rows(train_main(toy_args(tiny_model_dir, tmp_path, "steps=4", "eval_every=0", "seed=3",
                                         "env.flat_every=2", "agent.curriculum=false", "agent.replay=0")))
    assert all(r["groups_trained"] == round(r["groups"] * (1 - r["zero_var_frac"])) for r in rows)
    assert max(r["groups_trained"] for r in rows) > 4 and min(r["zero_var_frac"] for r in rows) > 0


def test_screening_stops_a_task_after_its_first_samples_when_they_agree(tiny_model_dir, tmp_path):
    """agent.screen_size=4 on math with a random tiny model: every screen is all-wrong, so no task gets the
    rest of its group; the same generation budget screens twice as many tasks as whole groups would."""
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "env=math", "steps=1", "eval_every=0",
                                 "agent.screen_size=4", "agent.max_extra_rounds=2"))
    row = grpo_rows(folder)[0]
    assert row["groups"] == row["groups_screened_out"] == 24 and row["groups_trained"] == 0  # 8 tasks x 3 rounds
    assert round(row["gen_tokens"] / row["completion_len"]) == 24 * 4  # replies: screens only
    assert row["tokens_to_loss_frac"] == 0 and row["extra_rounds"] == 2


def test_screening_completes_the_groups_whose_first_samples_differ(tiny_model_dir, tmp_path):
    """The toy reward varies in almost every screen: want (4) tasks get all G samples and are trained on,
    the surplus screens of the first round (8 tasks x 4 samples) are all that is spent beyond them."""
    row = grpo_rows(train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", "eval_every=0",
                                        "agent.screen_size=4")))[0]
    assert row["groups_trained"] == 4 and row["extra_rounds"] == 0
    assert row["groups"] == 8 and row["groups_screened_out"] == 4
    assert 0.6 < row["tokens_to_loss_frac"] < 0.72  # 4 x 8 of 4 x 8 + 4 x 4 replies of equal length


def test_a_screen_of_one_sample_or_a_whole_group_is_refused(tiny_model_dir, tmp_path):
    import pytest

    from reasongym.config import ConfigError

    for bad in ("1", "8"):
        with pytest.raises(ConfigError, match="agent.screen_size"):
            train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", f"agent.screen_size={bad}"))
