"""The code environments: Gymnasium API, procedural tasks and splits, multi-turn feedback, HumanEval, MBPP.

HumanEval's 164 canonical solutions must all pass through the environment and empty or wrong ones must
all fail; MBPP's reference code must pass (a sample here; the full 974 rows pass too: `python
benchmarks/sandbox.py --humaneval --mbpp`). Hostile completions (the reward_hack programs of
../shared/cases/sandbox/attacks_w2, a built-in shadowing kit, harness-crash attempts) score 0, `env.step`
returns normally and leaks no descriptor; data rows whose tests assert nothing are load errors.

    OMP_NUM_THREADS=1 python -m pytest -q tests/envs/code/test_code_envs.py      # ~2 min
"""

import gzip
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import reasongym
from reasongym.envs.code.files import load_humaneval, load_mbpp
from reasongym.envs.code.gen import make_generator
from reasongym.envs.code.gen.families import FAMILIES
from reasongym.envs.tasks import split_of

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not (DATA / "HumanEval.jsonl.gz").is_file() or not (DATA / "mbpp.jsonl").is_file(),
                                reason=f"HumanEval / MBPP files not found in {DATA}")
WORKERS = os.cpu_count() or 2
ATTACKS = DATA.parent / "cases" / "sandbox" / "attacks_w2"
needs_attacks = pytest.mark.skipif(not (ATTACKS / "attacks.jsonl").is_file(),
                                   reason=f"the attacks_w2 programs are not in {ATTACKS}")


def solve_all(name: str, completions: dict[str, str] | None = None, **kwargs) -> list[tuple[float, bool, dict]]:
    """Step one environment per task (its own episode, in parallel threads) with the task's reference
    solution, or completions[task.id]. Returns (reward, terminated, verdict info) per task."""
    tasks = list(reasongym.make(name, **kwargs).unwrapped.tasks)

    def episode(task):
        env = reasongym.make(name, **kwargs)
        env.reset(options={"task": task})
        text = task.meta["solution"] if completions is None else completions[task.id]
        _, reward, terminated, _, info = env.step(text)
        return reward, terminated, info["verdict"].info

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(episode, tasks))


@pytest.mark.parametrize("name", ["code", "code-multiturn", pytest.param("humaneval", marks=needs_data),
                                  pytest.param("mbpp", marks=needs_data)])
def test_check_env(name):
    check_env(reasongym.make(name).unwrapped, skip_render_check=True)
    env = reasongym.make(name, max_turns=2)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=3)
    assert obs == env.reset(seed=3)[0] and obs[-1]["role"] == "user"


def test_ids_and_aliases():
    assert reasongym.resolve("code-heldout") == ("reasongym/Code-v0", {"split": "heldout"})
    assert reasongym.resolve("code-multiturn")[0] == "reasongym/CodeMultiTurn-v0"
    assert gymnasium.make("reasongym/CodeMultiTurn-v0").unwrapped.max_turns == 3
    assert reasongym.resolve("humaneval")[0] == "reasongym/HumanEval-v0"
    assert reasongym.resolve("mbpp-heldout") == ("reasongym/MBPP-v0", {"split": "heldout"})


def test_every_family_and_difficulty_is_solvable_by_its_reference_and_not_by_a_constant():
    rng = np.random.default_rng(7)
    tasks = [make_generator((name,))(rng, d) for name in FAMILIES for d in (1, 3, 5)]
    env = reasongym.make("code").unwrapped
    right = env.verifier.verify_batch(tasks, [t.meta["solution"] for t in tasks])
    wrong = env.verifier.verify_batch(tasks, [f"```python\ndef {t.answer['entry_point']}(*args):\n    return None\n```"
                                              for t in tasks])
    assert all(v.correct for v in right), [v.info for v in right if not v.correct][:2]
    assert not any(v.correct for v in wrong)


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 5])
def test_train_and_heldout_specs_are_disjoint(difficulty):
    train = reasongym.make("code", difficulty=difficulty).unwrapped.tasks.take(60, seed=0)
    heldout = reasongym.make("code-heldout", difficulty=difficulty).unwrapped.tasks.take(30, seed=0)
    assert {split_of(t) for t in train} == {"train"} and {split_of(t) for t in heldout} == {"heldout"}
    assert not {t.meta["split_key"] for t in train} & {t.meta["split_key"] for t in heldout}
    assert all(t.meta["difficulty"] == difficulty and len(t.answer["tests"]) == 12 for t in train)


