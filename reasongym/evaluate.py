"""`python -m reasongym.evaluate`: benchmark policies on held-out environments, with intervals you can trust.

    python -m reasongym.evaluate policy=runs/math-001/final env=math-heldout samples=16
    python -m reasongym.evaluate policy=smollm2 env=gsm8k env.path=../shared/data/gsm8k_test.jsonl limit=200
    python -m reasongym.evaluate policy=[base,runs/a/final,runs/b/final] env=[math-heldout,gsm8k,humaneval]
    python -m reasongym.evaluate --help                  # every option, its default and what it does

Read top to bottom: fix the task list of every environment (suites.py) -> check each policy's training
record for those tasks (contamination.py) and say so loudly -> for each policy, for each environment, run
the greedy episode and `samples` sampled episodes of every task through the Gymnasium API (rollout.collect),
appending each finished batch to samples.jsonl (a restarted run skips what is there) -> score per task,
average over tasks with bootstrap intervals, break down by difficulty/category, compare every pair of
policies on the same tasks (scoring.py, stats.py) -> results.json, leaderboard.md, leaderboard.png.

Sampling defaults follow DeepSeek-R1's evaluation: temperature 0.6, top-p 0.95, k samples per task,
pass@1 averaged over the k samples; plus one greedy (temperature 0) completion per task.
"""

from __future__ import annotations

import random
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasongym.agents.rollout import EnvPool, collect
from reasongym.cli import PRECISIONS, ConfigError, check_values, parse_cli, run_cli
from reasongym.core import SamplingParams, content_hash
from reasongym.data import HELDOUT_SEED
from reasongym.evaluation import contamination as contam
from reasongym.evaluation.policies import PolicySpec, load_policy, parse_policy
from reasongym.evaluation.report import announce_contamination, check_settings, print_summary, write_report
from reasongym.evaluation.samples import SampleStore, sample_row
from reasongym.evaluation.scoring import (
    TaskScores,
    breakdown,
    comparisons,
    summary,
    task_scores,
    tool_success,
)
from reasongym.evaluation.suites import Suite, load_suite
from reasongym.runs.progress import Progress


@dataclass
class EnvSection:
    """Environments to evaluate on; env.<key>=v goes to every environment's constructor, env.<name>.<key>=v
    to one of them (e.g. env.gsm8k.path=test.jsonl)."""

    _shorthand = "names"
    _extra = "kwargs"
    names: Any = "math-heldout"
    """An environment id or alias, or a list: [math-heldout,gsm8k,math500,humaneval,mbpp]."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Constructor arguments, written env.<key>=value (shared) or env.<name>.<key>=value (one env)."""


@dataclass
class EvalConfig:
    """Benchmark policies on held-out environments: pass@k, maj@k, greedy accuracy, with 95% intervals.

    python -m reasongym.evaluate policy=runs/math-001/final env=math-heldout samples=16
    python -m reasongym.evaluate policy=[base,runs/a/final] env=[math-heldout,gsm8k] limit=200
    """

    policy: Any = "base"
    """A policy or a list: base (embedded default), a HF name or folder, a run folder, a checkpoint, a LoRA
    adapter folder, oracle[:wrong=0.3], openai:http://host:port/v1,model=NAME (quote it inside a list)."""
    samples: int = 4
    """k: sampled completions per task (pass@1 averaged over k, pass@k, maj@k); 0: greedy only."""
    greedy: bool = True
    """Also one greedy (temperature 0) completion per task: greedy accuracy, and McNemar comparisons."""
    temperature: float = 0.6
    """Sampling temperature of the k samples (DeepSeek-R1 evaluation: 0.6)."""
    top_p: float = 0.95
    """Nucleus sampling of the k samples (DeepSeek-R1 evaluation: 0.95)."""
    max_new_tokens: int = 512
    """Longest completion, in tokens (per turn)."""
    limit: int = 0
    """Tasks per environment: the first `limit` of a file (0: all); of a procedural set, that many (0: 200)."""
    task_seed: int = HELDOUT_SEED
    """Seed that fixes the task list of procedural environments (12345 = the trainer's held-out list)."""
    seed: int = 0
    """Seed of sampling (each batch reseeded from it, so a resumed run draws what it would have) and of
    the bootstrap."""
    batch_size: int = 32
    """Episodes per policy call, generated and appended to samples.jsonl as a unit (a batch cut short by a
    kill is redone whole). Each batch is seeded from its contents, so changing this changes the draws."""
    out: str = ""
    """Output folder; empty: evals/<policy>-<env>-<hash of the settings>, so the same command resumes."""
    train_tasks: Any = field(default_factory=list)
    """Extra training records checked for every policy: train_tasks.jsonl files, run folders or data files."""
    near_duplicate: float = 0.7
    """Similarity from which an evaluation question counts as a near duplicate of a training question."""
    decontaminate: bool = False
    """Score only the tasks that no policy's training record contains (the same tasks for all policies)."""
    strict: bool = False
    """Stop with an error, instead of a loud warning, when any evaluation task was in the training data."""
    device: str = "auto"
    """Device of Hugging Face policies: auto (cuda when available), cpu, cuda, cuda:1."""
    precision: str = "auto"
    """Compute precision of Hugging Face policies: auto, bf16 or fp32."""
    progress: bool = True
    """Show a progress bar."""
    env: EnvSection = field(default_factory=EnvSection)


