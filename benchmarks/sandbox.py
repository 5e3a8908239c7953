"""Benchmark the sandbox against a bare subprocess: executions per second and per-run overhead, serial and
parallel, in one run (so both sides see the same machine load).

Bare and sandboxed runs alternate (run by run when serial, in chunks when parallel) so that changing
machine load hits both alike; serial per-run time is the median, parallel per-run time is wall time / runs.
Both sides run the same small program (read a number from stdin, print a sum) with the same interpreter
and flags (`python -I -S`), stdin/stdout/stderr through pipes: "bare" is `subprocess.run`, "sandbox" is
`run_program` (bwrap namespaces + boot with rlimits and the uid drop + the parent's watchdog). Optionally
also HumanEval canonical solutions and MBPP reference code through the code verifier.

    python benchmarks/sandbox.py                     # 200 runs each, serial and parallel
    python benchmarks/sandbox.py --baseline /tmp/old  # also the sandbox of another checkout (before/after)
    python benchmarks/sandbox.py --humaneval --mbpp --out benchmarks/results/sandbox.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from reasongym.verifiers.code.sandbox import default_sandbox, run_program

PROGRAM = "n = int(input())\nprint(sum(i * i for i in range(n)))\n"
STDIN, EXPECTED = "1000\n", f"{sum(i * i for i in range(1000))}\n"


def bare_run() -> None:
    box = default_sandbox()
    r = subprocess.run([box.python, "-I", "-S", "-c", PROGRAM], input=STDIN.encode(), capture_output=True,
                       timeout=30)
    assert r.returncode == 0 and r.stdout.decode() == EXPECTED, r


def sandbox_run() -> None:
    r = run_program(PROGRAM, stdin=STDIN, timeout_s=10)
    assert r.status == "ok" and r.stdout == EXPECTED, r


# The baseline side: a process of another checkout that times chunks of its own sandbox's runs on request.
BASELINE_WORKER = f"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
from reasongym.verifiers.code.sandbox import run_program
def one(_):
    r = run_program({PROGRAM!r}, stdin={STDIN!r}, timeout_s=10)
    assert r.status == "ok" and r.stdout == {EXPECTED!r}, r
for line in sys.stdin:
    chunk, workers = map(int, line.split())
    with ThreadPoolExecutor(workers) as pool:
        t0 = time.perf_counter()
        list(pool.map(one, range(chunk)))
        print((time.perf_counter() - t0) / chunk, flush=True)
"""


def baseline_side(checkout: Path) -> tuple[subprocess.Popen, object]:
    """Start the baseline worker in `checkout`; returns it and a function timing one chunk there."""
    worker = subprocess.Popen([sys.executable, "-c", BASELINE_WORKER], cwd=checkout, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(checkout)))

    def timed(chunk: int, workers: int) -> float:
        worker.stdin.write(f"{chunk} {workers}\n")
        worker.stdin.flush()
        return float(worker.stdout.readline())
    return worker, timed


