"""The pass-rate curriculum (reasongym/agents/curriculum.py) and the reset options it uses.

    python -m pytest -q tests/agents/test_curriculum.py
"""

from collections import Counter

import gymnasium as gym
import pytest

import reasongym  # noqa: F401  (registers the environments)
from reasongym.agents.curriculum import Curriculum
from reasongym.envs.tasks import split_of


def test_math_reset_options_choose_kind_and_difficulty_within_the_split():
    for split in ("train", "heldout"):
        env = gym.make("reasongym/Math-v0", split=split)
        for d in (1, 2, 3):
            _, info = env.reset(seed=d, options={"difficulty": d, "kind": "linear"})
            task = info["task"]
            assert task.meta["kind"] == "linear" and task.meta["difficulty"] == d and split_of(task) == split
    a = env.reset(seed=5, options={"difficulty": 2})[1]["task"]
    assert a == env.reset(seed=5, options={"difficulty": 2})[1]["task"]  # seeded like a plain reset
    with pytest.raises(ValueError, match="not one of this env's kinds"):
        gym.make("reasongym/Math-v0", kinds=["arithmetic"]).reset(seed=0, options={"kind": "roots"})


def test_cells_near_the_target_pass_rate_are_asked_for_most():
    env = gym.make("reasongym/Math-v0", kinds=["arithmetic", "linear"])
    cur = Curriculum(env, target=0.5, max_difficulty=2)
    first = Counter(cur.key(t) for t in cur.pick(env, list(range(200))))
    assert len(first) == 4  # unseen cells count as being at the target: all are tried
    for _ in range(5):  # arithmetic d1 at 1/2, linear d1 solved, everything at d2 failed
        tasks = [env.reset(seed=0, options={"kind": k, "difficulty": d})[1]["task"]
                 for k in ("arithmetic", "linear") for d in (1, 2)]
        cur.update(tasks, [[1, 0] * 4, [0] * 8, [1] * 8, [0] * 8])  # (arithmetic, 1), (arithmetic, 2), ...
    assert cur.pass_rates()["arithmetic/d1"] == pytest.approx(0.5)
    picked = Counter(cur.key(t) for t in cur.pick(env, list(range(200))))
    assert picked["arithmetic/d1"] > 0.6 * 200 and all(picked[k] < 0.15 * 200 for k in picked if k != "arithmetic/d1")
    again = Curriculum(env, target=0.5, max_difficulty=2)
    again.load_state_dict(cur.state_dict())  # a resumed run picks the same tasks
    assert again.pick(env, [7, 8, 9]) == cur.pick(env, [7, 8, 9])


def test_a_cell_whose_groups_have_signal_beats_one_at_the_same_pass_rate_whose_groups_do_not():
    env = gym.make("reasongym/Math-v0", kinds=["arithmetic", "linear"])
    cur = Curriculum(env, target=0.5, max_difficulty=1, by_signal=True)
    formula = Curriculum(env, target=0.5, max_difficulty=1)  # the default: the pass rate alone
    arithmetic, linear = (env.reset(seed=0, options={"kind": k, "difficulty": 1})[1]["task"] for k in ("arithmetic", "linear"))
    for step in range(6):  # both at a pass rate of 1/4; arithmetic's tasks are always right or always wrong
        for c in (cur, formula):
            c.update([arithmetic, linear], [[1] * 8 if step % 4 == 0 else [0] * 8, [1, 0, 0, 0] * 2])
    assert cur.pass_rates()["arithmetic/d1"] == pytest.approx(cur.pass_rates()["linear/d1"], abs=0.1)
    assert cur.signal_rates() == {"arithmetic/d1": 0.0, "linear/d1": 1.0}
    picked = Counter(cur.key(t) for t in cur.pick(env, list(range(300))))
    assert picked["linear/d1"] > 0.8 * 300
    by_rate = Counter(formula.key(t) for t in formula.pick(env, list(range(300))))
    assert 0.3 * 300 < by_rate["linear/d1"] < 0.7 * 300  # from the pass rate alone: about half each
    old = Curriculum(env, target=0.5, max_difficulty=1, by_signal=True)  # a checkpoint from before signals were counted
    old.load_state_dict({"stats": {"linear/d1": [1.0, 4.0]}})
    assert old.signal_rates()["linear/d1"] == pytest.approx(1 - 0.25 ** 8 - 0.75 ** 8)


def test_max_difficulty_0_stays_within_the_environments_difficulty():
    for difficulty, levels in ((1, {1}), (3, {1, 2, 3})):
        env = gym.make("reasongym/Math-v0", difficulty=difficulty, kinds=["linear"])
        cur = Curriculum(env, target=0.5, max_difficulty=0)
        assert {t.meta["difficulty"] for t in cur.pick(env, list(range(60)))} == levels


def test_file_envs_use_per_task_history():
    from tests.fixtures.toy_env import TASKS  # a TaskList env: no kinds, no difficulty option

    env = gym.make("reasongym-test/Lowercase-v0")
    cur = Curriculum(env)
    assert not cur.by_cell
    for _ in range(4):
        cur.update(TASKS, [[1] * 8 if i < 6 else [1, 0] * 4 for i in range(len(TASKS))])  # 6 solved tasks
    picked = Counter(t.id for t in cur.pick(env, list(range(300))))
    useful = sum(picked[t.id] for t in TASKS[6:])
    assert useful > 0.35 * 300  # 2 of 8 tasks: a quarter of the draws without the curriculum


def test_the_difficulty_mix_of_a_step():
    env = gym.make("reasongym/Math-v0")
    tasks = [env.reset(seed=s, options={"difficulty": d, "kind": k})[1]["task"]
             for s, (d, k) in enumerate([(1, "linear"), (1, "word"), (2, "linear"), (3, "roots")])]
    assert Curriculum.mix(tasks) == {"difficulty_mean": 1.75, "difficulty_mix_d1": 0.5,
                                     "difficulty_mix_d2": 0.25, "difficulty_mix_d3": 0.25,
                                     "kind_mix_linear": 0.5, "kind_mix_roots": 0.25, "kind_mix_word": 0.25}
    assert Curriculum.mix([]) == {}
