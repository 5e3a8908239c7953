"""The sandbox's resources, checked where it matters: on the host.

While each hostile program of ../shared/cases/sandbox/attacks_w2 (and a few more of the same kinds: memfd,
SysV message queues, POSIX queues, /dev/shm, directory and link floods, nested user namespaces) runs, a
thread samples /proc/meminfo: host MemAvailable may not drop, nor Shmem rise, by more than the run's
memory_mb + tmp_mb + MARGIN_MB, and unreclaimable kernel memory may not rise by more than MARGIN_MB; no
kernel key may stay behind for a sandbox uid (/proc/key-users before vs after). The seccomp filter is also
run through a small BPF interpreter for both architectures, and the Limits are checked for bad values.

    OMP_NUM_THREADS=1 python -m pytest -q tests/verifiers/code/test_sandbox_limits.py      # ~1.5 min on 2 busy cores
"""

import ast
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reasongym.verifiers.code import scratch, seccomp
from reasongym.verifiers.code.sandbox import UID_BASE, Sandbox, run_program
from reasongym.verifiers.code.watch import Limits

REPO = Path(__file__).resolve().parents[3]
CASES = REPO.parent / "shared" / "cases" / "sandbox"
W2 = CASES / "attacks_w2"
NO_CASES = pytest.mark.skipif(not W2.is_dir(), reason=f"hostile programs not found at {W2}")
MARGIN_MB = 256  # the interpreter, page tables, pipes, and other jobs on a shared machine
TMP_MB = Limits().tmp_mb


class HostWatch:
    """Samples host memory every 20 ms while a run goes on, and the sandbox uids' kernel keys around it."""

    def __init__(self):
        self.base, self.worst, self._stop = self.meminfo(), {}, threading.Event()

    @staticmethod
    def meminfo() -> dict[str, int]:
        return {k: int(v.split()[0]) >> 10 for k, v in (line.split(":") for line in open("/proc/meminfo"))}

    @staticmethod
    def sandbox_keys() -> dict[int, str]:
        out = {}
        for line in Path("/proc/key-users").read_text().splitlines():
            uid, rest = line.split(":", 1)
            if int(uid) >= UID_BASE or int(uid) == os.getuid() != 0:
                out[int(uid)] = rest.split()[0]
        return out

    def __enter__(self):
        self.keys_before = self.sandbox_keys()
        self.worst = {"MemAvailable": 0, "Shmem": 0, "SUnreclaim": 0}
        self.thread = threading.Thread(target=self._sample)
        self.thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            m = self.meminfo()
            self.worst["MemAvailable"] = max(self.worst["MemAvailable"], self.base["MemAvailable"] - m["MemAvailable"])
            for key in ("Shmem", "SUnreclaim"):
                self.worst[key] = max(self.worst[key], m[key] - self.base[key])
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        time.sleep(0.2)  # the kernel's key garbage collection runs right after the last user is gone
        self.keys_after = self.sandbox_keys()

    def check(self, memory_mb: int) -> None:
        bound = memory_mb + TMP_MB + MARGIN_MB
        assert self.worst["MemAvailable"] <= bound, f"host MemAvailable dropped {self.worst} MB (bound {bound})"
        assert self.worst["Shmem"] <= bound, f"host Shmem rose {self.worst} MB (bound {bound})"
        assert self.worst["SUnreclaim"] <= MARGIN_MB, f"host kernel memory rose {self.worst} MB"
        new = {u: n for u, n in self.keys_after.items() if self.keys_before.get(u) != n}
        assert not new, f"kernel keys left behind for sandbox uids: {new}"


def w2_specs(kind: str = "sandbox") -> list[dict]:
    if not W2.is_dir():
        return []
    return [s for s in map(json.loads, (W2 / "attacks.jsonl").read_text().splitlines()) if s["kind"] == kind]


@NO_CASES
@pytest.mark.parametrize("spec", w2_specs(), ids=lambda s: s["name"])
def test_w2_programs_leave_the_host_as_it_was(spec, tmp_path):
    stdin = str(tmp_path) if spec["name"] == "symlink_workdir" else spec["stdin"]
    (tmp_path / "keep").write_text("x")
    with HostWatch() as host:
        r = run_program((W2 / f"{spec['name']}.py").read_text(), stdin=stdin, timeout_s=spec["timeout_s"],
                        memory_mb=spec["memory_mb"])
    host.check(spec["memory_mb"])
    assert "ESCAPED" not in r.stdout and "INJECTED" not in r.stdout, r
    assert r.status == ("killed" if spec["name"] == "stderr_binary_flood" else "ok"), r
    checks = {"inherited_fds": lambda out: out.startswith("open fds: {0:") and ", 3:" not in out.split("\n")[0],
              "keyring_leak": lambda out: "planted 0 keys" in out,
              "clock_tamper": lambda out: "(0, " not in out,  # every call failed
              "tmpfs_inode_flood": lambda out: int(out.split("created ")[1].split()[0]) <= Limits().tmp_files,
              "sysv_shm_memory": lambda out: "allocated 0 MB" in out}
    assert checks.get(spec["name"], lambda out: True)(r.stdout), r.stdout[:2000]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # the decoy (symlink_workdir) is intact


