"""The parent's side of one sandboxed run: its limits, its result, and the watchdog.

`Limits` are checked when made (a bad value is a ValueError naming the field); `pump` reads a run's output
under a wall-clock deadline and a byte cap without reaping it; `Started.finish` kills the run's process group
(which takes bwrap's init, and with it the run's whole PID namespace), reaps it and releases the run's
scratch mount and cgroup; `classify` turns how it ended into a status. `reasongym.verifiers.code.sandbox`
builds on these (and re-exports Limits and RunResult); the test runners in `runs.py` use them for
two-process runs.

    python -c "from reasongym.verifiers.code.watch import Limits; Limits(timeout_s=0)"   # ValueError
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field

STATUSES = ("ok", "error", "timeout", "memory", "killed")


# name -> (smallest, largest) allowed value; anything outside is a mistake, not a limit (timeout_s=0 would
# time out every run, memory_mb=-5 would switch the memory limit off).
BOUNDS = {"timeout_s": (0.001, 86_400.0), "memory_mb": (16, 1 << 20), "cpu_s": (1, 86_400), "max_procs": (1, 1 << 16),
          "max_output_bytes": (1, 1 << 34), "max_file_mb": (1, 1 << 20), "max_open_files": (8, 1 << 20),
          "tmp_mb": (1, 1 << 20), "tmp_files": (16, 1 << 24)}


@dataclass(frozen=True)
class Limits:
    """What one run may use. The CPU limit defaults to the wall-clock limit plus one second. Every value is
    checked when the Limits are made (see BOUNDS): a bad one is a ValueError that names it."""

    timeout_s: float = 10.0          # wall clock, enforced by the parent
    memory_mb: int = 512             # address space (RLIMIT_AS), and the run's cgroup memory where there is one
    cpu_s: int | None = None         # RLIMIT_CPU
    max_procs: int = 64              # processes + threads of this run (RLIMIT_NPROC per run, cgroup pids.max)
    max_output_bytes: int = 8 << 20  # stdout + stderr; more kills the run (status "killed")
    max_file_mb: int = 64            # largest file the program may write (RLIMIT_FSIZE)
    max_open_files: int = 256        # RLIMIT_NOFILE
    tmp_mb: int = 64                 # bytes of the run's scratch tmpfs, shared by /work, /tmp and /dev/shm
    tmp_files: int = 4096            # inodes of that tmpfs (files, directories, links): kernel memory is bounded too

    def __post_init__(self):
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not (name == "cpu_s" and value is None):
                check_bound(name, value, low, high)


def check_bound(name: str, value, low: float, high: float) -> None:
    """Raise a ValueError that names the Limits field unless `value` is a number (an int where it must be
    one) within [low, high]."""
    kind = (int, float) if name == "timeout_s" else (int,)
    if not isinstance(value, bool) and isinstance(value, kind) and low <= value <= high:
        return
    why = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
        why = " (0 or less would be no limit at all, or a run that can never finish)"
    what = "a number" if name == "timeout_s" else "an integer"
    raise ValueError(f"sandbox Limits.{name}={value!r} is invalid: it must be {what} from {low:g} to {high:g}{why}")


@dataclass
class RunResult:
    """How one run ended. `reason` says why in words (which limit, which signal)."""

    status: str
    stdout: str
    stderr: str
    returncode: int | None
    wall_s: float
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Started:
    """A program started in the sandbox. `finish()` kills whatever is left of it and reaps it."""

    popen: subprocess.Popen
    pidfd: int
    ready_r: int
    tmpdir: str | None = None
    held: list = field(default_factory=list)  # the run's scratch mount and cgroup: closed by finish()
    ready: bool = False
    oom_killed: bool = False  # the run's cgroup saw an out-of-memory kill
    _done: bool = field(default=False, repr=False)

    def finish(self) -> tuple[int, bool]:
        """Kill the run's process group (bwrap's init dies with it, and the kernel then kills the whole
        PID namespace), reap it, and return (exit code, whether the boot got as far as the program)."""
        if not self._done:
            self._done = True
            try:  # not reaped yet, so the pgid cannot have been reused
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.popen.wait()
            os.close(self.pidfd)
            try:
                self.ready = os.read(self.ready_r, 1) == b"R"
            except BlockingIOError:
                self.ready = False
            os.close(self.ready_r)
            if self.tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.oom_killed = any(getattr(r, "oom_killed", lambda: False)() for r in self.held)
            for resource in self.held:
                resource.close()
        return self.popen.returncode, self.ready


@dataclass
class Pumped:
    data: dict[str, bytes]
    timed_out: bool
    overflow: bool


def pump(streams: dict[str, int], proc: Started, deadline: float, max_bytes: int) -> Pumped:
    """Read the named fds until `proc` has exited and they reach EOF, the deadline passes (timed_out) or
    more than max_bytes arrived in total (overflow). Does not reap `proc`."""
    sel = selectors.DefaultSelector()
    for name, fd in streams.items():
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, name)
    sel.register(proc.pidfd, selectors.EVENT_READ, None)
    data = {name: bytearray() for name in streams}
    total, exited = 0, False
    try:
        while len(sel.get_map()) > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return Pumped({k: bytes(v) for k, v in data.items()}, not exited, False)
            for key, _ in sel.select(left):
                if key.data is None:
                    exited = True  # everything in the namespace is gone now: EOFs follow at once,
                    deadline = min(deadline, time.monotonic() + 1.0)  # but never wait long for them
                    sel.unregister(key.fd)
                    continue
                try:
                    chunk = os.read(key.fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                data[key.data] += chunk
                total += len(chunk)
                if total > max_bytes:
                    return Pumped({k: bytes(v) for k, v in data.items()}, False, True)
    finally:
        sel.close()
    return Pumped({k: bytes(v) for k, v in data.items()}, False, False)


def classify(returncode: int, stderr: str, *, timed_out: bool, overflow: bool,
             limits: Limits, oom_killed: bool = False) -> tuple[str, int, str]:
    """(status, returncode, reason) of a finished run; signals come back as negative return codes."""
    if oom_killed:
        return "memory", returncode, f"out of memory in the run's cgroup ({limits.memory_mb + limits.tmp_mb} MB)"
    if overflow:
        return "killed", returncode, f"output exceeded {limits.max_output_bytes} bytes"
    if timed_out:
        return "timeout", returncode, f"wall-clock limit of {limits.timeout_s:g} s"
    if returncode > 128 and returncode - 128 in signal.valid_signals():
        sig = signal.Signals(returncode - 128)
        if sig == signal.SIGXCPU:
            return "timeout", -sig.value, f"CPU limit of {limits.cpu_s or int(limits.timeout_s) + 1} s"
        return "killed", -sig.value, f"killed by {sig.name}"
    if returncode == 0:
        return "ok", 0, ""
    last = stderr.strip().rsplit("\n", 1)[-1]
    if last.startswith("MemoryError"):
        return "memory", returncode, f"MemoryError under the {limits.memory_mb} MB limit"
    return "error", returncode, last[:300]