def main(argv: list[str] | None = None) -> Path:
    argv = list(sys.argv[1:] if argv is None else argv)
    cfg = parse_cli(EvalConfig, argv, prog="reasongym.evaluate")
    check_eval_config(cfg)
    return run(cfg, command="python -m reasongym.evaluate " + " ".join(shlex.quote(a) for a in argv))


def check_eval_config(cfg: EvalConfig) -> None:
    """Every value checked before any policy loads (a ConfigError naming the key and what is allowed)."""
    check_values([
        ("near_duplicate", cfg.near_duplicate, 0 < cfg.near_duplicate <= 1,
         "a similarity in (0, 1] (0.7: default; 1: exact duplicates only)"),
        ("samples", cfg.samples, cfg.samples >= 0, "must be >= 0 (0: greedy only)"),
        ("batch_size", cfg.batch_size, cfg.batch_size >= 1, "must be >= 1"),
        ("limit", cfg.limit, cfg.limit >= 0, "must be >= 0 (0: all)"),
        ("temperature", cfg.temperature, cfg.temperature >= 0, "must be >= 0"),
        ("top_p", cfg.top_p, 0 < cfg.top_p <= 1, "must be in (0, 1]"),
        ("max_new_tokens", cfg.max_new_tokens, cfg.max_new_tokens >= 1, "must be >= 1"),
        ("precision", cfg.precision, cfg.precision in PRECISIONS, f"use one of {', '.join(PRECISIONS)}")])


