"""Run a command as inside a Docker container: under the denials of Docker's default seccomp
profile for a process without CAP_SYS_ADMIN, inherited by every child it starts. ``unshare``,
``setns``, ``mount``, ``umount2`` and ``pivot_root`` fail with EPERM, ``clone`` with any namespace
flag fails with EPERM, and ``clone3`` with ENOSYS (so that glibc falls back to ``clone``). Under it
bubblewrap cannot create a sandbox, as on Gradescope, a JupyterHub container or a CI runner.

The filter is libseccomp's (through pyseccomp), not the kit's own: the kit's seccomp code is what
is being tested.

    python tests/container.py [--no-landlock] [--user UID] COMMAND...
"""
from __future__ import annotations

import errno
import os
import sys

NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


def enter(landlock: bool = True) -> None:
    """Load the filter into this process (and so into everything it starts). ``landlock=False``:
    also a kernel without Landlock (its calls fail with ENOSYS, as before Linux 5.13 or under an
    older container profile), where no sandbox layer can run at all."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    if not landlock:
        for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
            rules.add_rule(seccomp.ERRNO(errno.ENOSYS), name)
    rules.load()


def available() -> bool:
    """libseccomp (through pyseccomp) can load a filter here."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def command(argv, landlock: bool = True, user: int | None = None) -> list:
    """``argv`` run inside the simulated container (``landlock=False``: on a kernel without Landlock;
    ``user``: as that uid and gid, as a JupyterHub container runs the instructor's own user)."""
    return [sys.executable, os.path.abspath(__file__), *([] if landlock else ["--no-landlock"]),
            *([] if user is None else ["--user", str(user)]), *argv]


def without_any_layer(argv) -> list:
    return command(argv, landlock=False)


if __name__ == "__main__":
    args = sys.argv[1:]
    landlock = args[0] != "--no-landlock"
    args = args if landlock else args[1:]
    user = int(args[1]) if args[0] == "--user" else None
    args = args if user is None else args[2:]
    enter(landlock=landlock)
    if user is not None:
        os.setgroups([])
        os.setresgid(user, user, user)
        os.setresuid(user, user, user)
    os.execvp(args[0], args)
