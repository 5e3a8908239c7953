"""What an audit found: one `ProbeResult` per probe, gathered in an `AuditReport` (JSON via `to_json`).

A report fails (exit code 1) when any probe variant was paid on any task, any call raised, any call
took longer than the bound, or (with labelled cases) any case labelled "not equal" was paid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from reasongym.audit_probes.base import Variant
from reasongym.core import Task

SNIPPET = 240


def snippet(text: str, n: int = SNIPPET) -> str:
    """A printable excerpt: long texts keep their head and tail, odd characters are escaped."""
    shown = text if len(text) <= n else f"{text[: n // 2]} ...[{len(text)} chars]... {text[-n // 3:]}"
    return "".join(c if c.isprintable() or c == "\n" else ascii(c)[1:-1] for c in shown)


@dataclass
class ProbeResult:
    """One probe over the sampled tasks. `paid_tasks`: tasks where at least one variant was paid."""

    name: str
    family: str
    doc: str = ""
    timed: bool = False
    tasks: int = 0
    paid_tasks: int = 0
    calls: int = 0
    paid_calls: int = 0
    coincident: int = 0  # paid variants whose single claimed answer is the gold itself (not exploits)
    errors: int = 0
    over_bound: int = 0
    max_s: float = 0.0
    max_cpu_s: float = 0.0  # the caller thread's CPU time of the slowest call by CPU (wall time minus waiting)
    total_s: float = 0.0
    examples: list[dict[str, Any]] = field(default_factory=list)  # first paid, raising or slow calls

    def add_call(self, task: Task, variant: Variant, out: dict[str, Any], paid: bool, bound_s: float) -> None:
        self.calls += 1
        self.paid_calls += int(paid)
        self.errors += int("error" in out)
        slow = out["seconds"] > bound_s
        self.over_bound += int(slow)
        self.max_s = max(self.max_s, out["seconds"])
        self.max_cpu_s = max(self.max_cpu_s, out.get("cpu_s", 0.0))
        self.total_s += out["seconds"]
        problem = "paid" if paid else "raised" if "error" in out else "slow" if slow else None
        if problem and sum(e["problem"] == problem for e in self.examples) < 2:
            self.examples.append({"problem": problem, "task_id": task.id, "question": snippet(task.question, 160),
                                  "completion": snippet(variant.text), "reward": out.get("reward"),
                                  "seconds": round(out["seconds"], 3), "cpu_s": round(out.get("cpu_s", 0.0), 3), "reason": out.get("reason", ""),
                                  "error": out.get("error"), "trace": out.get("trace")})

    @property
    def share(self) -> float:
        return self.paid_tasks / self.tasks if self.tasks else 0.0

    @property
    def failed(self) -> bool:
        return bool(self.paid_tasks or self.errors or self.over_bound)


@dataclass
class CaseCounts:
    """Agreement of the reward with labelled cases in one group: tp/fp/tn/fn with "paid" as positive."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    errors: int = 0  # the call raised or hung (not in tp/fp/tn/fn)
    slow: int = 0  # calls past the bound (also counted in tp/fp/tn/fn)
    max_s: float = 0.0

    @property
    def n(self) -> int:
        """All cases; one that raised or hung counts as a disagreement."""
        return self.tp + self.fp + self.tn + self.fn + self.errors

    @property
    def agreement(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0


@dataclass
class CasesReport:
    """Labelled cases (`cases=FILE`): counts per group and overall, and the disagreements."""

    path: str
    groups: dict[str, CaseCounts] = field(default_factory=dict)
    total: CaseCounts = field(default_factory=CaseCounts)
    by_box: dict[str, CaseCounts] = field(default_factory=dict)  # preds with a box / without (bare answers)
    wrong: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AuditReport:
    """Everything the audit measured on one env; `exit_code` is what the CLI exits with."""

    env_id: str
    kind: str
    n_tasks: int
    seed: int
    bound_s: float
    reward_path: str = "env.step"
    skipped: str | None = None
    probes: list[ProbeResult] = field(default_factory=list)
    cases: CasesReport | None = None

    @property
    def failed(self) -> bool:
        cases_fp = self.cases is not None and bool(self.cases.total.fp or self.cases.total.errors or self.cases.total.slow)
        return any(p.failed for p in self.probes) or cases_fp

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def paid(self) -> list[ProbeResult]:
        return [p for p in self.probes if p.paid_tasks]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for p, row in zip(self.probes, out["probes"]):
            row["share"] = round(p.share, 4)
            row["max_s"], row["total_s"], row["max_cpu_s"] = round(p.max_s, 4), round(p.total_s, 3), round(p.max_cpu_s, 4)
        if self.cases is not None:
            for name, counts in self.cases.groups.items():
                out["cases"]["groups"][name]["agreement"] = round(counts.agreement, 4)
            out["cases"]["total"]["agreement"] = round(self.cases.total.agreement, 4)
            for name, counts in self.cases.by_box.items():
                out["cases"]["by_box"][name]["agreement"] = round(counts.agreement, 4)
        out["failed"], out["exit_code"] = self.failed, self.exit_code
        return out