def as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def env_overrides(names: list[str], kwargs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Split env.* arguments into per-env ones (env.<name>.<key>) and shared ones (env.<key>)."""
    shared = {k: v for k, v in kwargs.items() if not (k in names and isinstance(v, dict))}
    return {n: {**shared, **(kwargs.get(n) if isinstance(kwargs.get(n), dict) else {})} for n in names}


def output_folder(cfg: EvalConfig, policies: list[str], envs: list[str], overrides: dict) -> Path:
    if cfg.out:
        return Path(cfg.out)
    key = content_hash(policies, envs, overrides, cfg.samples, cfg.greedy, cfg.temperature, cfg.top_p,
                       cfg.max_new_tokens, cfg.limit, cfg.task_seed, cfg.seed, length=8)
    first = Path(policies[0].rstrip("/")).name.replace(":", "-")[:24] or "policy"
    more = f"+{len(policies) - 1}" if len(policies) > 1 else ""
    return Path("evals") / f"{first}{more}-{envs[0].replace('/', '-')}{'+' if len(envs) > 1 else ''}-{key}"


def batch_seed(seed: int, *parts: Any) -> int:
    """The sampling seed of one batch: a function of what is in it (not of the policy's name, so every
    policy draws with the same random numbers; not of the order of runs, so a resumed run draws alike)."""
    return int(content_hash(seed, *parts, length=8), 16)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def run(cfg: EvalConfig, command: str = "") -> Path:
    try:
        specs, suites, out = settle(cfg)
    except ConfigError:
        raise
    except ValueError as exc:  # a user mistake found while settling what to evaluate: one line
        raise ConfigError(str(exc)) from exc
    return evaluate(cfg, specs, suites, out, command)


def settle(cfg: EvalConfig) -> tuple[list[PolicySpec], list[Suite], Path]:
    """What to evaluate: policies, fixed task lists, the output folder (checked against what it holds)."""
    labels, names = as_list(cfg.policy), as_list(cfg.env.names)
    for what, items in (("policy", labels), ("env", names)):
        if len(set(items)) != len(items):
            raise ValueError(f"{what}= lists the same name twice: {items}")
    if cfg.samples < 0 or (cfg.samples == 0 and not cfg.greedy):
        raise ValueError(f"samples={cfg.samples} with greedy={cfg.greedy}: nothing to evaluate")
    specs = [parse_policy(label) for label in labels]
    overrides = env_overrides(names, cfg.env.kwargs)
    suites = [load_suite(n, overrides[n], limit=cfg.limit, task_seed=cfg.task_seed) for n in names]
    out = output_folder(cfg, labels, names, overrides)
    check_settings(out, cfg, suites)
    return specs, suites, out


def evaluate(cfg: EvalConfig, specs: list[PolicySpec], suites: list[Suite], out: Path, command: str) -> Path:
    print(f"reasongym.evaluate -> {out}")
    for s in suites:
        print(f"  {s.name}: {s.env_id} {len(s.tasks)} tasks ({s.source}), tasks sha {s.fingerprint()[:12]}")

    # ---- held-out integrity: was any evaluation task in a policy's training data? -------------------
    try:  # training records and an earlier samples.jsonl are user files: a bad one is one line
        contamination = check_contamination(cfg, specs, suites)
        store = SampleStore(out / "samples.jsonl")
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    flagged = announce_contamination(contamination)
    if flagged and cfg.strict:
        raise SystemExit("reasongym.evaluate: contaminated evaluation (strict=true); see the report above")
    if cfg.decontaminate:
        for s in suites:
            s.tasks = [t for t in s.tasks if t.id not in flagged.get(s.name, set())]

    seconds = generate(cfg, specs, suites, store, out)
    results, compared = score(cfg, specs, suites, store, seconds)
    paths = write_report(out, cfg=cfg, command=command, specs=specs, suites=suites, results=results,
                         comparisons=compared, contamination=contamination)
    print_summary(results, compared, contamination, paths)
    return out


def generate(cfg: EvalConfig, specs: list[PolicySpec], suites: list[Suite], store: SampleStore,
             out: Path) -> dict[str, dict[str, float]]:
    """Greedy + k samples per task, appended to samples.jsonl as batches finish; seconds per policy/env."""
    modes = ([("greedy", 1, SamplingParams(0.0, 1.0, cfg.max_new_tokens))] if cfg.greedy else []) + \
        ([("sample", cfg.samples, SamplingParams(cfg.temperature, cfg.top_p, cfg.max_new_tokens))]
         if cfg.samples else [])
    plan = {(p.label, s.name, mode): [(t, j) for t in s.tasks for j in range(count)]
            for p in specs for s in suites for mode, count, _ in modes}
    pending = {k: [(t, j) for t, j in v if not store.done((k[0], k[1], t.id, k[2], j))] for k, v in plan.items()}
    todo = sum(map(len, pending.values()))
    done_before = sum(map(len, plan.values())) - todo
    if done_before:
        print(f"resuming: {done_before} episodes already in {out / 'samples.jsonl'}, {todo} to go")
    bar = Progress(todo, "evaluating", enabled=cfg.progress and todo > 0)
    seconds: dict[str, dict[str, float]] = {}
    all_tasks = [t for s in suites for t in s.tasks]
    pools = {s.name: EnvPool(s.env_id, s.kwargs, size=1) for s in suites}  # envs reused by every policy
    for spec in specs:
        if not any(pending[(spec.label, s.name, m)] for s in suites for m, _, _ in modes):
            continue
        policy = load_policy(spec, all_tasks, device=cfg.device, precision=cfg.precision)
        for suite in suites:
            t0, pool = time.time(), pools[suite.name]
            verifier = getattr(pool.envs[0].unwrapped, "verifier", None)  # its vote_key decides maj@k
            for mode, _, sampling in modes:
                episodes = plan[(spec.label, suite.name, mode)]
                for b in range(0, len(episodes), cfg.batch_size):
                    # a batch is always generated whole (same episodes, same seed), so a batch cut short by
                    # a kill comes out as it would have; only its missing rows are appended
                    batch = episodes[b:b + cfg.batch_size]
                    missing = [not store.done((spec.label, suite.name, t.id, mode, j)) for t, j in batch]
                    if not any(missing):
                        continue
                    seed_everything(batch_seed(cfg.seed, mode, batch[0][0].id, batch[0][1], len(batch)))
                    rollouts = collect(pool, policy, [t for t, _ in batch], 1, sampling)
                    store.append([sample_row(spec.label, suite.name, mode, j, r, verifier)
                                  for (_, j), r, new in zip(batch, rollouts, missing) if new])
                    bar.update(sum(missing), policy=spec.label, env=suite.name)
            seconds.setdefault(spec.label, {})[suite.name] = round(time.time() - t0, 1)
        del policy
    bar.close()
    for pool in pools.values():
        pool.close()
    return seconds


def score(cfg: EvalConfig, specs: list[PolicySpec], suites: list[Suite], store: SampleStore,
          seconds: dict) -> tuple[dict, list[dict]]:
    """Per-task scores -> metrics with intervals, breakdowns, and paired comparisons of the policies."""
    results: dict[str, dict[str, Any]] = {}
    compared: list[dict] = []
    for suite in suites:
        scores: dict[str, TaskScores] = {}
        for spec in specs:
            sc = task_scores(store.by_task(spec.label, suite.name), suite.tasks, samples=cfg.samples,
                             greedy=cfg.greedy)
            scores[spec.label] = sc
            results.setdefault(spec.label, {})[suite.name] = {
                "n_tasks": len(sc.task_ids), "unfinished_tasks": sc.unfinished, "samples": cfg.samples,
                "metrics": {m: e.as_dict() for m, e in summary(sc, seed=cfg.seed).items()},
                "breakdown": breakdown(sc, suite.tasks, seed=cfg.seed),
                "tools": tool_success(store.by_task(spec.label, suite.name)),
                "seconds_this_session": seconds.get(spec.label, {}).get(suite.name, 0.0)}
        compared += [{"env": suite.name, **c.as_dict()} for c in comparisons(scores, seed=cfg.seed)]
    return results, compared


def check_contamination(cfg: EvalConfig, specs: list[PolicySpec], suites: list[Suite]) -> dict[str, dict]:
    """results.json's `contamination`: per policy and env, what its training record shares with the tasks."""
    extra = [contam.resolve_training_source(s) for s in as_list(cfg.train_tasks)]
    report: dict[str, dict] = {}
    for spec in specs:
        sources = ([spec.record] if spec.record else []) + extra
        train = [t for src in sources for t in contam.load_training_tasks(src)]
        report[spec.label] = {}
        for suite in suites:
            if not sources:
                report[spec.label][suite.name] = {
                    "checked": False, "reason": "no training record (not a reasongym run folder); pass "
                    "train_tasks=<file> to check it against its training data"}
                continue
            found = contam.check(train, suite.tasks, threshold=cfg.near_duplicate)
            report[spec.label][suite.name] = contam.summarize(found, ", ".join(map(str, sources)))
    return report


if __name__ == "__main__":
    run_cli(main, "reasongym.evaluate")