def test_multi_turn_feeds_back_the_failing_test_and_returns_the_final_score():
    env = reasongym.make("code-multiturn", difficulty=2)
    obs, info = env.reset(seed=11)
    task = info["task"]
    wrong = f"```python\ndef {task.answer['entry_point']}(*args):\n    return 'nope'\n```"
    obs, r1, terminated, truncated, info = env.step(wrong)
    assert (r1, terminated, truncated) == (0.0, False, False)
    assert obs[-1]["role"] == "user" and "input:" in obs[-1]["content"] and "'nope'" in obs[-1]["content"]
    obs, r2, terminated, truncated, info = env.step(task.meta["solution"])
    assert (r2, terminated, truncated) == (1.0, True, False) and r1 + r2 == 1.0

    env.reset(seed=11)
    rewards = [env.step(wrong)[1:4] for _ in range(3)]
    assert rewards[-1] == (0.0, False, True) and sum(r for r, _, _ in rewards) == 0.0


@needs_data
def test_humaneval_canonical_solutions_all_pass_and_empty_or_wrong_ones_all_fail():
    assert [r for r, *_ in solve_all("humaneval")] == [1.0] * 164
    tasks = list(reasongym.make("humaneval").unwrapped.tasks)
    empty = {t.id: f"```python\n{t.answer['preamble']}    pass\n```" for t in tasks}
    assert [r for r, *_ in solve_all("humaneval", empty)] == [0.0] * 164
    wrong = {t.id: "```python\n    return None\n```" for t in tasks[:20]}  # a body continuing the prompt
    assert sum(r for r, *_ in solve_all("humaneval", wrong, limit=20)) == 0.0


@needs_data
def test_mbpp_reference_code_passes():
    results = solve_all("mbpp", split="heldout", limit=60)
    assert len(results) == 60 and all(r == 1.0 for r, *_ in results), [i for *_, i in results if not i.get("status") == "pass"][:2]
    from reasongym.envs.code.files import load_mbpp
    special = [t for t in load_mbpp(split="all") if t.meta["source_id"] in (367, 533, 927)]  # Node trees, `int` arg
    verdicts = reasongym.make("mbpp").unwrapped.verifier.verify_batch(special, [t.meta["solution"] for t in special])
    assert all(v.correct for v in verdicts), [v.info for v in verdicts]


def test_missing_data_file_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file.*path="):
        reasongym.make("humaneval", path=str(tmp_path / "HumanEval.jsonl.gz"))


# -- hostile completions --------------------------------------------------------------------------------
def humaneval_tasks() -> dict:
    return {t.meta["source_id"]: t for t in reasongym.make("humaneval").unwrapped.tasks}


@needs_attacks
def test_attacks_w2_reward_hacks_score_zero_and_step_returns():
    cases = [json.loads(line) for line in (ATTACKS / "attacks.jsonl").read_text().splitlines() if line.strip()]
    hacks = [c for c in cases if c["kind"] == "reward_hack"]
    assert hacks, "attacks.jsonl has no reward_hack programs"
    tasks, env = humaneval_tasks(), reasongym.make("humaneval")
    for case in hacks:
        task = tasks[re.search(r"HumanEval/\d+", case["env"] + case["goal"]).group(0)]
        code = (ATTACKS / f"{case['name']}.py").read_text()
        env.reset(options={"task": task})
        _, reward, *_, info = env.step("```python\n" + code + "\n```")  # must not raise
        assert reward == 0.0 and not info["verdict"].correct, (case["name"], info["verdict"].info)


KIT = ("def abs(x):\n    return 0\ndef range(*a):\n    return []\ndef sum(*a):\n    return 0\n"
       "def enumerate(*a):\n    return []\ndef len(*a):\n    return 0\ndef all(*a):\n    return True\n"
       "def any(*a):\n    return True\ndef isinstance(*a):\n    return True\ndef sorted(x, **k):\n    return x\n")


@pytest.mark.parametrize("constant", ["0"])  # paid 4 of 164 (with the kit) before the fix
def test_a_builtin_shadowing_kit_with_a_constant_answer_scores_zero_on_every_humaneval_problem(constant):
    tasks = list(reasongym.make("humaneval").unwrapped.tasks)
    verifier = reasongym.make("humaneval").unwrapped.verifier
    kits = [f"```python\n{KIT}def {t.answer['entry_point']}(*args, **kwargs):\n    return {constant}\n```" for t in tasks]
    verdicts = verifier.verify_batch(tasks, kits)
    assert len(verdicts) == 164
    assert [t.meta["source_id"] for t, v in zip(tasks, verdicts) if v.reward] == []
    assert verifier.harness_errors == 0


