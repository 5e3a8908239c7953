r"""`python -m reasongym.audit env=<id or alias>`: throw exploit probes at an environment's reward.

    python -m reasongym.audit env=math tasks=10                    # procedural math, 10 tasks
    python -m reasongym.audit env=gsm8k tasks=5 out=audit.json     # bundled data file, JSON for machines
    python -m reasongym.audit env=code env.timeout_s=3 only=[shadow,crash]
    python -m reasongym.audit env=humaneval task_ids=[HumanEval/4,HumanEval/0] env.timeout_s=3
    python -m reasongym.audit env=math tasks=0 cases=../shared/cases/math_adversarial.jsonl
    python -m reasongym.audit env=acme/Countdown-v0                # any registered env, plugins included
    python -m reasongym.audit env=math via=trl                     # the same probes through the TRL adapter
    python -m reasongym.audit --help

No model is involved: for a sample of the env's tasks, completions that a sound reward never pays (the
question restated, its numbers boxed, hedges, unclosed boxes, think-only answers, 1 MB junk; for code
envs shadowed built-ins, always-equal objects, early exits, forged output, harness crashes, infinite
loops) go through the env's real reward path, `env.reset(options={"task": task})` + `env.step(text)`.
The probes choose themselves by the env's kind (math-like, code, other: generic ones only); see
reasongym/audit_probes/. Exit status 1 when any probe is paid on any task, any call raises, any call
passes the bound (2 s for answer envs, the sandbox time limit x 1.5 + 2 s for code), or a labelled case
marked "not equal" is paid; 0 otherwise (also when the env is skipped, with the reason printed).

From Python (and through another reward path, e.g. a trainer adapter):

    from reasongym.audit import run_audit
    report = run_audit("math", tasks=5, reward_fn=lambda task, text: my_adapter(task, text))
    report = run_audit("math", tasks=5, via="verl")     # reasongym.integrations.verl.score
    report.exit_code, report.to_json()
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasongym.audit_probes import PROBES, AuditReport, Probe, Variant, run_audit
from reasongym.cli import ConfigError, parse_cli, run_cli

__all__ = ["AuditConfig", "AuditReport", "PROBES", "Probe", "Variant", "main", "run_audit"]


@dataclass
class AuditEnv:
    """The environment to audit: env=<id or alias>; env.<key>=value goes to its constructor."""

    _shorthand = "name"
    _extra = "kwargs"
    name: str = "math"
    """A registered id or alias (`python -m reasongym.envs` lists them), plugins included."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments, written env.<key>=value (env.difficulty=3, env.path=x.jsonl, env.timeout_s=3)."""


@dataclass
class AuditConfig:
    """Audit an environment's reward with exploit probes (no model needed); exit 1 when anything is paid.

    python -m reasongym.audit env=math tasks=10 out=audit.json
    """

    env: AuditEnv = field(default_factory=AuditEnv)
    tasks: int = 5
    """Tasks sampled from the env (distinct, by env.reset(seed=seed+i)); 0: only the labelled cases."""
    seed: int = 0
    """First reset seed of the task sample."""
    task_ids: list[str] = field(default_factory=list)
    """Audit these tasks instead of a sample: task ids or source ids, e.g. task_ids=[HumanEval/4]."""
    cases: str = ""
    """A JSONL file of labelled cases (gold, pred, expected/equal, group/category): false pos/neg per group."""
    out: str = ""
    """Write the full report as JSON here (probe rows, examples of every problem, case counts)."""
    only: list[str] = field(default_factory=list)
    """Keep only these probes or families, e.g. only=[restate,hedge] (empty: all that fit the env)."""
    via: str = ""
    """Score through a trainer adapter instead of env.step: trl, verl, openrlhf, prime_verifiers or common
    (reasongym/integrations/<via>.py's score(env_id, task, text)); env kwargs travel only with common."""
    bound_s: float = 0.0
    """Latency bound per call in seconds (0: 2 s for answer envs, sandbox timeout x 1.5 + 2 s for code)."""


def main(argv: list[str] | None = None) -> int:
    cfg = parse_cli(AuditConfig, argv, prog="reasongym.audit")
    from reasongym.audit_probes.table import print_report

    def progress(msg: str) -> None:
        print(f"[audit] {msg}", file=sys.stderr, flush=True)

    try:
        report = run_audit(cfg.env.name, tasks=cfg.tasks, seed=cfg.seed, env_kwargs=dict(cfg.env.kwargs),
                           only=list(cfg.only), task_ids=list(cfg.task_ids), via=cfg.via or None,
                           bound_s=cfg.bound_s or None, cases=cfg.cases or None, progress=progress)
    except (ValueError, TypeError, FileNotFoundError) as exc:  # set-up: a bad env, file, probe name or kwarg
        raise ConfigError(str(exc)) from exc
    print_report(report)
    if cfg.out:
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.out).write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=True, default=str))
        print(f"report written to {cfg.out}")
    return report.exit_code


if __name__ == "__main__":
    box: dict[str, int] = {}
    run_cli(lambda: box.setdefault("rc", main()), "reasongym.audit")
    sys.exit(box.get("rc", 0))
