"""What an evaluation leaves in its folder, and what it prints.

    results.json     config, command, versions, seed, each env's task ids and their hash, data-file hashes,
                     every metric with its interval per policy and env, breakdowns, paired comparisons,
                     the contamination checks
    samples.jsonl    every prompt, completion and verdict (written while running, see samples.py)
    leaderboard.md   the tables a README can carry
    leaderboard.png  bars with 95% intervals: greedy accuracy and pass@1 per env and policy
    settings.json    the sampling settings the samples were drawn with (a resumed run must match them)
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

HEADLINE = ("greedy", "pass@1")
COLUMNS = {"reward": "reward", "format_failure": "no answer", "completion_tokens": "tokens",
           "truncated": "cut off", "tool_used": "used the tool", "tool_calls": "tool calls",
           "tool_error": "a call failed"}
COUNTS = {"completion_tokens": (1.0, 0), "reward": (1.0, 2), "tool_calls": (1.0, 2)}
"""Columns that are not percentages: (scale, digits)."""


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("reasongym", "torch", "transformers", "peft", "gymnasium", "numpy", "sympy", "math-verify"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    repo = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "reasongym"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if commit:
            out["git_commit"] = commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def check_settings(out: Path, cfg: Any, suites: list) -> None:
    """Refuse to mix samples drawn with other settings into an existing folder; record ours."""
    sampling = {k: getattr(cfg, k) for k in ("temperature", "top_p", "max_new_tokens", "seed")}
    envs = {s.name: {"env_id": s.env_id, "kwargs": json.loads(json.dumps(s.kwargs, default=str))} for s in suites}
    path = out / "settings.json"
    if path.exists():
        old = json.loads(path.read_text())
        for key, value in sampling.items():
            if old["sampling"].get(key) != value:
                raise ValueError(f"{out} holds samples drawn with {key}={old['sampling'].get(key)!r}, not "
                                 f"{value!r}; use another out= or delete the folder to start over")
        for name, env in envs.items():
            if name in old["envs"] and old["envs"][name] != env:
                raise ValueError(f"{out} holds samples of env {name!r} built as {old['envs'][name]}, not {env}; "
                                 "use another out= or delete the folder")
        envs = {**old["envs"], **envs}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"sampling": sampling, "envs": envs}, indent=1))


def announce_contamination(report: dict[str, dict[str, dict]]) -> dict[str, set[str]]:
    """Print every contaminated (policy, env) loudly; return env -> evaluation task ids seen in training."""
    console = Console(stderr=True)
    flagged: dict[str, set[str]] = {}
    for policy, by_env in report.items():
        for env, r in by_env.items():
            if not r.get("checked"):
                continue
            if not r["clean"]:
                flagged.setdefault(env, set()).update(r["flagged_task_ids"])
                examples = "\n".join(f"  {e['similarity']:.2f}  eval: {e['eval_question'][:70]!r}\n"
                                     f"        train: {e['train_question'][:70]!r}" for e in r["examples"][:3])
                console.print(Panel(
                    f"{r['contaminated_tasks']} of {r['eval_tasks']} evaluation tasks of [bold]{env}[/] were in the "
                    f"training data of [bold]{policy}[/]: {r['shared_ids']} shared task ids, "
                    f"{r['near_duplicates']} near-duplicate questions.\nSource: {r['source']}\n{examples}\n"
                    "Its scores on this env are not held-out numbers. decontaminate=true scores the clean tasks only.",
                    title="CONTAMINATION", border_style="bold red"))
            else:
                console.print(f"[green]held-out check[/]: {policy} on {env}: no overlap with its "
                              f"{r['train_tasks']} training tasks")
    return flagged


def write_report(out: Path, *, cfg: Any, command: str, specs: list, suites: list, results: dict,
                 comparisons: list[dict], contamination: dict) -> list[Path]:
    doc = {
        "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "config": asdict(cfg),
        "seed": cfg.seed, "versions": versions(),
        "sampling": {"samples": cfg.samples, "greedy": cfg.greedy, "temperature": cfg.temperature,
                     "top_p": cfg.top_p, "max_new_tokens": cfg.max_new_tokens},
        "intervals": "95% percentile bootstrap over tasks (2000 resamples, seeded by `seed`)",
        "envs": {s.name: s.describe() for s in suites},
        "policies": {p.label: p.describe() for p in specs},
        "results": results, "comparisons": comparisons, "contamination": contamination,
        "contaminated": any(not r.get("clean", True) for by_env in contamination.values() for r in by_env.values()),
    }
    (out / "results.json").write_text(json.dumps(doc, indent=1, default=str))
    (out / "leaderboard.md").write_text(markdown(doc))
    paths = [out / "results.json", out / "samples.jsonl", out / "leaderboard.md"]
    from reasongym.evaluation.plot import plot_leaderboard  # matplotlib only when writing

    png = plot_leaderboard(results, out / "leaderboard.png", metrics=HEADLINE)
    return paths + ([png] if png else [])


def _cell(m: dict | None, scale: float = 100.0, digits: int = 1) -> str:
    if not m or m["n"] == 0:
        return "–"
    if scale == 1.0 and digits == 0:
        return f"{m['mean']:.0f} [{m['lo']:.0f}, {m['hi']:.0f}]"
    return f"{m['mean'] * scale:.{digits}f} [{m['lo'] * scale:.{digits}f}, {m['hi'] * scale:.{digits}f}]"


def markdown(doc: dict) -> str:
    s = doc["sampling"]
    lines = ["# Evaluation", "", f"`{doc['command']}`" if doc["command"] else "", "",
             f"Sampling: {s['samples']} samples per task at temperature {s['temperature']}, top-p {s['top_p']}"
             f"{'; plus 1 greedy completion' if s['greedy'] else ''}; at most {s['max_new_tokens']} new tokens. "
             "Numbers are percent (reward: mean, tokens: mean count) with 95% bootstrap intervals over tasks.", ""]
    for policy, by_env in doc["contamination"].items():
        for env, r in by_env.items():
            if r.get("checked") and not r["clean"]:
                lines += [f"> **⚠ CONTAMINATION:** {r['contaminated_tasks']} of {r['eval_tasks']} `{env}` tasks were "
                          f"in the training data of `{policy}` ({r['shared_ids']} shared ids, {r['near_duplicates']} "
                          f"near duplicates; {r['source']}).", ""]
    for env, info in doc["envs"].items():
        lines += [f"## {env}", "", f"{info['env_id']} {info['kwargs'] or ''} · {info['n_tasks']} tasks · "
                  f"tasks sha `{info['tasks_sha'][:12]}`", ""]
        metrics = list(dict.fromkeys(m for p in doc["results"].values() for m in p[env]["metrics"]))
        shown = [m for m in metrics if m in HEADLINE or m.startswith(("pass@", "maj@"))] + \
            [m for m in COLUMNS if m in metrics]
        lines += ["| policy | " + " | ".join(COLUMNS.get(m, m) for m in shown) + " | tasks |",
                  "|---" * (len(shown) + 2) + "|"]
        for policy, by_env in doc["results"].items():
            r, warn = by_env[env], not doc["contamination"][policy][env].get("clean", True)
            cells = [_cell(r["metrics"].get(m), *COUNTS.get(m, ())) for m in shown]
            lines.append(f"| {policy}{' ⚠' if warn else ''} | " + " | ".join(cells) + f" | {r['n_tasks']} |")
        lines.append("")
        lines += tool_lines(doc["results"], env)
        lines += breakdown_tables(doc["results"], env)
    if doc["comparisons"]:
        lines += ["## Paired comparisons (same tasks)", "",
                  "| env | metric | a | b | a score | b score | b − a [95% CI] | p | test |", "|---" * 9 + "|"]
        for c in doc["comparisons"]:
            lines.append(f"| {c['env']} | {c['metric']} | {c['a']} | {c['b']} | {c['a_mean'] * 100:.1f} | "
                         f"{c['b_mean'] * 100:.1f} | {c['diff'] * 100:+.1f} [{c['lo'] * 100:+.1f}, {c['hi'] * 100:+.1f}] | "
                         f"{c['p']:.3g} | {c['test']} |")
        lines += [""] + [f"- {c['env']}, {c['metric']}: {c['statement']}" for c in doc["comparisons"]] + [""]
    v = doc["versions"]
    lines += [f"reasongym {v.get('reasongym', '?')} ({v.get('git_commit', 'no git')}), seed {doc['seed']}.", ""]
    return "\n".join(lines)


def tool_lines(results: dict, env: str) -> list[str]:
    """Tool envs: success of the episodes that used the tool and of those that answered without it."""
    lines = []
    for policy, by_env in results.items():
        split = by_env[env].get("tools")
        if split:
            parts = [f"{name.replace('_', ' ')} {v['success'] * 100:.1f}% of {v['episodes']}"
                     for name, v in split.items() if v["episodes"]]
            lines.append(f"- {policy}: success {', '.join(parts) or 'no episodes'}")
    return lines + [""] if lines else []


def breakdown_tables(results: dict, env: str) -> list[str]:
    """One table per meta key (difficulty, category, ...): policies by groups, pass@1 (or greedy) in each."""
    lines: list[str] = []
    keys = list(dict.fromkeys(k for by_env in results.values() for k in by_env[env]["breakdown"]))
    for key in keys:
        tables = {p: by_env[env]["breakdown"].get(key, {}) for p, by_env in results.items()}
        groups = list(dict.fromkeys(g for t in tables.values() for g in t))
        first = next(iter(next(iter(tables.values())).values()), {})
        metric = next((m for m in ("pass@1", "greedy") if m in first), None)
        if metric is None:
            continue
        lines += [f"{metric} by {key}:", "",
                  "| policy | " + " | ".join(f"{g} (n={next(t[g]['n'] for t in tables.values() if g in t)})"
                                            for g in groups) + " |", "|---" * (len(groups) + 1) + "|"]
        lines += [f"| {p} | " + " | ".join(_cell(t.get(g, {}).get(metric)) for g in groups) + " |"
                  for p, t in tables.items()]
        lines.append("")
    return lines


def print_summary(results: dict, comparisons: list[dict], contamination: dict, paths: list[Path]) -> None:
    console = Console(soft_wrap=True)
    for policy, by_env in results.items():
        for env, r in by_env.items():
            m = r["metrics"]
            parts = [f"{k} {_cell(m[k])}" for k in m if k in HEADLINE or k.startswith(("pass@", "maj@"))]
            dirty = not contamination[policy][env].get("clean", True)
            console.print(f"[bold]{policy}[/] on [bold]{env}[/] ({r['n_tasks']} tasks)"
                          f"{' [bold red]CONTAMINATED[/]' if dirty else ''}: " + "  ".join(parts))
    for c in comparisons:
        console.print(f"  {c['env']} {c['metric']}: {c['statement']}")
    print("wrote " + ", ".join(str(p) for p in paths))
