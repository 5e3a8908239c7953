"""Run the probes against an environment's reward: `run_audit(env, tasks=N) -> AuditReport`.

Tasks come from the env itself (`env.reset(seed=seed + i)`, distinct ids). Each probe variant is scored
through the real reward path: `env.reset(options={"task": task})` then `env.step(text)` (the verifier,
reward components and any plugin code), timed, in a worker thread so a call that never returns is
recorded (and the env rebuilt) instead of hanging the audit. A variant is *paid* when the step's
reward is > 0 or its verdict says correct.

Another reward path (a TRL / verl / OpenRLHF adapter) plugs in as `reward_fn(task, completion) -> float`:
the tasks still come from the env, the score from the function (paid when > 0). `via="trl"` (verl,
openrlhf, prime_verifiers, common) builds that function from `reasongym.integrations.<via>.score`.
Before anything is timed, four warm-up calls per task (a number, an expression, a tuple, an empty program)
start the reward path's worker pools (a sympy worker starts in ~2-3 s) and sandboxes, as a trainer's
first steps would: the bound is about what a completion does, not a process's cold start.

    from reasongym.audit import run_audit
    report = run_audit("math", tasks=5)
    report.failed, report.exit_code, report.to_json()
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium

from reasongym.audit_probes.answers import ANSWER
from reasongym.audit_probes.base import Probe, Variant, same_claim
from reasongym.audit_probes.generic import GENERIC
from reasongym.audit_probes.programs import CODE
from reasongym.audit_probes.result import AuditReport, ProbeResult
from reasongym.core import Task
from reasongym.registry import resolve

PROBES: list[Probe] = GENERIC + ANSWER + CODE
ANSWER_BOUND_S = 2.0
DRAIN_S = 60.0  # after a hung call, how long to wait for it before abandoning its thread
WARM_UP = ("The answer is \\boxed{0}.", "The answer is \\boxed{x + 1}.", "The answer is \\boxed{(1, 2)}.",
           "```python\npass\n```")  # a number, an expression, a tuple, a program: each path's pool starts
RewardFn = Callable[[Task, str], float]


def detect_kind(env: gymnasium.Env, task: Task) -> str:
    """"code" for envs graded by tests, "math" for boxed-answer envs, else "text" (generic probes only)."""
    verifier = getattr(env.unwrapped, "verifier", None)
    names = {c.__name__ for c in type(verifier).__mro__} if verifier is not None else set()
    if "CodeVerifier" in names or (isinstance(task.answer, dict) and "tests" in task.answer):
        return "code"
    if "MathVerifier" in names or "\\boxed" in task.question:
        return "math"
    return "text"


def default_bound(env: gymnasium.Env, kind: str) -> float:
    """2 s for answer envs; for code the sandbox's time limit plus a margin (start-up, two sandboxes)."""
    limits = getattr(getattr(env.unwrapped, "verifier", None), "limits", None)
    if kind == "code" and limits is not None:
        return float(limits.timeout_s) * 1.5 + 2.0
    return ANSWER_BOUND_S


def pick_tasks(env: gymnasium.Env, ids: Sequence[str]) -> list[Task]:
    """The tasks of a finite task set whose id or meta source_id is in `ids` (e.g. HumanEval/4)."""
    source = getattr(env.unwrapped, "tasks", None)
    if source is None or not hasattr(source, "__len__"):
        raise ValueError(f"task_ids={list(ids)} needs an env with a finite task list (env.unwrapped.tasks)")
    chosen = [t for t in source if t.id in ids or str(t.meta.get("source_id")) in ids]
    missing = set(ids) - {t.id for t in chosen} - {str(t.meta.get("source_id")) for t in chosen}
    if missing:
        raise ValueError(f"task_ids: no task with id or source_id {sorted(missing)} in {getattr(source, 'name', 'the env')}")
    return chosen


