"""The sandbox's seccomp filter: the system calls a sandboxed program may not make, compiled to classic BPF.

bwrap installs the filter (`--seccomp FD`, FD holding the compiled program) just before it starts the
Python interpreter, so the boot and the program both run under it, and so does everything they start. A
denied call fails with EPERM (clone3 with ENOSYS, so that libc falls back to clone, whose flags the filter
can read); a call of another ABI (i386 `int 0x80`, x32) kills the process, because its numbers differ.

`DENIED` is the whole list, one group per reason. The group "unaccounted memory" is denied only when the
run has no cgroup to count those pages (see `cgroup.py`): SysV IPC, POSIX message queues and memfds hold
host memory that RLIMIT_AS does not see.

    python -m reasongym.verifiers.code.seccomp      # prints the table (group, reason, calls)
"""

from __future__ import annotations

import platform
import struct

# group -> (why it is denied, the calls). Numbers are in SYSCALLS below.
DENIED: dict[str, tuple[str, tuple[str, ...]]] = {
    "kernel keyring": ("keys live in the host kernel per uid and outlive the run (never reclaimed)",
                       ("add_key", "request_key", "keyctl")),
    "io_uring": ("a second way to make system calls, past this filter", ("io_uring_setup", "io_uring_enter",
                                                                         "io_uring_register")),
    "other processes": ("reading or writing another process's memory or descriptors",
                        ("ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise",
                         "kcmp")),
    "mounts": ("the file system is fixed by bwrap before the program starts",
               ("mount", "umount2", "pivot_root", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
                "open_tree", "open_tree_attr", "mount_setattr")),
    "namespaces": ("a nested user namespace gives mount rights and tmpfs mounts with no size cap (clone with a "
                   "CLONE_NEW* flag is denied too; clone3 gets ENOSYS)", ("unshare", "setns")),
    "kernel code and tracing": ("loading code into the kernel, or watching it",
                                ("bpf", "perf_event_open", "userfaultfd", "init_module", "finit_module",
                                 "delete_module", "kexec_load", "kexec_file_load", "lookup_dcookie", "uselib")),
    "host administration": ("state of the whole machine", ("swapon", "swapoff", "reboot", "acct", "quotactl",
                                                           "quotactl_fd", "syslog", "vhangup", "iopl", "ioperm")),
    "clocks": ("the host's clocks (a watchdog and logs rely on them)",
               ("settimeofday", "clock_settime", "clock_adjtime", "adjtimex")),
    "file handles": ("opening files by handle, past the mount table", ("name_to_handle_at", "open_by_handle_at")),
    "unaccounted memory": ("pages outside RLIMIT_AS; denied only when no cgroup counts them",
                           ("memfd_create", "memfd_secret", "shmget", "shmat", "shmctl", "shmdt", "semget", "semop",
                            "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink",
                            "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr")),
}
# Calls allowed only with some arguments (checked in `_arg_checks`): clone without CLONE_NEW* flags, ioctl
# other than TIOCSTI/TIOCLINUX (pushing keystrokes into a terminal), personality(0) or the query 0xffffffff,
# socket/socketpair of AF_UNIX only: the run's network namespace has nothing to reach, and the buffers of
# loopback TCP connections are host memory outside RLIMIT_AS (a program held 454 MB under memory_mb=128).
ARG_CHECKED = ("clone", "ioctl", "personality", "socket", "socketpair")
ENOSYS_CALLS = ("clone3",)  # its flags sit in memory a filter cannot read: libc falls back to clone

# name -> (x86_64, aarch64) number; None where the architecture has no such call.
SYSCALLS: dict[str, tuple[int | None, int | None]] = {
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438), "process_madvise": (440, 440), "kcmp": (312, 272),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "open_tree": (428, 428), "open_tree_attr": (467, 467), "mount_setattr": (442, 442),
    "unshare": (272, 97), "setns": (308, 268),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "kexec_load": (246, 104),
    "kexec_file_load": (320, 294), "lookup_dcookie": (212, 18), "uselib": (134, None),
    "swapon": (167, 224), "swapoff": (168, 225), "reboot": (169, 142), "acct": (163, 89), "quotactl": (179, 60),
    "quotactl_fd": (443, 443), "syslog": (103, 116), "vhangup": (153, 58), "iopl": (172, None),
    "ioperm": (173, None),
    "settimeofday": (164, 170), "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171),
    "name_to_handle_at": (303, 264), "open_by_handle_at": (304, 265),
    "memfd_create": (319, 279), "memfd_secret": (447, 447), "shmget": (29, 194), "shmat": (30, 196),
    "shmctl": (31, 195), "shmdt": (67, 197), "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191),
    "semtimedop": (220, 192), "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188),
    "msgctl": (71, 187), "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183), "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    "clone": (56, 220), "ioctl": (16, 29), "personality": (135, 92), "clone3": (435, 435),
    "socket": (41, 198), "socketpair": (53, 199),
}
ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # machine -> (column, AUDIT_ARCH_*)
X32_BIT = 0x4000_0000
CLONE_NEW_FLAGS = 0x7E02_0000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
AF_UNIX = 1
EPERM, ENOSYS = 1, 38

