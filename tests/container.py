"""Run a command as inside a Docker container: under the denials of Docker's default seccomp
profile for a process without CAP_SYS_ADMIN, inherited by every child it starts. ``unshare``,
``setns``, ``mount``, ``umount2`` and ``pivot_root`` fail with EPERM, ``clone`` with any namespace
flag fails with EPERM, and ``clone3`` with ENOSYS (so that glibc falls back to ``clone``). Under it
bubblewrap cannot create a sandbox, as on Gradescope, a JupyterHub container or a CI runner.

The filter is libseccomp's (through pyseccomp), not the kit's own: the kit's seccomp code is what
is being tested.

    python tests/container.py COMMAND...
"""
from __future__ import annotations

import errno
import os
import sys

NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)


def enter() -> None:
    """Load the filter into this process (and so into everything it starts)."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in ("unshare", "setns", "mount", "umount2", "pivot_root"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    for flag in NAMESPACE_FLAGS:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()


def command(argv) -> list:
    """``argv`` run inside the simulated container."""
    return [sys.executable, os.path.abspath(__file__), *argv]


if __name__ == "__main__":
    enter()
    os.execvp(sys.argv[1], sys.argv[1:])