SAME_KINDS = {  # more programs of the kinds above, each trying to hold host memory past memory_mb (=128)
    "memfd_write": "import os\nfds = []\nfor _ in range(40):\n    fds.append(os.memfd_create('x'))\n"
                   "    for _ in range(32): os.write(fds[-1], b'x' * (1 << 20))\nprint('HELD 1280 MB')",
    "sysv_shm_small": "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.shmat.restype = ctypes.c_void_p\n"
                      "done = 0\nfor _ in range(80):\n    sid = libc.shmget(0, 16 << 20, 0o1600)\n    if sid < 0: break\n"
                      "    a = libc.shmat(sid, None, 0); ctypes.memset(a, 1, 16 << 20); libc.shmdt(ctypes.c_void_p(a))\n"
                      "    done += 16\nprint('HELD' if done else 'none', done, 'MB, errno', ctypes.get_errno())",
    "sysv_msg": "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nbuf = ctypes.create_string_buffer(8200)\n"
                "buf[0] = 1\ntotal = 0\nfor _ in range(20000):\n    q = libc.msgget(0, 0o1600)\n    if q < 0: break\n"
                "    while libc.msgsnd(q, buf, 8192, 0o4000) == 0: total += 8192\n"
                "print('HELD' if total else 'none', total >> 20, 'MB, errno', ctypes.get_errno())",
    "posix_mq": "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "print('mq_open', libc.mq_open(b'/q', 0o100 | 2, 0o600, None), ctypes.get_errno())",
    "dev_shm": "import os\nf = open('/dev/shm/big', 'wb')\ntry:\n    for _ in range(1024): f.write(b'x' * (1 << 20))\n"
               "    f.flush()\nexcept OSError as e: print('stopped', e)\nprint('wrote', os.path.getsize('/dev/shm/big') >> 20)",
    "link_flood": "import os, time\nopen('/tmp/f', 'w').close()\nn = 0\nend = time.monotonic() + 3\ntry:\n"
                  "    while time.monotonic() < end:\n        os.link('/tmp/f', f'/tmp/l{n}'); os.mkdir(f'/work/d{n}');"
                  " os.symlink('x' * 200, f'/dev/shm/s{n}'); n += 1\nexcept OSError as e: print('stopped', e)\n"
                  "print('made', 3 * n)",
    "tcp_buffers": "import socket\nsrv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(200)\ntotal = 0\n"
                   "keep = []\nfor _ in range(120):\n    c = socket.create_connection(srv.getsockname())\n"
                   "    keep += [c, srv.accept()[0]]; c.setblocking(False)\n    try:\n"
                   "        while True: total += c.send(b'x' * 65536)\n    except BlockingIOError: pass\n"
                   "print('HELD', total >> 20, 'MB')",
    "unix_buffers": "import socket\ntotal, keep = 0, []\nfor _ in range(120):\n"
                    "    a, b = socket.socketpair(); a.setblocking(False); keep += [a, b]\n    try:\n"
                    "        while True: total += a.send(b'x' * 65536)\n    except BlockingIOError: pass\n"
                    "print('unix', total >> 20, 'MB')",
    "nested_userns": "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nr = {}\n"
                     "r['unshare'] = (libc.unshare(0x10000000 | 0x20000), ctypes.get_errno())\n"
                     "pid = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)\nif pid == 0: os._exit(0)\n"
                     "r['clone'] = (pid, ctypes.get_errno())\nr['clone3'] = (libc.syscall(435, 0, 0), ctypes.get_errno())\n"
                     "r['setns'] = (libc.setns(os.open('/proc/self/ns/user', 0), 0), ctypes.get_errno())\n"
                     "print(r, 'CREATED' if any(v[0] >= 0 for v in r.values()) else 'refused')",
}


