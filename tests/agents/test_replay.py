"""Signal replay (reasongym/agents/replay.py): tasks whose last group had signal are drawn again, at most
max_uses times, newest first, and the buffer survives a checkpoint.

    python -m pytest -q tests/agents/test_replay.py
"""

import json

import pytest

from reasongym.agents.replay import SignalReplay
from reasongym.config import ConfigError
from reasongym.core import Task
from reasongym.runs.log import read_jsonl
from reasongym.train import main as train_main
from tests.test_trainer import toy_args

TASKS = [Task.create(f"q{i}", str(i), kind="arithmetic", difficulty=1) for i in range(6)]


def test_tasks_with_signal_come_back_newest_first_until_their_uses_run_out():
    replay = SignalReplay(max_uses=2)
    assert replay.take(3) == []  # empty: nothing to replay
    replay.update(TASKS[:4], [True, False, True, True])
    assert [t.id for t in replay.take(2)] == [TASKS[0].id, TASKS[2].id]
    assert replay.replayed(TASKS[0]) and not replay.replayed(TASKS[3])
    replay.update([TASKS[0], TASKS[2], TASKS[5]], [True, False, True])  # 2 lost its signal: not back
    assert [t.id for t, _ in replay.entries] == [TASKS[0].id, TASKS[5].id, TASKS[3].id]
    for _ in range(2):  # task 0 has been drawn once; one more use, then it is spent
        got = replay.take(1)
        replay.update(got, [True])
    assert TASKS[0].id not in {t.id for t, _ in replay.entries}


def test_each_process_gets_its_share_and_the_state_round_trips_through_json():
    replay = SignalReplay(max_uses=3, capacity=4)
    replay.update(TASKS, [True] * 6)
    assert len(replay) == 4  # capacity: the first four of the newest step
    state = json.loads(json.dumps(replay.state_dict()))
    other = SignalReplay(max_uses=3)
    other.load_state_dict(state)
    assert [(t.id, t.answer, t.meta) for t, _ in other.entries] == [(t.id, t.answer, t.meta) for t in TASKS[:4]]
    assert [t.id for t in replay.take(4, rank=1, world=2)] == [TASKS[1].id, TASKS[3].id]
    assert [t.id for t in other.take(4, rank=0, world=2)] == [TASKS[0].id, TASKS[2].id]


def test_a_training_step_replays_the_tasks_whose_groups_had_signal(tiny_model_dir, tmp_path):
    """The toy reward varies in almost every group, so from step 2 on two of the four tasks of a step are
    tasks of the step before, drawn again."""
    folder = train_main(toy_args(tiny_model_dir, tmp_path, "steps=3", "eval_every=0", "agent.replay=2"))
    rows = [r for r in read_jsonl(folder / "metrics.jsonl") if r.get("phase") == "grpo" and "reward" in r]
    assert rows[0]["groups_replayed"] == 0 and all(r["groups_replayed"] >= 2 for r in rows[1:])
    assert all(0.0 <= r["replay_signal_frac"] <= 1.0 for r in rows[1:])
    ids = [r["id"] for r in read_jsonl(folder / "train_tasks.jsonl") if r["phase"] == "grpo"]
    assert set(ids[4:6]) <= set(ids[:4])  # step 2 opens with two of step 1's tasks
    off = [r for r in read_jsonl(train_main(toy_args(tiny_model_dir, tmp_path / "off", "steps=1", "eval_every=0",
                                                     "agent.replay=0")) / "metrics.jsonl") if "reward" in r]
    assert "groups_replayed" not in off[0]


def test_more_replays_than_tasks_per_step_is_refused(tiny_model_dir, tmp_path):
    with pytest.raises(ConfigError, match="agent.replay"):
        train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", "agent.replay=5"))
    with pytest.raises(ConfigError, match="agent.replay_max_uses"):
        train_main(toy_args(tiny_model_dir, tmp_path, "steps=1", "agent.replay=1", "agent.replay_max_uses=0"))
