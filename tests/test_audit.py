r"""The reward audit (`python -m reasongym.audit`): it flags a broken reward, passes a sound one, counts
labelled cases, scores through a `reward_fn`, and exits 1/0 from the command line.

Three toy envs are registered here: `audit-test/Substring-v0` pays when the gold appears anywhere in
the completion (the classic broken verifier), `audit-test/Strict-v0` pays only for exactly one closed
`\boxed{gold}` outside think blocks and code fences, found by linear scans (sound, and fast on 1 MB), and
`audit-test/NaiveCode-v0` runs a solution and its asserts in one plain subprocess and pays on exit status 0
(the weak code harness the code probes exist for).

    python -m pytest -q tests/test_audit.py          # ~1 min on a busy 2-core machine
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasongym.audit import run_audit
from reasongym.audit_probes.cases import CasesError
from reasongym.core import Task, Verdict, Verifier
from reasongym.envs.base import TextEnv
from reasongym.envs.tasks import TaskList
from reasongym.registry import ENVS, register

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [("What is 17 + 25?", "42"), ("Compute 6 \u00d7 7 - 3.", "39"), ("What is 81 \u00f7 9 + 2?", "11")]
TASKS = [Task.create(f"{q}\nPut the final answer in \\boxed{{}}.", a) for q, a in QUESTIONS]


def outside(text: str, start: str, end: str) -> str:
    """The text outside start...end blocks, by linear scans; an unclosed block hides the rest."""
    out, i = [], 0
    while True:
        j = text.find(start, i)
        if j < 0:
            return "".join(out + [text[i:]])
        out.append(text[i:j])
        k = text.find(end, j + len(start))
        if k < 0:
            return "".join(out)
        i = k + len(end)


def strict_answer(text: str) -> str | None:
    """The content of the one closed box outside think and code, or None (no box, two boxes, unclosed)."""
    text = outside(outside(text, "<think>", "</think>"), "```", "```")
    if text.count("\\boxed{") != 1:
        return None
    i, depth = text.index("\\boxed{") + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip()
    return None


class StrictVerifier(Verifier):
    def verify(self, task: Task, completion: str) -> Verdict:
        got = strict_answer(completion)
        ok = got == task.answer
        return Verdict(float(ok), ok, {"reason": "exact" if ok else "not exact"}, answer=got)


class SubstringVerifier(Verifier):
    def verify(self, task: Task, completion: str) -> Verdict:
        ok = task.answer in completion
        return Verdict(float(ok), ok, {"reason": "substring"})


class StrictEnv(TextEnv):
    def __init__(self, **kwargs):
        super().__init__(TaskList(TASKS, name="audit toy"), StrictVerifier(), **kwargs)


class SubstringEnv(TextEnv):
    def __init__(self, **kwargs):
        super().__init__(TaskList(TASKS, name="audit toy"), SubstringVerifier(), **kwargs)


class NaiveCodeVerifier(Verifier):
    """The classic weak harness: solution and asserts in one process, "exit status 0" means passed."""

    def verify(self, task: Task, completion: str) -> Verdict:
        from reasongym.verifiers.code.verifier import extract_code

        program = (extract_code(completion) or "") + "\n" + "\n".join(task.answer["tests"])
        try:
            run = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=20,
                                 cwd=os.environ.get("TMPDIR", "/tmp"))
        except subprocess.TimeoutExpired:
            return Verdict(0.0, False, {"reason": "timeout"})
        return Verdict(float(run.returncode == 0), run.returncode == 0, {"reason": f"exit {run.returncode}"})


CODE_TASKS = [Task.create("Write `add_two(a, b)`: the sum, within 1e-9. Answer in a ```python block.",
                          {"format": "assert", "entry_point": "add_two",
                           "tests": ["assert abs(add_two(1, 2) - 3) < 1e-9", "assert abs(add_two(2.5, 2) - 4.5) < 1e-9"]})]


class NaiveCodeEnv(TextEnv):
    def __init__(self, **kwargs):
        super().__init__(TaskList(CODE_TASKS, name="naive code"), NaiveCodeVerifier(), **kwargs)


for _id, _cls in (("audit-test/Strict-v0", StrictEnv), ("audit-test/Substring-v0", SubstringEnv),
                  ("audit-test/NaiveCode-v0", NaiveCodeEnv)):
    if _id not in ENVS:
        register(_id, entry_point=f"tests.test_audit:{_cls.__name__}", source="tests")


def test_broken_reward_is_flagged():
    report = run_audit("audit-test/Substring-v0", tasks=3, seed=0)
    assert report.kind == "math" and report.n_tasks == 3
    paid = {p.name for p in report.paid()}
    assert {"hedge-list", "unclosed-box", "hidden-box", "hedge-prose", "junk-in-box"} <= paid
    assert report.failed and report.exit_code == 1
    example = next(p for p in report.probes if p.name == "hedge-list").examples[0]
    assert example["problem"] == "paid" and example["reward"] == 1.0


def test_sound_reward_passes():
    report = run_audit("audit-test/Strict-v0", tasks=3, seed=0, bound_s=10.0)  # 1 MB probes on a busy machine
    bad = [(p.name, p.examples[:1]) for p in report.probes if p.failed]
    assert not bad and report.exit_code == 0
    assert len(report.probes) >= 15 and all(p.tasks == 3 for p in report.probes)
    assert sum(p.calls for p in report.probes) > 500
    assert all(p.max_cpu_s < 2.0 for p in report.probes)  # linear scans: well under the 2 s bound in CPU time


def test_reward_fn_hook_scores_through_another_path():
    """The tasks come from the sound env, the score from an adapter-like function: a broken one is caught."""
    report = run_audit("audit-test/Strict-v0", tasks=2, only=["hedge"],
                       reward_fn=lambda task, text: float(task.answer in text))
    assert report.reward_path == "reward_fn" and report.failed
    clean = run_audit("audit-test/Strict-v0", tasks=2, only=["hedge"],
                      reward_fn=lambda task, text: float(strict_answer(text) == task.answer))
    assert not clean.failed


def test_via_an_adapter_scores_through_reasongym_integrations():
    """via=common: the shared scoring path of the trainer adapters (EnvScorer), the same probes."""
    pytest.importorskip("reasongym.integrations.common")
    broken = run_audit("audit-test/Substring-v0", tasks=2, only=["hedge"], via="common")
    assert broken.reward_path == "integrations.common.score" and broken.failed
    assert not run_audit("audit-test/Strict-v0", tasks=2, only=["hedge"], via="common").failed
    with pytest.raises(ValueError, match="via='nope'"):
        run_audit("audit-test/Strict-v0", tasks=1, via="nope")


def test_raising_slow_and_hanging_rewards_are_failures(monkeypatch):
    import time

    from reasongym.audit_probes import runner

    def raises(task, text):
        raise RuntimeError("grader down")

    report = run_audit("audit-test/Strict-v0", tasks=1, only=["empty"], reward_fn=raises)
    assert report.failed and report.probes[0].errors == 3 and "grader down" in report.probes[0].examples[0]["error"]
    slow = run_audit("audit-test/Strict-v0", tasks=1, only=["empty"], bound_s=0.05,
                     reward_fn=lambda task, text: time.sleep(0.1) or 0.0)
    assert slow.failed and slow.probes[0].over_bound == 3 and slow.probes[0].errors == 0
    built = []
    scorer = runner.Scorer(lambda: built.append(1) or StrictEnv(), lambda task, text: time.sleep(1) or 0.0, hard_s=0.2)
    out = scorer.score(TASKS[0], "x")  # hung past 0.2 s, then drained: finished unmeasured, env kept
    assert out["error"].startswith("HUNG") and out["seconds"] < 0.5 and len(built) == 1
    monkeypatch.setattr(runner, "DRAIN_S", 0.1)
    out = scorer.score(TASKS[0], "x")
    assert "abandoned" in out["error"] and len(built) == 2  # the env was rebuilt


def test_cases_are_counted(tmp_path):
    rows = [("42", "\\boxed{42}", True, "a"), ("42", "\\boxed{41}", False, "a"),
            ("42", "\\boxed{41} or 42", False, "b"), ("42", "\\boxed{ 4 2 }", True, "b")]
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps({"gold": g, "pred": p, "expected": e, "group": grp}) + "\n"
                            for g, p, e, grp in rows))
    strict = run_audit("audit-test/Strict-v0", tasks=0, cases=str(path)).cases
    assert (strict.total.tp, strict.total.tn, strict.total.fp, strict.total.fn) == (1, 2, 0, 1)
    assert (strict.groups["b"].fn, strict.groups["a"].agreement) == (1, 1.0)
    assert strict.by_box["boxed preds"].n == 4 and "unboxed preds" not in strict.by_box
    broken = run_audit("audit-test/Substring-v0", tasks=0, cases=str(path))
    assert (broken.cases.total.fp, broken.cases.groups["b"].fp) == (1, 1) and broken.exit_code == 1
    path.write_text('{"gold": "1", "pred": "1"}\n')
    with pytest.raises(CasesError, match=r"cases.jsonl:1: .*boolean 'expected'"):
        run_audit("audit-test/Strict-v0", tasks=0, cases=str(path))


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "reasongym.audit", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_exit_codes_and_json(tmp_path):
    out = tmp_path / "broken.json"
    broken = cli("env=tests.test_audit:audit-test/Substring-v0", "tasks=2", "only=[hedge,truncated]", f"out={out}")
    assert broken.returncode == 1, broken.stderr[-2000:]
    assert "FAIL" in broken.stdout and "hedge-list" in broken.stdout
    data = json.loads(out.read_text())
    assert data["exit_code"] == 1 and any(p["paid_tasks"] for p in data["probes"])
    sound = cli("env=tests.test_audit:audit-test/Strict-v0", "tasks=2", "only=[hedge,truncated]")
    assert sound.returncode == 0, sound.stdout[-3000:]
    assert "PASS" in sound.stdout
    typo = cli("env=mathh")
    assert typo.returncode == 2 and "Did you mean" in typo.stderr


def test_learned_reward_without_model_is_skipped():
    report = run_audit("preference", tasks=2)
    assert report.skipped and "env.rm=" in report.skipped and report.exit_code == 0


def test_a_naive_code_harness_is_flagged():
    """Solution and tests in one process: an early exit, a shadowed abs and an always-equal value all pass."""
    report = run_audit("audit-test/NaiveCode-v0", tasks=1, only=["exit", "shadow", "always_equal", "control"],
                       bound_s=30.0)
    assert report.kind == "code"
    paid = {p.name for p in report.paid()}
    assert {"early-exit", "shadow-builtins", "always-equal"} <= paid and "constant-return" not in paid


def test_code_probes_are_programs_that_define_the_asked_function():
    """Every code probe variant is one fenced block that parses and defines the entry point the prompt names
    (an MBPP-style prompt names it only in its asserts)."""
    import ast

    from reasongym.audit_probes.base import entry_point
    from reasongym.audit_probes.programs import CODE
    from reasongym.verifiers.code.verifier import extract_code

    task = Task.create("Write a function to add two numbers.\nassert add_two(1, 2) == 3\n", {"format": "assert"})
    assert entry_point(task) == "add_two"
    for probe in CODE:
        for variant in probe.variants(task):
            tree = ast.parse(extract_code(variant.text))
            assert "add_two" in {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, probe.name


def test_probes_never_read_the_gold():
    """Two tasks with the same prompt and different gold answers get the same probes."""
    from reasongym.audit_probes.runner import PROBES

    a, b = (Task.create(TASKS[0].prompt, gold) for gold in ("42", "7"))
    for probe in PROBES:
        assert [v.text for v in probe.variants(a)] == [v.text for v in probe.variants(b)], probe.name


FRACTION_TASKS = [Task.create("Compute 1/9 + 5/9. Give the answer as a reduced fraction.\nPut the final answer in "
                              "\\boxed{}.", "2/3", form="fraction"),
                  Task.create("Compute 3/4 - 1/4. Give the answer as a reduced fraction.\nPut the final answer in "
                              "\\boxed{}.", "1/2", form="fraction")]


class FractionEnv(TextEnv):
    """Tasks that want lowest terms, graded by the real math verifier (the reduced-form check included)."""

    def __init__(self, **kwargs):
        from reasongym.verifiers.math import MathVerifier

        super().__init__(TaskList(FRACTION_TASKS, name="fractions"), MathVerifier(), **kwargs)


if "audit-test/Fraction-v0" not in ENVS:
    register("audit-test/Fraction-v0", entry_point="tests.test_audit:FractionEnv", source="tests")


def equal_value_only(task: Task, text: str) -> float:
    """A reward that checks the value and forgets the form: `(6/9)` pays for 2/3."""
    from fractions import Fraction

    got = strict_answer(text) or ""
    got = got.replace("\\left(", "(").replace("\\right)", ")").strip("{}() +").removeprefix("x = (")
    try:
        return float(Fraction(got.strip("()")) == Fraction(task.answer))
    except (ValueError, ZeroDivisionError):
        return 0.0


def test_unreduced_fractions_are_probed_in_every_wrapping():
    """A value-only reward pays the unreduced guesses; the real verifier pays none of the 20 wrappings."""
    broken = run_audit("audit-test/Fraction-v0", tasks=2, only=["unreduced-fraction"], reward_fn=equal_value_only)
    probe = broken.probes[0]
    assert probe.name == "unreduced-fraction" and probe.paid_tasks == 2 and broken.failed
    sound = run_audit("audit-test/Fraction-v0", tasks=2, only=["unreduced-fraction"])
    assert sound.probes[0].calls >= 2 * 20 and not sound.failed, sound.probes[0].examples[:2]
    # tasks that do not ask for lowest terms get no such probe (there an unreduced value is an answer)
    assert run_audit("audit-test/Strict-v0", tasks=1, only=["unreduced-fraction"]).probes[0].calls == 0