# classic BPF opcodes and seccomp return values
LD_ABS, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
ALLOW, KILL_PROCESS, ERRNO = 0x7FFF_0000, 0x8000_0000, 0x0005_0000
NR, ARCH, ARG0, ARG1 = 0, 4, 16, 24  # offsets in struct seccomp_data (the low 32 bits of an argument)


def denied_calls(*, memory_counted: bool) -> list[str]:
    """Every call the filter answers with EPERM outright."""
    return [call for group, (_, calls) in DENIED.items() for call in calls
            if not (memory_counted and group == "unaccounted memory")]


def compile_filter(*, memory_counted: bool, machine: str | None = None) -> bytes:
    """The filter as bytes of `struct sock_filter` (what bwrap's --seccomp reads). `memory_counted`: the run
    has a cgroup that counts shm/memfd pages, so those calls may stay."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise RuntimeError(f"the sandbox's seccomp filter has no system call table for {machine!r} (it knows "
                           f"{sorted(ARCHES)}): add the numbers to SYSCALLS in {__file__}")
    column, audit_arch = ARCHES[machine]

    def nr(name):
        return SYSCALLS[name][column]

    prog: list[tuple] = [(LD_ABS, 0, 0, ARCH), (JEQ, 0, "kill", audit_arch), (LD_ABS, 0, 0, NR)]
    if machine == "x86_64":
        prog.append((JGE, "kill", 0, X32_BIT))
    for name in denied_calls(memory_counted=memory_counted):
        if nr(name) is not None:
            prog.append((JEQ, "eperm", 0, nr(name)))
    prog += [(JEQ, "enosys", 0, nr(name)) for name in ENOSYS_CALLS]
    prog += [(JEQ, name, 0, nr(name)) for name in ARG_CHECKED]
    prog.append((RET, 0, 0, ALLOW))
    prog += _arg_checks()
    return assemble(prog)


def _arg_checks() -> list[tuple]:
    return [("clone",), (LD_ABS, 0, 0, ARG0), (JSET, "eperm", "allow", CLONE_NEW_FLAGS),
            ("ioctl",), (LD_ABS, 0, 0, ARG1), (JEQ, "eperm", 0, TIOCSTI), (JEQ, "eperm", "allow", TIOCLINUX),
            ("personality",), (LD_ABS, 0, 0, ARG0), (JEQ, "allow", 0, 0), (JEQ, "allow", "eperm", 0xFFFF_FFFF),
            ("socket",), ("socketpair",), (LD_ABS, 0, 0, ARG0), (JEQ, "allow", "eperm", AF_UNIX),
            ("allow",), (RET, 0, 0, ALLOW), ("eperm",), (RET, 0, 0, ERRNO | EPERM),
            ("enosys",), (RET, 0, 0, ERRNO | ENOSYS), ("kill",), (RET, 0, 0, KILL_PROCESS)]


def assemble(prog: list[tuple]) -> bytes:
    """Resolve ("label",) markers into forward jump offsets and pack the instructions."""
    labels, code = {}, []
    for item in prog:
        if len(item) == 1:
            labels[item[0]] = len(code)
        else:
            code.append(item)
    out = bytearray()
    for i, (op, jt, jf, k) in enumerate(code):
        jt, jf = (labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf))
        if not (0 <= jt < 256 and 0 <= jf < 256):
            raise ValueError(f"seccomp jump out of range at instruction {i}")
        out += struct.pack("=HBBI", op, jt, jf, k)
    return bytes(out)


if __name__ == "__main__":
    for group, (why, calls) in DENIED.items():
        print(f"| {group} | {why} | {', '.join(calls)} |")
    print(f"| arguments | clone with CLONE_NEW*, ioctl TIOCSTI/TIOCLINUX, personality other than 0, sockets "
          f"other than AF_UNIX | "
          f"{', '.join(ARG_CHECKED)} |\n| ENOSYS | libc falls back to clone | {', '.join(ENOSYS_CALLS)} |")
