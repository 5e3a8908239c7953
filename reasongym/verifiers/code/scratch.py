"""A run's scratch space: one tmpfs capped in bytes AND in inodes, shared by /work, /tmp and /dev/shm.

Why not bwrap's `--tmpfs`: it takes a size but no inode count, and an empty file costs no bytes of the size
cap but about 1 kB of host kernel memory (a program made 782,000 of them in 5 s: +779 MB of slab). So when
the caller is root, the host mounts one tmpfs per run itself, `size=tmp_mb,nr_inodes=tmp_files`, under a
private root-only folder (`/run/reasongym-sandbox/<pid>-<n>`), and bwrap binds its three folders in. At the
end of the run its contents are deleted without following symlinks and the mount is kept for the process's
next run (an unmount costs ~10 ms of RCU grace period); a mount that cannot be proven empty is detached,
and a later Sandbox sweeps the mounts of processes that died.

An unprivileged caller cannot mount on the host: it gets three bwrap tmpfs mounts of tmp_mb each, with no
inode cap; on such hosts a cgroup (see `cgroup.py`) is what bounds the kernel memory.

    python -m reasongym.verifiers.code.scratch     # mounts one, prints its mount line, detaches it
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import itertools
import os
import shutil
import stat
import threading
from functools import cache
from pathlib import Path

MS_NOSUID, MS_NODEV, MS_BIND, MS_PRIVATE, MNT_DETACH = 0x2, 0x4, 0x1000, 1 << 18, 0x2
FOLDERS = {"work": "/work", "tmp": "/tmp", "shm": "/dev/shm"}  # folder of the tmpfs -> where the program sees it
MAX_FREE = 16  # emptied mounts kept per (size, inodes) for this process's next runs
_counter = itertools.count()
_lock = threading.Lock()
_free: dict[tuple[int, int], list[Path]] = {}
os.register_at_fork(after_in_child=_free.clear)  # a forked child must not share its parent's mounts


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc(), name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}{tuple(a.decode() if isinstance(a, bytes) else a for a in args)}: "
                           f"{os.strerror(err)}")


def _base_path() -> Path:
    return Path("/run/reasongym-sandbox" if os.access("/run", os.W_OK) else "/tmp/reasongym-sandbox-root")


@cache
def base_dir() -> Path:
    """The root-only folder that holds the runs' mounts: made once, refused when something else already sits
    there, and made a private mount of its own where its host mount is shared (so that the runs' mounts
    propagate nowhere)."""
    base = _base_path()
    try:
        base.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = os.lstat(base)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o077:
        raise RuntimeError(f"{base} is not a root-only directory (mode {oct(st.st_mode)}, uid {st.st_uid}): "
                           "remove it so the sandbox can make its own")
    with open(base / ".lock", "w") as lock:  # one process at a time: a second bind would hide the first's runs
        fcntl.flock(lock, fcntl.LOCK_EX)
        mounts = _mounts()
        if str(base) not in mounts and "shared:" in mounts[_containing(base, mounts)]:
            _call("mount", str(base).encode(), str(base).encode(), None, MS_BIND, None)
            _call("mount", None, str(base).encode(), None, MS_PRIVATE, None)
    return base


def _mounts() -> dict[str, str]:
    """Mount point -> its propagation fields (`shared:N`, `master:N`), from /proc/self/mountinfo."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")[0].split()
            out[fields[4]] = " ".join(fields[6:])
    return out


def _containing(path: Path, mounts: dict[str, str]) -> str:
    return max((m for m in mounts if str(path) == m or str(path).startswith(m.rstrip("/") + "/")), key=len)


class Scratch:
    """One run's tmpfs on the host. `bwrap_args()` binds its folders; `close()` empties it for the next run
    of this process, or detaches it."""

    def __init__(self, size_mb: int, inodes: int):
        self.key = (size_mb, inodes)
        with _lock:
            free = _free.get(self.key)
            self.path = free.pop() if free else None
        if self.path is None:
            self.path = _mount(size_mb, inodes)

    def bwrap_args(self) -> list[str]:
        return [a for name, inside in FOLDERS.items() for a in ("--bind", str(self.path / name), inside)]

    def close(self) -> None:
        """Called once the run's processes are all gone. Unmounting costs an RCU grace period (~10 ms on a
        busy host) on the run's critical path, so an emptied mount is kept for this process's next run; one
        that cannot be proven empty (its inode count says what is left) is detached instead."""
        try:
            _empty(self.path)
        except (OSError, RecursionError):
            detach(self.path)
            return
        with _lock:
            free = _free.setdefault(self.key, [])
            if len(free) < MAX_FREE:
                free.append(self.path)
                return
        detach(self.path)


def _mount(size_mb: int, inodes: int) -> Path:
    path = base_dir() / f"{os.getpid()}-{next(_counter)}"
    path.mkdir(mode=0o700)
    try:
        options = f"size={size_mb << 20},nr_inodes={inodes},mode=0755".encode()
        _call("mount", b"tmpfs", str(path).encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options)
        for name in FOLDERS:
            (path / name).mkdir()
            os.chmod(path / name, 0o1777)
    except BaseException:
        detach(path)
        raise
    return path


def _empty(path: Path) -> None:
    """Delete everything the run left in the three folders (never following a symlink), then prove the
    tmpfs holds nothing else: 4 inodes in use (its root and the folders), every byte free."""
    for name in FOLDERS:
        folder = path / name
        st = os.lstat(folder)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o1777:
            raise OSError(f"{folder} was changed")
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)  # fd-based: a symlink inside is removed, never followed
                else:
                    os.unlink(entry.path)
    fs = os.statvfs(path)
    if fs.f_files - fs.f_ffree != len(FOLDERS) + 1 or fs.f_bfree != fs.f_blocks:
        raise OSError(f"{path} is not empty after clean-up")


def detach(path: Path) -> None:
    try:
        _call("umount2", str(path).encode(), MNT_DETACH)
    except OSError:
        pass  # not mounted (any more)
    try:
        path.rmdir()
    except OSError:
        pass  # a later sweep() retries


def release() -> None:
    """Detach the emptied mounts this process kept (run at exit; a killed process leaves them to sweep())."""
    with _lock:
        paths = [path for free in _free.values() for path in free]
        _free.clear()
    for path in paths:
        detach(path)


atexit.register(release)


def sweep() -> int:
    """Detach the mounts of runs whose process is gone (a caller killed mid-run); returns how many."""
    base = _base_path()
    gone = 0
    for entry in base.glob("*-*") if base.is_dir() else []:
        pid = entry.name.split("-")[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            detach(entry)
            gone += 1
    return gone


if __name__ == "__main__":
    s = Scratch(64, 4096)
    print([line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(s.path) in line])
    detach(s.path)
    print("detached:", not s.path.exists())
