"""The first code to run inside every sandbox, passed as `python -I -S -c <this file> ARGS`.

It puts the limits in place before any untrusted code runs, in this order: rlimits (address space, CPU
seconds, processes, file size, open files, no core dumps); oom_score_adj 1000 (the first victim of a real
out-of-memory); when started as root, a drop to the unprivileged uid/gid the host picked for this run (the
kernel enforces RLIMIT_NPROC only for a non-root real uid); a one-byte "ready" note to the host on READY_FD; then every inherited fd above 2 is closed. Only then does it
run the program file as `__main__`, in this same interpreter (a second interpreter start would double the
cost of a run).

ARGS: UID GID AS_BYTES CPU_S NPROC FSIZE_BYTES NOFILE READY_FD PROGRAM [EXTRA_SYS_PATH...]
(UID -1: no privilege drop, the sandbox already runs as an unprivileged user.)
"""
import posix  # built in; `os` would cost an import (~1 ms) that most programs never need
import resource
import sys


def _boot():
    uid, gid, as_bytes, cpu_s, nproc, fsize, nofile, ready_fd = (int(a) for a in sys.argv[1:9])
    program, extra_paths = sys.argv[9], sys.argv[10:]
    limits = [(resource.RLIMIT_CORE, 0, 0), (resource.RLIMIT_NPROC, nproc, nproc),
              (resource.RLIMIT_FSIZE, fsize, fsize), (resource.RLIMIT_NOFILE, nofile, nofile),
              (resource.RLIMIT_CPU, cpu_s, cpu_s + 1)]  # SIGXCPU at the soft limit, SIGKILL a second later
    if as_bytes > 0:
        limits.append((resource.RLIMIT_AS, as_bytes, as_bytes))
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))
    try:  # on a real out-of-memory the kernel kills this run first, never the caller (children inherit it)
        fd = posix.open("/proc/self/oom_score_adj", posix.O_WRONLY)
        posix.write(fd, b"1000")
        posix.close(fd)
    except OSError:
        pass
    if uid >= 0:
        posix.setgroups([])
        posix.setresgid(gid, gid, gid)
        posix.setresuid(uid, uid, uid)
        if posix.getresuid() != (uid, uid, uid) or posix.getresgid() != (gid, gid, gid) or posix.getgroups():
            raise SystemExit("sandbox boot: could not drop privileges")
    posix.write(ready_fd, b"R")
    posix.closerange(3, 2**31 - 1)  # the ready fd, the code fds, anything inherited

    import builtins
    if not hasattr(builtins, "exit"):  # -S skips site, which defines exit()/quit()
        builtins.exit = builtins.quit = sys.exit
    sys.argv = [program]
    sys.path[:0] = [program.rpartition("/")[0] or "/"]
    sys.path.extend(extra_paths)
    main = sys.modules["__main__"].__dict__
    for name in [n for n in main if not n.startswith("__")]:
        del main[name]  # the program sees a clean __main__ (no stray posix/sys/resource of ours)
    main["__file__"] = program
    with open(program, "rb") as f:
        code = compile(f.read(), program, "exec")
    exec(code, main)


_boot()
