"""The audit's console output: one row per probe, then an example of each problem found.

    print_report(report)          # rich tables on stdout
    markdown_table(report)        # the same rows as a Markdown table (for a README)
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reasongym.audit_probes.result import AuditReport, ProbeResult


def _row(p: ProbeResult, bound_s: float) -> list[str]:
    share = f"{p.paid_tasks}/{p.tasks} ({p.share:.0%})"
    return [p.name, p.family, str(p.calls), share, f"{p.max_s:.3f}", f"{p.max_cpu_s:.3f}", str(p.over_bound), str(p.errors),
            "FAIL" if p.failed else "ok"]


HEADERS = ["probe", "family", "calls", "tasks paid", "max s", "max cpu s", "> bound", "raised", ""]


def print_report(report: AuditReport, console: Console | None = None) -> None:
    console = console or Console(width=140)
    if report.skipped:
        console.print(f"[yellow]audit of {report.env_id} skipped:[/] {escape(report.skipped)}")
        return
    title = (f"reward audit: {report.env_id} ({report.kind} probes, {report.n_tasks} tasks, seed {report.seed}, "
             f"bound {report.bound_s:g} s, via {report.reward_path})")
    table = Table(title=title)
    for h in HEADERS:
        table.add_column(h, overflow="fold")
    for p in report.probes:
        style = "red" if p.failed else None
        table.add_row(*_row(p, report.bound_s), style=style)
    if report.probes:
        console.print(table)
    for p in report.probes:
        for ex in p.examples:
            console.print(f"[bold red]{p.name}[/] {ex['problem']} on task {ex['task_id']} "
                          f"(reward {ex['reward']}, {ex['seconds']} s, cpu {ex.get('cpu_s')} s{', ' + escape(ex['error']) if ex['error'] else ''})")
            console.print(f"  question:   {escape(ex['question'][:160])!s}", soft_wrap=True)
            console.print(f"  completion: {escape(ex['completion'])}", soft_wrap=True)
            if ex.get("reason"):
                console.print(f"  verdict:    {escape(str(ex['reason']))}", soft_wrap=True)
    if report.cases is not None:
        _print_cases(report, console)
    verdict = "[red]FAIL[/]" if report.failed else "[green]PASS[/]"
    coincident = sum(p.coincident for p in report.probes)
    if not report.probes:
        t = report.cases.total if report.cases else None
        console.print(f"{verdict} {report.env_id}: " + (f"{t.fp} false positives, {t.fn} false negatives, {t.errors} "
                      f"raised, {t.slow} past {report.bound_s:g} s in {t.n} cases" if t else "nothing run"))
        return
    console.print(f"{verdict} {report.env_id}: {len(report.paid())} of {len(report.probes)} probes paid on some "
                  f"task, {sum(p.errors for p in report.probes)} calls raised, "
                  f"{sum(p.over_bound for p in report.probes)} past {report.bound_s:g} s"
                  + (f" ({coincident} paid guesses equal to the gold not counted)" if coincident else ""))


def _print_cases(report: AuditReport, console: Console) -> None:
    cases = report.cases
    table = Table(title=f"labelled cases: {cases.path}")
    for h in ("group", "n", "agreement", "false pos", "false neg", "raised", "> bound", "max s"):
        table.add_column(h)
    rows = [*sorted(cases.groups.items()), ("all", cases.total)] + [(f"all, {k}", v) for k, v in sorted(cases.by_box.items())]
    for name, c in rows:
        table.add_row(name, str(c.n), f"{c.agreement:.1%}", str(c.fp), str(c.fn), str(c.errors), str(c.slow),
                      f"{c.max_s:.3f}", style="red" if c.fp or c.errors or c.slow else None)
    console.print(table)
    for w in cases.wrong[:40]:
        kind = "false positive" if w["paid"] and not w["label"] else "false negative" if w["label"] and not w["paid"] else "raised/slow"
        console.print(f"  line {w['line']} [{w['group']}] {kind}: gold {escape(w['gold'])!s} | pred "
                      f"{escape(w['pred'])!s} | {escape(str(w['note']))} {w['seconds']} s", soft_wrap=True)


def markdown_table(report: AuditReport) -> str:
    """The probe rows as Markdown: probe | tasks paid | max s | raised."""
    lines = [f"| {report.env_id} probe | tasks paid | max s | > {report.bound_s:g} s | raised |",
             "|---|---|---|---|---|"]
    for p in report.probes:
        lines.append(f"| {p.name} | {p.paid_tasks}/{p.tasks} | {p.max_s:.2f} | {p.over_bound} | {p.errors} |")
    return "\n".join(lines)
