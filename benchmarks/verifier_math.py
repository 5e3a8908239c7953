"""Benchmark the math verifier against the labelled cases, next to math-verify, in one run.

For every case of ../shared/cases/math_equivalence.jsonl and math_adversarial.jsonl it times
`is_equivalent(pred, gold)` and `math_verify.verify(parse(r"\\boxed{" + gold + "}"), parse(pred))`, and
reports agreement with the labels per file and per group (`group`, else `category`), false positives in
the `hack` group, the slowest `dos` case, and latency p50 / p99 / max for both. math-verify runs in a warm worker
process that is killed at the same time limit our verifier uses, so its hangs are bounded too; its own
signal-based timeouts are switched off. Both sides warm up before timing (worker start-up excluded).

    python benchmarks/verifier_math.py                        # tables on stdout, JSON in benchmarks/results/
    python benchmarks/verifier_math.py --out runs/verifier_math.json --no-math-verify
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from reasongym.verifiers.math.verifier import DEFAULT_TIMEOUT_S, is_equivalent
from reasongym.verifiers.math.worker import default_pool

CASES_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "cases"
CASES = [CASES_DIR / "math_equivalence.jsonl", CASES_DIR / "math_adversarial.jsonl"]
OUT = Path(__file__).resolve().parent / "results" / "verifier_math.json"


def _math_verify_loop(conn) -> None:
    """Child process: answer (pred, gold) requests with math-verify's verdict."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # it warns on every call that its own timeouts are off
    from math_verify import parse, verify

    def run(pred: str, gold: str) -> bool:
        g = parse("\\boxed{" + gold + "}", parsing_timeout=None)
        p = parse(pred, parsing_timeout=None)
        return bool(verify(g, p, timeout_seconds=None))

    run("1", "1")
    conn.send("ready")
    while True:
        pred, gold = conn.recv()
        try:
            conn.send(run(pred, gold))
        except Exception:  # math-verify raising counts as "not equal", like in its own API
            conn.send(False)


class MathVerifyWorker:
    """math-verify in one warm process, killed and restarted when a call runs past the limit."""

    def __init__(self) -> None:
        self.ctx = mp.get_context("spawn")
        self.kills = 0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_math_verify_loop, args=(child,), daemon=True)
        self.proc.start()
        if not self.conn.poll(120) or self.conn.recv() != "ready":
            raise RuntimeError("math-verify worker did not start (is math-verify installed?)")

    def __call__(self, pred: str, gold: str, timeout_s: float) -> tuple[bool, float, bool]:
        """(verdict, seconds, timed_out); restarting after a kill is not counted in the seconds."""
        t = time.perf_counter()
        self.conn.send((pred, gold))
        if self.conn.poll(timeout_s):
            return bool(self.conn.recv()), time.perf_counter() - t, False
        elapsed = time.perf_counter() - t
        self.proc.kill()
        self.proc.join()
        self.kills += 1
        self._start()
        return False, elapsed, True

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()


def summarize(name: str, rows: list[dict], key: str) -> dict:
    times = sorted(r[f"{key}_s"] for r in rows)
    per_cat: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        per_cat[r.get("group") or r["category"]].append(r[key] == r["equal"])
    agree = sum(r[key] == r["equal"] for r in rows)
    dos = [r[f"{key}_s"] for r in rows if r.get("group") == "dos"]
    return {
        "verifier": name,
        "agreement": agree / len(rows),
        "agree": agree,
        "cases": len(rows),
        "per_category": {c: {"agreement": sum(v) / len(v), "cases": len(v)} for c, v in sorted(per_cat.items())},
        "p50_ms": 1e3 * statistics.median(times),
        "p99_ms": 1e3 * times[min(len(times) - 1, int(0.99 * len(times)))],
        "max_ms": 1e3 * times[-1],
        "over_2s": sum(t > 2.0 for t in times),
        "timeouts": sum(bool(r.get(f"{key}_timeout")) for r in rows),
        "hack_false_positives": sum(r[key] and not r["equal"] for r in rows if r.get("group") == "hack"),
        "dos_max_ms": 1e3 * max(dos) if dos else None,
    }


def print_report(console: Console, results: list[dict], title: str) -> None:
    table = Table(title=f"Math verifier vs labels ({title})")
    table.add_column("")
    for res in results:
        table.add_column(res["verifier"], justify="right")
    table.add_row("agreement", *[f"{r['agreement']:.1%} ({r['agree']}/{r['cases']})" for r in results])
    for key in ("p50_ms", "p99_ms", "max_ms"):
        table.add_row(key.replace("_ms", " (ms)"), *[f"{r[key]:.1f}" for r in results])
    table.add_row("cases over 2 s", *[str(r["over_2s"]) for r in results])
    table.add_row("killed at the limit", *[str(r["timeouts"]) for r in results])
    if results[0]["dos_max_ms"] is not None:
        table.add_row("hack false positives", *[str(r["hack_false_positives"]) for r in results])
        table.add_row("slowest dos case (ms)", *[f"{r['dos_max_ms']:.0f}" for r in results])
    for cat in results[0]["per_category"]:
        cells = [f"{r['per_category'][cat]['agreement']:.0%}" for r in results]
        table.add_row(f"  {cat} ({results[0]['per_category'][cat]['cases']})", *cells)
    console.print(table)


def run_file(console: Console, path: Path, args: argparse.Namespace, mv: MathVerifyWorker | None) -> dict:
    """Both verifiers over one cases file: the summary of each, printed, and the per-case rows."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in track(rows, description=f"reasongym {path.name}", console=console):
        t = time.perf_counter()
        r["ours"] = is_equivalent(r["pred"], r["gold"], timeout_s=args.timeout)
        r["ours_s"] = time.perf_counter() - t
    results = [summarize("reasongym", rows, "ours")]
    if mv is not None:
        for r in track(rows, description=f"math-verify {path.name}", console=console):
            r["math_verify"], r["math_verify_s"], r["math_verify_timeout"] = mv(r["pred"], r["gold"], args.timeout)
        results.append(summarize("math-verify (gold boxed)", rows, "math_verify"))
    print_report(console, results, path.name)
    for r in (r for r in rows if r["ours"] != r["equal"]):
        console.print(f"[yellow]disagree[/] ({r.get('group') or r['category']}, label {r['equal']}): "
                      f"gold={r['gold'][:60]!r} pred={r['pred'][-60:]!r}", markup=True, highlight=False)
    per_case = [{k: r.get(k) for k in ("id", "group", "category", "equal", "ours", "ours_s", "math_verify",
                                       "math_verify_s")} for r in rows]
    return {"file": path.name, "results": results, "cases": per_case}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=Path, nargs="+", default=CASES,
                    help="labelled cases files (JSON lines: gold, pred, equal, category or group)")
    ap.add_argument("--out", type=Path, default=OUT, help="write the summaries and per-case results as JSON here")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="wall-clock limit per check, seconds")
    ap.add_argument("--no-math-verify", action="store_true", help="skip the math-verify comparison")
    args = ap.parse_args(argv)
    console = Console()
    missing = [p for p in args.cases if not p.exists()]
    if missing:
        console.print(f"[red]cases file not found: {missing[0]} (expected ../shared/cases next to the repo)")
        return 2
    default_pool().warm()
    is_equivalent("\\boxed{1}", "1")
    mv = None if args.no_math_verify else MathVerifyWorker()
    files = [run_file(console, path, args, mv) for path in args.cases]
    if mv is not None:
        mv.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"timeout_s": args.timeout, "files": files}, indent=1))
    console.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
