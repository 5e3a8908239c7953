"""CI's reward audit: every built-in environment on a small sample of its tasks pays no probe, raises
nothing and stays within the bound (issue 11, "Done when"). A failure prints each failing probe with an
example task and completion, so it can go straight to the owner of that verifier.

Sample size: $REASONGYM_AUDIT_TASKS (default 2). Code envs run with a 2 s sandbox limit (bound 5 s), so
the infinite-loop probes cost seconds, not minutes. Envs whose data file (../shared/data, or
$REASONGYM_DATA) or optional package is absent skip with the reason; Preference-v0 is skipped by the
audit itself (a learned reward model needs its model).

    python -m pytest -q tests/test_audit_builtin.py            # ~3.5 min on a busy 2-core machine
    python -m pytest -q tests/test_audit_builtin.py -k Math-v0
"""

from __future__ import annotations

import os

import pytest

import reasongym  # noqa: F401  - registers the built-in ids
from reasongym.audit import run_audit
from reasongym.audit_probes.runner import detect_kind
from reasongym.evaluation.suites import data_dirs
from reasongym.registry import ENVS

TASKS = int(os.environ.get("REASONGYM_AUDIT_TASKS", "2"))
BUILTIN = sorted(i for i, info in ENVS.items() if info.source == "reasongym")
CODE_KWARGS = {"timeout_s": 2.0}


def kwargs_for(env_id: str) -> dict:
    """Constructor arguments the audit needs beyond the registry's defaults."""
    if env_id == "reasongym/MathFile-v0":
        found = [d / "math500_test.jsonl" for d in data_dirs() if (d / "math500_test.jsonl").exists()]
        if not found:
            pytest.skip("MathFile-v0 is audited on math500_test.jsonl, not found in " + ", ".join(map(str, data_dirs())))
        return {"path": str(found[0]), "fields": "math"}
    if "reward model" in ENVS[env_id].verifier:
        return {}
    if "code" in ENVS[env_id].verifier or "Code" in env_id or env_id.split("/")[1] in ("HumanEval-v0", "MBPP-v0"):
        return dict(CODE_KWARGS)
    return {}


def failures(report) -> str:
    lines = []
    for p in report.probes:
        if p.failed:
            lines.append(f"{p.name}: paid on {p.paid_tasks}/{p.tasks} tasks, {p.errors} raised, "
                         f"{p.over_bound} past {report.bound_s:g} s (max {p.max_s:.2f} s wall, "
                         f"{p.max_cpu_s:.2f} s CPU in the caller's thread)")
            lines += [f"    {e['problem']} ({e['seconds']} s, cpu {e.get('cpu_s')} s): {e['question'][:80]!r} <- "
                      f"{e['completion'][:120]!r} {e.get('error') or ''}" for e in p.examples[:2]]
    return "\n".join(lines)


@pytest.mark.parametrize("env_id", BUILTIN)
def test_builtin_env_survives_the_audit(env_id):
    try:
        report = run_audit(env_id, tasks=TASKS, seed=0, env_kwargs=kwargs_for(env_id))
    except FileNotFoundError as exc:
        pytest.skip(f"{env_id}: data file absent: {exc}")
    except ModuleNotFoundError as exc:
        pytest.skip(f"{env_id}: optional package absent: {exc}")
    if report.skipped:
        assert "reward model" in report.skipped
        return
    assert report.n_tasks == TASKS and report.probes
    assert not report.failed, f"{env_id} ({report.kind} probes):\n{failures(report)}"


def test_kinds_pick_the_right_probes():
    """Procedural math gets the answer probes, procedural code the program probes."""
    math_env, code_env = reasongym.make("math"), reasongym.make("code", **CODE_KWARGS)
    for env, kind in ((math_env, "math"), (code_env, "code")):
        _, info = env.reset(seed=0)
        assert detect_kind(env, info["task"]) == kind


def test_math_v0_lowest_terms_tasks_meet_the_unreduced_fraction_probe():
    """The 2-task sample above may hold no task that asks for lowest terms, so the probe for unreduced
    fractions in wrappings (`\\boxed{((10/2))}`, the hack a GRPO run found) gets its own draw of Math-v0."""
    report = run_audit("reasongym/Math-v0", tasks=12, seed=0, only=["unreduced-fraction"])
    probe = report.probes[0]
    assert probe.calls > 100, f"12 Math-v0 tasks gave the probe {probe.calls} completions: none asks for lowest terms?"
    assert not report.failed, failures(report)