def sample_tasks(env: gymnasium.Env, n: int, seed: int) -> list[Task]:
    """n distinct tasks drawn by the env's own seeded reset (fewer if the env has fewer)."""
    found: dict[str, Task] = {}
    for i in range(n * 20):
        _, info = env.reset(seed=seed + i)
        task = info.get("task") or getattr(env.unwrapped, "task", None)
        if not isinstance(task, Task):
            raise TypeError("the audit needs env.reset() to expose the task (info['task'] or env.unwrapped.task, "
                            "a reasongym.core.Task); build the env on reasongym.envs.base.TextEnv")
        found.setdefault(task.id, task)
        if len(found) == n:
            break
    return list(found.values())


class Scorer:
    """Scores one completion with a hard cap: a call still running after `hard_s` is recorded as hung,
    then given DRAIN_S more to finish unmeasured; after that its thread is abandoned (it keeps the old
    env) and the env is rebuilt from `make_env`."""

    def __init__(self, make_env: Callable[[], gymnasium.Env], reward_fn: RewardFn | None, hard_s: float,
                 env: gymnasium.Env | None = None):
        self.make_env, self.reward_fn, self.hard_s = make_env, reward_fn, hard_s
        self.env = env if env is not None else make_env()

    def _call(self, env: gymnasium.Env, task: Task, text: str) -> tuple[float, bool, str]:
        if self.reward_fn is not None:
            return float(self.reward_fn(task, text)), False, ""
        env.reset(options={"task": task})
        _, reward, _, _, info = env.step(text)
        verdict = info.get("verdict")
        reason = "" if verdict is None else str(verdict.info.get("reason") or verdict.info.get("status") or "")
        return float(reward), bool(getattr(verdict, "correct", False)), reason[:200]

    def score(self, task: Task, text: str) -> dict[str, Any]:
        box: dict[str, Any] = {}
        env = self.env

        def target():
            cpu = time.thread_time()
            try:
                box["reward"], box["correct"], box["reason"] = self._call(env, task, text)
            except BaseException as exc:  # noqa: BLE001 - the audit records what the reward path raised
                box["error"] = f"{type(exc).__name__}: {exc}"[:300]
                box["trace"] = traceback.format_exc(limit=4)[-1500:]
            box["cpu_s"] = time.thread_time() - cpu  # the caller thread's own CPU: a busy machine inflates wall time only

        start = time.perf_counter()
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(self.hard_s)
        box["seconds"] = time.perf_counter() - start
        if thread.is_alive():
            box["error"] = f"HUNG: no return within {self.hard_s:g} s"
            thread.join(DRAIN_S)  # let it finish unmeasured, so it does not slow the calls measured next
            if thread.is_alive():
                box["error"] += f" nor within {DRAIN_S:g} s more (abandoned, env rebuilt)"
                self.env = self.make_env()
        return box


def run_probe(probe: Probe, tasks: Sequence[Task], scorer: Scorer, bound_s: float) -> ProbeResult:
    result = ProbeResult(probe.name, probe.family, probe.doc, timed=probe.timed)
    for task in tasks:
        paid_here = False
        for variant in probe.variants(task):
            out = scorer.score(task, variant.text)
            paid = "error" not in out and (out["reward"] > 0 or out["correct"])
            if paid and probe.coincidence_ok and variant.claim is not None and same_claim(variant.claim, task.answer):
                result.coincident += 1
                paid = False
            result.add_call(task, variant, out, paid, bound_s)
            paid_here = paid_here or paid
            if out.get("error", "").startswith("HUNG"):
                break  # this probe already failed on this task; its other variants would hang too
        result.tasks += 1
        result.paid_tasks += int(paid_here)
    return result


def _name(env: str | gymnasium.Env) -> str:
    if isinstance(env, str):
        env_id = resolve(env)[0]
        return env_id if env_id == env else f"{env_id} ({env})"
    return env.spec.id if env.spec is not None else type(env.unwrapped).__name__


def select_probes(kind: str, probes: Sequence[Probe] | None, only: Sequence[str] = ()) -> list[Probe]:
    """The probes for an env kind; `only` keeps names or families listed (empty: all)."""
    chosen = [p for p in (PROBES if probes is None else probes) if p.applies(kind)]
    if only:
        chosen = [p for p in chosen if p.name in only or p.family in only]
        if not chosen:
            names = sorted({p.name for p in PROBES} | {p.family for p in PROBES})
            raise ValueError(f"only={list(only)} matches no probe for a {kind} env; names and families: {names}")
    return chosen


