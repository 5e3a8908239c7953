"""The reward audit's parts (`python -m reasongym.audit` in reasongym/audit.py runs them).

    base.py      Probe, Variant, and what a probe may read of a task (the prompt, never the gold)
    generic.py   probes for any env: empty, think-only, grader-directed text, unicode junk, huge completions
    answers.py   probes for boxed-answer (math-like) envs: restated question, numbers, hedges, unclosed boxes
    programs.py  probes for code envs: shadowed built-ins, always-equal, early exit, forged output, crashes
    runner.py    run_audit(): tasks from the env, every variant through env.reset/step (or reward_fn), timed
    envs.py      making the env (aliases, bundled data files) and the envs the audit skips
    cases.py     labelled gold/pred cases: false positives and negatives per group
    result.py    ProbeResult, CasesReport, AuditReport (JSON)
    table.py     the console tables
"""

from reasongym.audit_probes.base import Probe, Variant
from reasongym.audit_probes.result import AuditReport, ProbeResult
from reasongym.audit_probes.runner import PROBES, run_audit

__all__ = ["AuditReport", "PROBES", "Probe", "ProbeResult", "Variant", "run_audit"]