def measure_pair(runs: int, workers: int, chunk: int, baseline=None) -> dict[str, dict]:
    """Time bare and sandboxed runs (and the baseline checkout's sandbox) in alternating chunks, so that
    load drifts hit all sides alike.

    Serial (workers=1): every run is timed alone, chunk=1 alternates run by run; per-run = median.
    Parallel: chunks of `chunk` runs go through a thread pool; per-run = wall time / runs (throughput)."""
    fns = {"bare": bare_run, "sandbox": sandbox_run}
    times: dict[str, list[float]] = {k: [] for k in [*fns, *(["baseline"] if baseline else [])]}
    for fn in fns.values():
        fn()  # warm up (imports, page cache)
    if baseline:
        baseline(1, 1)
    with ThreadPoolExecutor(workers) as pool:
        for _ in range(max(1, runs // chunk)):
            for name, fn in fns.items():
                t0 = time.perf_counter()
                list(pool.map(lambda _, f=fn: f(), range(chunk)))
                times[name].append((time.perf_counter() - t0) / chunk)
            if baseline:
                times["baseline"].append(baseline(chunk, workers))
    out = {}
    for name, ts in times.items():
        per_run = statistics.median(ts) if workers == 1 else statistics.fmean(ts)
        out[name] = {"runs": len(ts) * chunk, "per_run_ms": 1000 * per_run, "mean_ms": 1000 * statistics.fmean(ts),
                     "min_ms": 1000 * min(ts), "exec_per_s": 1 / per_run}
    return out


def reference_rate(name: str, limit: int | None = None) -> dict:
    """Reference solutions of a benchmark file through the code verifier: all should pass."""
    from reasongym.envs.code.files import load_humaneval, load_mbpp
    from reasongym.verifiers.code.verifier import CodeVerifier

    tasks = list(load_humaneval(limit=limit) if name == "humaneval" else load_mbpp(split="all", limit=limit))
    verifier = CodeVerifier()
    t0 = time.perf_counter()
    verdicts = verifier.verify_batch(tasks, [t.meta["solution"] for t in tasks])
    total = time.perf_counter() - t0
    return {"problems": len(tasks), "passed": sum(v.correct for v in verdicts), "seconds": total,
            "problems_per_s": len(tasks) / total, "workers": verifier.max_workers,
            "failed": [t.id for t, v in zip(tasks, verdicts) if not v.correct]}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="threads for the parallel rows")
    ap.add_argument("--humaneval", action="store_true", help="also time HumanEval canonical solutions")
    ap.add_argument("--mbpp", action="store_true", help="also run MBPP's reference code (all 974 rows)")
    ap.add_argument("--out", type=Path, help="write the numbers as JSON here too")
    ap.add_argument("--baseline", type=Path, help="a checkout (e.g. `git archive` of an older commit) whose sandbox "
                                                  "is timed alongside, in its own process")
    args = ap.parse_args(argv)
    worker, baseline = baseline_side(args.baseline) if args.baseline else (None, None)

    results: dict = {"cpus": os.cpu_count(), "python": default_sandbox().python, "load_avg": os.getloadavg()}
    for mode, workers in (("serial", 1), ("parallel", args.workers)):
        pair = measure_pair(args.runs, workers, chunk=1 if workers == 1 else 10 * workers, baseline=baseline)
        bare, box = pair["bare"], pair["sandbox"]
        results[mode] = {"workers": workers, "bare": bare, "sandbox": box,
                         "ratio": box["per_run_ms"] / bare["per_run_ms"],
                         "overhead_ms": box["per_run_ms"] - bare["per_run_ms"]}
        if baseline:
            results[mode]["baseline"] = {**pair["baseline"], "checkout": str(args.baseline),
                                         "ratio": pair["baseline"]["per_run_ms"] / bare["per_run_ms"]}
    if worker:
        worker.stdin.close()
        worker.wait()
    for name in ("humaneval", "mbpp"):
        if getattr(args, name):
            results[name] = reference_rate(name)

    table = Table(title=f"sandbox vs bare subprocess ({args.runs} runs each, {os.cpu_count()} CPUs, "
                        f"load {results['load_avg'][0]:.1f})")
    for col in ("mode", "bare ms/run", "sandbox ms/run", "ratio", "overhead ms", "bare exec/s", "sandbox exec/s",
                *(["baseline ms/run", "baseline ratio"] if baseline else [])):
        table.add_column(col, justify="right")
    for mode in ("serial", "parallel"):
        r = results[mode]
        extra = [f"{r['baseline']['per_run_ms']:.1f}", f"{r['baseline']['ratio']:.2f}"] if baseline else []
        table.add_row(f"{mode} x{r['workers']}", f"{r['bare']['per_run_ms']:.1f}", f"{r['sandbox']['per_run_ms']:.1f}",
                      f"{r['ratio']:.2f}", f"{r['overhead_ms']:.1f}", f"{r['bare']['exec_per_s']:.0f}",
                      f"{r['sandbox']['exec_per_s']:.0f}", *extra)
    console = Console(width=150)
    console.print(table)
    for name in ("humaneval", "mbpp"):
        if name in results:
            h = results[name]
            console.print(f"{name} reference solutions: {h['passed']}/{h['problems']} pass in {h['seconds']:.1f} s "
                          f"({h['problems_per_s']:.1f} problems/s, {h['workers']} workers); failed: {h['failed']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