def run_audit(env: str | gymnasium.Env, *, tasks: int = 5, seed: int = 0, env_kwargs: dict | None = None,
              probes: Sequence[Probe] | None = None, extra_probes: Sequence[Probe] = (), only: Sequence[str] = (),
              reward_fn: RewardFn | None = None, bound_s: float | None = None, cases: str | None = None,
              task_ids: Sequence[str] = (), via: str | None = None,
              progress: Callable[[str], None] | None = None) -> AuditReport:
    """Audit an env's reward (an id, alias or a made env); see the module docstring. `reward_fn` scores
    through another reward path; `bound_s` overrides the latency bound (default: by kind); `cases` a
    labelled JSONL file (see cases.py); `tasks=0` runs the cases only; `task_ids` audits these tasks
    (ids or meta source_ids such as HumanEval/4) instead of a sample; `via` scores through a trainer
    adapter of reasongym/integrations (trl, verl, openrlhf, prime_verifiers, common)."""
    from reasongym.audit_probes.cases import load_cases, run_cases
    from reasongym.audit_probes.envs import skip_reason

    if cases:
        load_cases(cases)  # a bad file fails before the env is built and warmed up

    env_id, path = _name(env), f"integrations.{via}.score" if via else "reward_fn" if reward_fn else "env.step"
    reward_fn = _adapter(env, via, reward_fn, env_kwargs or {}) if via else reward_fn
    reason = skip_reason(env, env_kwargs or {}, reward_fn) if isinstance(env, str) else None
    if reason:
        return AuditReport(env_id, "skipped", tasks, seed, 0.0, skipped=reason)
    scorer, drawn, kind, bound = _setup(env, env_kwargs or {}, tasks, seed, task_ids, reward_fn, bound_s)
    sample = drawn if task_ids else drawn[:tasks]
    report = AuditReport(env_id, kind, len(sample), seed, bound, reward_path=path)
    chosen = select_probes(kind, list(probes if probes is not None else PROBES) + list(extra_probes), only)
    for probe in chosen if sample else []:
        if progress:
            progress(f"{probe.name} on {len(sample)} tasks")
        report.probes.append(run_probe(probe, sample, scorer, bound))
    if cases:
        if progress:
            progress(f"labelled cases {cases}")
        report.cases = run_cases(cases, scorer, bound, kind)
    return report


def _adapter(env: str | gymnasium.Env, via: str, reward_fn: RewardFn | None, env_kwargs: dict) -> RewardFn:
    from reasongym.audit_probes.envs import adapter_reward_fn

    if reward_fn is not None or not isinstance(env, str):
        raise ValueError("via= needs the env by name and no reward_fn (it builds the reward_fn itself)")
    resolved, defaults = resolve(env)
    return adapter_reward_fn(via, resolved, {**defaults, **env_kwargs})


def _setup(env, env_kwargs, tasks, seed, task_ids, reward_fn, bound_s) -> tuple[Scorer, list[Task], str, float]:
    """The scorer (with a warmed-up reward path), the drawn tasks, the env kind and the latency bound."""
    from reasongym.audit_probes.envs import env_factory

    make_env = env_factory(env, env_kwargs)
    first = make_env()
    drawn = pick_tasks(first, task_ids) if task_ids else sample_tasks(first, max(1, tasks), seed)
    kind = detect_kind(first, drawn[0])
    bound = float(bound_s or default_bound(first, kind))
    scorer = Scorer(make_env, reward_fn, max(10.0, 3 * bound + 4), env=first)
    for task in drawn[: max(1, tasks)]:  # warm-up, not counted (see the module docstring)
        for text in WARM_UP:
            scorer.score(task, text)
    return scorer, drawn, kind, bound

__all__ = ["PROBES", "Probe", "Variant", "run_audit", "detect_kind", "sample_tasks", "AuditReport"]