@pytest.mark.parametrize("name", sorted(SAME_KINDS))
def test_more_programs_of_the_same_kinds_are_bounded(name):
    with HostWatch() as host:
        r = run_program(SAME_KINDS[name], timeout_s=8, memory_mb=128)
    host.check(128)
    assert "HELD" not in r.stdout and "CREATED" not in r.stdout, r
    if name == "nested_userns":
        assert "refused" in r.stdout and "(-1, 1)" in r.stdout, r  # EPERM (clone3: ENOSYS)
    if name in ("dev_shm", "link_flood") and os.geteuid() == 0:  # bytes and inodes of the scratch tmpfs
        assert "stopped" in r.stdout and "No space left" in r.stdout, r


def test_inside_the_filter_is_on_and_ordinary_programs_still_work():
    code = ("import os, subprocess, threading\nst = open('/proc/self/status').read()\n"
            "print([l for l in st.splitlines() if l.startswith('Seccomp')], open('/proc/self/oom_score_adj').read())\n"
            "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
            "print(subprocess.run(['/bin/echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
            "import multiprocessing as mp\nwith mp.Pool(2) as p: print(sum(p.map(abs, range(-5, 5))))\n")
    r = run_program(code, timeout_s=20)
    assert r.status == "ok", r
    assert "Seccomp:\\t2" in r.stdout and "1000" in r.stdout  # filter mode; first victim of an OOM
    assert "thread" in r.stdout and "child" in r.stdout and "25" in r.stdout


def test_only_the_capped_scratch_folders_are_writable():
    """bwrap's own root and /dev are tmpfs mounts without a size cap: read-only, so nothing lands there."""
    code = ("import os\nr = {}\nfor d in ('/', '/dev', '/etc', '/usr', '/work', '/tmp', '/dev/shm'):\n    try:\n"
            "        open(os.path.join(d, 'probe'), 'w').write('x'); r[d] = 'written'\n"
            "    except OSError as e:\n        r[d] = e.strerror\nprint(r)")
    seen = ast.literal_eval(run_program(code, timeout_s=10).stdout)
    assert {d for d, v in seen.items() if v == "written"} == {"/work", "/tmp", "/dev/shm"}, seen


def bpf(prog: bytes, nr: int, arch: int, args=(0,) * 6) -> int:
    """A classic-BPF interpreter for the few opcodes the filter uses; returns the filter's verdict."""
    code = [struct.unpack_from("=HBBI", prog, i) for i in range(0, len(prog), 8)]
    data = struct.pack("=iI", nr, arch) + struct.pack("=Q", 0) + struct.pack("=6Q", *args)
    pc = acc = 0
    for _ in range(len(code)):
        op, jt, jf, k = code[pc]
        if op == seccomp.RET:
            return k
        if op == seccomp.LD_ABS:
            acc, pc = struct.unpack_from("=I", data, k)[0], pc + 1
            continue
        taken = {seccomp.JEQ: acc == k, seccomp.JGE: acc >= k, seccomp.JSET: bool(acc & k)}[op]
        pc += 1 + (jt if taken else jf)
    raise AssertionError("the filter ran off its end")


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHES))
def test_the_filter_decides_every_listed_call(machine):
    column, arch = seccomp.ARCHES[machine]
    eperm, allow = seccomp.ERRNO | seccomp.EPERM, seccomp.ALLOW
    for counted in (False, True):
        prog = seccomp.compile_filter(memory_counted=counted, machine=machine)
        for name in seccomp.denied_calls(memory_counted=False):
            nr = seccomp.SYSCALLS[name][column]
            memory = name in seccomp.DENIED["unaccounted memory"][1]
            if nr is not None:
                assert bpf(prog, nr, arch) == (allow if counted and memory else eperm), (machine, name)
        nr = {n: seccomp.SYSCALLS[n][column] for n in ("clone", "clone3", "ioctl", "personality")}
        assert bpf(prog, nr["clone"], arch, (0x10000000 | 17, 0, 0, 0, 0, 0)) == eperm  # CLONE_NEWUSER
        assert bpf(prog, nr["clone"], arch, (0x003D0F00, 0, 0, 0, 0, 0)) == allow  # a pthread
        assert bpf(prog, nr["clone3"], arch) == seccomp.ERRNO | seccomp.ENOSYS
        assert bpf(prog, nr["ioctl"], arch, (0, seccomp.TIOCSTI, 0, 0, 0, 0)) == eperm
        assert bpf(prog, nr["ioctl"], arch, (0, 0x5401, 0, 0, 0, 0)) == allow  # TCGETS
        assert bpf(prog, nr["personality"], arch, (0xFFFFFFFF, 0, 0, 0, 0, 0)) == allow
        assert bpf(prog, nr["personality"], arch, (0x0040000, 0, 0, 0, 0, 0)) == eperm
        for call in ("socket", "socketpair"):
            number = seccomp.SYSCALLS[call][column]
            assert bpf(prog, number, arch, (1, 1, 0, 0, 0, 0)) == allow  # AF_UNIX
            assert [bpf(prog, number, arch, (domain, 1, 0, 0, 0, 0)) for domain in (2, 10, 16, 38)] == [eperm] * 4
        for ordinary in (0, 1, 2, 3, 9, 57, 60, 231):  # read/write/open(at)/close/mmap/... on either table
            if ordinary not in {v[column] for v in seccomp.SYSCALLS.values()}:
                assert bpf(prog, ordinary, arch) == allow
        assert bpf(prog, 3, 0x40000003) == seccomp.KILL_PROCESS  # i386 through int 0x80
    if machine == "x86_64":
        assert bpf(prog, 0x4000_0000 | 3, arch) == seccomp.KILL_PROCESS  # x32