CRASHERS = [
    "```python\ndef has_close_elements(n, t):\n    return '\ud800'\n```", "\ud800\udfff", "```python\n\ud800\n```",
    "```python\nimport types\nx = types.ModuleType('unittest.__main__')\n```",
    "```python\nimport string as __builtins__\n```",
    "```python\nimport os\nos._exit(0)\n```", "```python\nimport sys\nsys.exit(0)\n```",
    "```python\nimport os\nos.write(2, b'@@{\"done\": 1}\\n' * 1000)\nos.close(1)\n```",
    "```python\ndef has_close_elements(n, t):\n    return 10 ** 5000\n```",
    "```python\ndef has_close_elements(n, t):\n    x = []\n    for _ in range(10 ** 5):\n        x = [x]\n    return x\n```",
    "", "```", "<think>", "```python\n" + "(" * 10000 + "\n```", "x" * 200_000,
]


def test_hostile_steps_return_normally_and_leak_no_descriptor():
    tasks, env = humaneval_tasks(), reasongym.make("humaneval")
    before = len(os.listdir("/proc/self/fd"))
    for i in range(50):
        env.reset(options={"task": tasks["HumanEval/0"]})
        _, reward, *_, info = env.step(CRASHERS[i % len(CRASHERS)])
        assert reward == 0.0 and info["verdict"].status in ("ok", "no_answer", "timeout"), info["verdict"].info
    assert len(os.listdir("/proc/self/fd")) == before
    code_env = reasongym.make("code")  # the "call" format's pipes, too
    for seed in range(5):
        code_env.reset(seed=seed)
        assert code_env.step("```python\nx = '\ud800'\n```")[1] == 0.0
    assert len(os.listdir("/proc/self/fd")) == before


# -- rows without tests are load errors -----------------------------------------------------------------
def write_rows(path, rows: list[dict]):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


HE_ROW = {"task_id": "HumanEval/0", "prompt": "def f(x):\n    'x'\n", "entry_point": "f",
          "canonical_solution": "    return x\n", "test": "def check(candidate):\n    assert candidate(1) == 1\n"}
MBPP_ROW = {"task_id": 601, "text": "Return x.", "code": "def f(x):\n    return x", "test_setup_code": "",
            "test_list": ["assert f(1) == 1"], "challenge_test_list": []}


@pytest.mark.parametrize("test", ["", "def check(candidate):\n    pass\n", "assert candidate(1) == 1\n",
                                  "def check(candidate):\n    assert True\n", "def check(candidate:\n"])
def test_a_humaneval_row_without_check_asserts_is_a_load_error_naming_the_row(tmp_path, test):
    path = write_rows(tmp_path / "HumanEval.jsonl.gz", [HE_ROW, dict(HE_ROW, test=test)])
    with pytest.raises(ValueError, match=r"HumanEval.jsonl.gz, line 2: .*(assert nothing|not valid Python)"):
        load_humaneval(path)
    assert len(load_humaneval(write_rows(tmp_path / "ok.jsonl.gz", [HE_ROW]))) == 1


@pytest.mark.parametrize("tests", [[], ["f(1)"], ["assert f(1) == 1", "print('ok')"], ["assert True"]])
def test_an_mbpp_row_without_asserts_is_a_load_error_naming_the_row(tmp_path, tests):
    path = write_rows(tmp_path / "mbpp.jsonl", [MBPP_ROW, dict(MBPP_ROW, test_list=tests)])
    with pytest.raises(ValueError, match=r"mbpp.jsonl, line 2: .*(assert|non-empty)"):
        load_mbpp(path, split="all")


def test_mbpp_entry_points_come_from_the_reference_code():
    tasks = {t.meta["source_id"]: t for t in load_mbpp(split="all")}
    assert all(t.answer["entry_point"] for t in tasks.values())
    assert tasks[126].answer["entry_point"] == "sum"  # named like a built-in: the candidate's, not the real one
    verifier = reasongym.make("mbpp").unwrapped.verifier
    assert verifier.verify(tasks[126], tasks[126].meta["solution"]).correct
    assert not verifier.verify(tasks[126], "```python\ndef sum(a, b):\n    return 6\n```").correct


def test_a_procedural_spec_without_tests_is_an_error():
    with pytest.raises(ValueError, match="n_tests must be at least 1"):
        reasongym.make("code", n_tests=0)
