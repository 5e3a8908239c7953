"""A cgroup v2 per run, where the host delegates one: memory (page cache, tmpfs, shm, memfd and kernel memory
all counted), no swap, a process count, and an out-of-memory kill that takes the run and never the caller.

Found at run time (once per process): `$REASONGYM_CGROUP` names a delegated cgroup v2 folder (for example
one made by `systemd-run --scope -p Delegate=yes`; `off` turns cgroups off); without it the caller's own
cgroup is used when it already hands `memory` and `pids` to its children (a cgroup with processes of its own
cannot, by the kernel's rule, so that is mostly a host or VM root). Where neither works (cgroup v1 or hybrid
hosts, read-only /sys/fs/cgroup, an undelegated container) `find_parent()` is None and the sandbox falls back
to denying the calls whose pages nothing would count (see `seccomp.py`) and to an inode-capped tmpfs.

Each run gets `<parent>/rg-<pid>-<n>` with memory.max = memory_mb + tmp_mb, memory.swap.max = 0,
memory.oom.group = 1 and pids.max; bwrap starts inside it through `sh -c 'echo 0 > cgroup.procs; exec ...'`,
and `close()` kills what is left (cgroup.kill) and removes it.

    python -m reasongym.verifiers.code.cgroup      # says which cgroup runs would use, or why none
"""

from __future__ import annotations

import errno
import itertools
import os
import time
from functools import cache
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
NEEDED = {"memory", "pids"}
_counter = itertools.count()


def _own_cgroup() -> Path | None:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return ROOT / line[3:].strip().lstrip("/")
    return None


def find_parent() -> Path | None:
    """The cgroup under which runs get their own, or None (with `why_not()` saying why)."""
    return _probe()[0]


def why_not() -> str:
    return _probe()[1]


@cache
def _probe() -> tuple[Path | None, str]:
    setting = os.environ.get("REASONGYM_CGROUP", "")
    if setting == "off":
        return None, "REASONGYM_CGROUP=off"
    parent = Path(setting) if setting else _own_cgroup()
    if parent is None or not (parent / "cgroup.controllers").is_file():
        return None, f"no cgroup v2 folder ({parent or '/proc/self/cgroup has no 0:: line'})"
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
        if not NEEDED <= enabled:
            (parent / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in sorted(NEEDED - enabled)))
        test = RunCgroup(parent, memory_bytes=64 << 20, pids=8)
        test.close()
    except OSError as e:
        return None, f"{parent} does not delegate {sorted(NEEDED)} to new children: {e}"
    return parent, ""


class RunCgroup:
    """One run's cgroup. `wrap(argv)` starts argv inside it; `close()` kills what is left and removes it."""

    def __init__(self, parent: Path, *, memory_bytes: int, pids: int):
        self.path = parent / f"rg-{os.getpid()}-{next(_counter)}"
        self.path.mkdir()
        try:
            (self.path / "memory.max").write_text(str(memory_bytes))
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
            (self.path / "memory.oom.group").write_text("1")
            (self.path / "pids.max").write_text(str(pids))
        except BaseException:
            self.close()
            raise

    def wrap(self, argv: list[str]) -> list[str]:
        return ["/bin/sh", "-c", 'echo 0 > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def oom_killed(self) -> bool:
        try:
            events = (self.path / "memory.events").read_text().split()
            return int(events[events.index("oom_kill") + 1]) > 0
        except (OSError, ValueError, IndexError):
            return False

    def close(self) -> None:
        try:
            (self.path / "cgroup.kill").write_text("1")
        except OSError:
            pass
        for _ in range(50):  # the kernel empties a killed cgroup within milliseconds
            try:
                self.path.rmdir()
                return
            except OSError as e:
                if e.errno != errno.EBUSY:
                    return  # gone already, or not a cgroup folder at all
                time.sleep(0.01)


if __name__ == "__main__":
    print(f"runs get a cgroup under {find_parent()}" if find_parent() else f"no cgroup for runs: {why_not()}")