@pytest.mark.parametrize("bad, field", [({"timeout_s": 0}, "timeout_s"), ({"timeout_s": -1}, "timeout_s"),
                                        ({"timeout_s": "3"}, "timeout_s"), ({"timeout_s": float("nan")}, "timeout_s"),
                                        ({"memory_mb": -5}, "memory_mb"), ({"memory_mb": 0}, "memory_mb"),
                                        ({"memory_mb": 1 << 40}, "memory_mb"), ({"memory_mb": 1.5}, "memory_mb"),
                                        ({"max_procs": True}, "max_procs"), ({"tmp_files": 0}, "tmp_files"),
                                        ({"cpu_s": 0}, "cpu_s")])
def test_bad_settings_are_an_error_that_names_them(bad, field):
    with pytest.raises(ValueError, match=f"Limits.{field}="):
        Limits(**bad)
    with pytest.raises(ValueError, match=f"Limits.{field}="):
        run_program("print(1)", **{"timeout_s": 5, **bad})


@pytest.mark.skipif(os.geteuid() != 0, reason="the inode-capped scratch tmpfs is mounted for root callers only")
def test_scratch_mounts_are_emptied_after_runs_and_swept_after_a_killed_caller():
    mine = f"{scratch.base_dir()}/{os.getpid()}-"
    r = run_program("import os\nopen('/tmp/x', 'w').write('x')\nos.symlink('/usr', '/work/l')\nos.mkdir('/dev/shm/d')",
                    timeout_s=5)
    assert r.status == "ok", r
    kept = [m for m in scratch._mounts() if m.startswith(mine)]  # emptied, kept for this process's next run
    assert 0 < len(kept) <= scratch.MAX_FREE
    for mount in kept:
        fs = os.statvfs(mount)
        assert fs.f_files - fs.f_ffree == 4 and not any(os.listdir(f"{mount}/{d}") for d in scratch.FOLDERS)
    code = ("from reasongym.verifiers.code.sandbox import run_program\n"
            "run_program('import time\\ntime.sleep(60)', timeout_s=60)\n")
    caller = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    theirs = f"{scratch.base_dir()}/{caller.pid}-"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not [m for m in scratch._mounts() if m.startswith(theirs)]:
        time.sleep(0.05)
    assert [m for m in scratch._mounts() if m.startswith(theirs)], "the caller never mounted its scratch"
    caller.kill()
    caller.wait()
    Sandbox()  # a new Sandbox sweeps mounts whose process is gone
    assert not [m for m in scratch._mounts() if m.startswith(theirs)]


@NO_CASES
def test_run_attacks_passes_on_the_second_wave(tmp_path):
    """run_attacks.py reads attacks.jsonl and attacks/ next to itself: give it the second wave that way."""
    shutil.copy(CASES / "run_attacks.py", tmp_path)
    (tmp_path / "attacks").mkdir()
    rows = []
    for spec in w2_specs():
        shutil.copy(W2 / f"{spec['name']}.py", tmp_path / "attacks")
        expect = {"stderr_binary_flood": "killed", "sysv_shm_memory": "blocked", "tmpfs_inode_flood": "blocked",
                  "keyring_leak": "blocked"}.get(spec["name"], "ok")
        rows.append(json.dumps({"name": spec["name"], "expect": expect, "stdin": spec["stdin"]}))
    (tmp_path / "attacks.jsonl").write_text("\n".join(rows) + "\n")
    p = subprocess.run([sys.executable, str(tmp_path / "run_attacks.py"), "--runner",
                        "reasongym.verifiers.sandbox:run_for_harness", "--timeout", "10", "--final-wait", "1"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    assert summary["attacks"] == len(rows) and summary["preflight_isolated"], p.stdout
    assert summary["host_harmed"] == [] and summary["leaked"] == [] and summary["failed"] == [], p.stdout
