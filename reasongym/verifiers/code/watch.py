"""The parent's side of one sandboxed run: its limits, its result, and the watchdog.

`pump` reads a run's output under a wall-clock deadline and a byte cap without reaping it; `Started.finish`
kills the run's process group (which takes bwrap's init, and with it the run's whole PID namespace) and
reaps it; `classify` turns how it ended into a status. `reasongym.verifiers.code.sandbox` builds on these (and
re-exports Limits and RunResult); the function-test runners in `code_runs.py` use them for two-process runs.
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


@dataclass(frozen=True)
class Limits:
    """What one run may use. The CPU limit defaults to the wall-clock limit plus one second."""

    timeout_s: float = 10.0          # wall clock, enforced by the parent
    memory_mb: int = 512             # address space (RLIMIT_AS); 0 = no limit
    cpu_s: int | None = None         # RLIMIT_CPU
    max_procs: int = 64              # processes + threads of this run (RLIMIT_NPROC, per run)
    max_output_bytes: int = 8 << 20  # stdout + stderr; more kills the run (status "killed")
    max_file_mb: int = 64            # largest file the program may write (RLIMIT_FSIZE)
    max_open_files: int = 256        # RLIMIT_NOFILE
    tmp_mb: int = 64                 # size of each private tmpfs: /work, /tmp, /dev/shm


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
    ready: bool = False
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
             limits: Limits) -> tuple[str, int, str]:
    """(status, returncode, reason) of a finished run; signals come back as negative return codes."""
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
