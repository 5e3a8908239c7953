"""Killable worker processes for the sympy side of the math verifier.

Why: sympy can hang (power towers, huge sums) and `signal.alarm` only works on the main thread of the
main process. Here every comparison runs in a separate, warm worker process, and the caller enforces
the wall-clock limit from outside: when a reply is late the worker is killed (SIGKILL) and replaced.

Workers are plain subprocesses (`python -m reasongym.verifiers.math.worker`) talking JSON lines over
pipes, not `multiprocessing` children, so the pool works from threads, from daemonic multiprocessing
pool workers (which may not have children of their own), and after a fork (a forked child starts its
own pool; it never touches its parent's workers). A worker exits when its parent goes away.

    pool = WorkerPool(size=2)
    pool.judge("x+1", "1+x", timeout_s=1.5)   # {'equal': True, 'pred': 'x + 1', ...} or None on timeout
    pool.judge("(x+8)(x+7)", "x^2+15x+56", 1.5, form="expanded")   # {'equal': False, 'status': 'wrong_form', ...}

The process-wide pool (`default_pool()`) runs up to $REASONGYM_MATH_WORKERS comparisons at once (default
min(4, CPUs)) and keeps one warm spare process beyond that, each about 100 MB: a worker killed at its
time limit is replaced by the spare at once (the replacement warms up in the background), so a kill
never delays the next call. Workers start on first use (a second or more, once per process) and are reused.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

STARTUP_TIMEOUT_S = 60.0
WARM_UP = [("x+1", "1+x"), (r"\frac{1}{2}", "0.5"), ("(1,2)", "[1,2)"), (r"x \geq 1", "y=2x"),
           (r"F_n=\sum_{k=0}^{n-1}F_kF_{n-k-1}", r"\int_0^1 x^2 dx"), (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\sqrt[3]{x}^2"),
           (r"-2\le x\le 7", r"x\in[-2,7]"), (r"y_1=-2(x-1)^2+5", r"2x+4y-3=0"), (r"\sin^2(y)+\tan y", r"e^{i\pi}\cdot\log_2 8"),
           (r"x^{x^{x^{x}}}", r"10^{10^{10}}"), (r"\{1,2\}\cup(3,\infty)", r"f(x)=|x|"), (r"\sec^2(y)", r"\tan^2(y)+1"),
           (r"\frac{1}{3x^{2/3}}", r"\frac{\sqrt{x}}{x}"), (r"\ln(ab)", r"\ln a+\ln b"), (r"|x|", "x"),
           (r"\begin{pmatrix}\frac{1}{3}&0\\-\sin(x)&0\end{pmatrix}", r"\begin{pmatrix}0.5&1\\2&3\end{pmatrix}")]
MEMORY_LIMIT_BYTES = 4 << 30


class Worker:
    """One warm worker process and its pipes."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[3])  # importable even when not installed
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1", PYTHONPATH=path)
        self.proc = subprocess.Popen([sys.executable, "-m", "reasongym.verifiers.math.worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, close_fds=True)
        self.buffer = b""
        self.ready = False

    def read_line(self, deadline: float) -> bytes | None:
        """One line from the worker, or None when the deadline passes or the worker died."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> bool:
        """True once the worker has imported sympy and warmed up (timeout_s=0: just look)."""
        if not self.ready:
            self.ready = self.read_line(time.monotonic() + timeout_s) == b"ready"
        return self.ready

    def request(self, payload: dict, timeout_s: float) -> dict | None:
        try:
            self.proc.stdin.write(json.dumps(payload).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        line = self.read_line(time.monotonic() + timeout_s)
        return json.loads(line) if line else None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class WorkerPool:
    """Up to `size` warm workers shared by all threads of one process; a late worker is killed and replaced."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.idle: list[Worker] = []  # started workers not in use, oldest first
        self.slots = threading.BoundedSemaphore(size)
        self.all: set[Worker] = set()
        self.lock = threading.Lock()
        self.kills = 0
        self.ever_ready = False  # once a worker has started, nobody waits on a start-up again (see judge)

    def _take(self) -> Worker:
        """A warm idle worker if there is one, else the one that has been starting longest, else a new one."""
        with self.lock:
            ready = next((w for w in self.idle if w.wait_ready(0)), None)
            if ready is None and self.idle:
                ready = self.idle[0]
            if ready is not None:
                self.idle.remove(ready)
        return ready if ready is not None else self._start()

    def _top_up(self) -> None:
        """After a call: keep `size + 1` processes, so a warm spare waits for the next kill (it starts
        between calls, not during the first one, which already pays for a start-up)."""
        with self.lock:
            short = self.size + 1 - len(self.all)
        for _ in range(max(0, short)):
            self._give_back(self._start())

    def _start(self) -> Worker:
        worker = Worker()
        with self.lock:
            self.all.add(worker)
        return worker

    def _give_back(self, worker: Worker) -> None:
        with self.lock:
            self.idle.append(worker)

    def _drop(self, worker: Worker) -> None:
        worker.kill()
        with self.lock:
            self.all.discard(worker)
            self.kills += 1
        self._give_back(self._start())  # starts importing now; the spare serves the next caller meanwhile

    def judge(self, pred: str, gold: str, timeout_s: float, form: str | None = None) -> dict | None:
        """Compare in a worker (checking a structural `form` first); None when it did not answer within
        timeout_s (it is then killed and replaced)."""
        with self.slots:
            worker = self._take()
            # The process's first start-up (seconds, once) is waited for; after that a worker still warming
            # up (the spare, busy re-starting after kills on a loaded machine) counts against this call's
            # time limit: the call times out rather than stall, and the worker stays for the next caller.
            if not worker.wait_ready(timeout_s if self.ever_ready else STARTUP_TIMEOUT_S):
                if self.ever_ready and worker.proc.poll() is None:
                    self._give_back(worker)
                    return None
                self._drop(worker)
                raise RuntimeError("math verifier worker failed to start: run "
                                   "`python -m reasongym.verifiers.math.worker` to see its error")
            self.ever_ready = True
            reply = worker.request({"pred": pred, "gold": gold, "form": form}, timeout_s)
            if reply is None:
                code = worker.proc.poll()
                self._drop(worker)
                if code is not None:  # it died by itself (a crash or the memory limit), it did not time out
                    return {"equal": False, "pred": pred, "gold": gold, "reason": f"worker died (exit code {code})"}
            else:
                self._give_back(worker)
                self._top_up()
            return reply

    def prestart(self) -> None:
        """Start the workers in the background without waiting (an environment calls this when it is made,
        so the start-up is over before its first answer arrives)."""
        self._top_up()

    def warm(self) -> None:
        """Start every worker now and wait until they are ready (benchmarks call this before timing)."""
        fresh = [self._take() for _ in range(self.size + 1)]
        for w in fresh:
            self.ever_ready |= w.wait_ready()
            self._give_back(w)

    def close(self) -> None:
        with self.lock:
            workers, self.all = list(self.all), set()
        for w in workers:
            w.kill()


_POOL: WorkerPool | None = None
_POOL_PID = -1
_POOL_LOCK = threading.Lock()


def default_size() -> int:
    """Workers per process: $REASONGYM_MATH_WORKERS, else min(4, CPU count). Set it to 1 when many
    processes (a multiprocessing pool, several trainer ranks) each verify, to bound memory."""
    value = os.environ.get("REASONGYM_MATH_WORKERS")
    if value is None:
        return max(1, min(4, os.cpu_count() or 1))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"REASONGYM_MATH_WORKERS must be a positive integer, got {value!r}")
    return int(value)


def default_pool() -> WorkerPool:
    """The process-wide pool (a forked child gets a fresh one)."""
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        if _POOL is None or _POOL_PID != os.getpid():
            _POOL = WorkerPool(size=default_size())
            _POOL_PID = os.getpid()
        return _POOL


def _forget_pool_after_fork() -> None:
    """In a forked child: the parent's pool and locks are not ours (a lock may even be held)."""
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _close_default_pool() -> None:
    if _POOL is not None and _POOL_PID == os.getpid():
        _POOL.close()


atexit.register(_close_default_pool)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def serve() -> None:
    """The worker's main loop: JSON requests on stdin, JSON replies on stdout."""
    import resource

    out = os.fdopen(os.dup(1), "wb")  # the protocol channel; stray prints from libraries go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    import warnings

    warnings.filterwarnings("ignore")
    from reasongym.verifiers.math.compare import judge
    from reasongym.verifiers.math.form import STRUCTURAL_FORMS
    from reasongym.verifiers.math.shape import structural_problem

    for pred, gold in WARM_UP:
        judge(pred, gold)  # fill the ANTLR parser's caches, so the first real requests are not slow
        structural_problem(pred, gold, "expression")
    out.write(b"ready\n")
    out.flush()
    for line in sys.stdin.buffer:
        req = json.loads(line)
        try:
            form = req.get("form")
            problem = structural_problem(req["pred"], req["gold"], form) if form in STRUCTURAL_FORMS else None
            if problem:
                reply = {"equal": False, "pred": req["pred"], "gold": req["gold"], "reason": f"{problem} (form {form})",
                         "status": "wrong_form"}
            else:
                j = judge(req["pred"], req["gold"])
                reply = {"equal": j.equal, "pred": j.pred, "gold": j.gold, "reason": j.reason}
        except (RecursionError, MemoryError) as e:
            reply = {"equal": False, "pred": req["pred"], "gold": req["gold"], "reason": f"too large: {type(e).__name__}"}
        except Exception as e:  # a verdict must come back whatever the input
            reply = {"equal": False, "pred": req["pred"], "gold": req["gold"], "reason": f"error: {type(e).__name__}: {e}"[:200],
                     "status": "harness_error"}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    serve()
