"""Linux primitives the fork server uses to put each forked kernel in a sandbox of its own.

bubblewrap builds the sandbox a kernel normally starts in, then execs the kernel. A kernel forked
from the warm fork server cannot be exec'd (that would lose what the server imported), so the
fork builds, for itself, what bubblewrap gives each kernel beyond what the server's own
bubblewrap sandbox already gives: its own mount, PID, IPC and network namespaces, a fresh
``/tmp`` and ``/dev/shm``, only its own two folders of the grading folder, a ``/proc`` of its own,
its own session, no capabilities and the memory limit. Standard library and ``ctypes`` only.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAPABILITY_VERSION_3 = 0x20080522
# What /proc parts bubblewrap covers read-only in every sandbox
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")
# statvfs flags that a remount must keep (the kernel refuses to clear the locked ones)
_KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
               (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxSetupError(OSError):
    """A step of building a forked kernel's sandbox failed: the kernel must not run."""


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise SandboxSetupError(code, f"{what}: {os.strerror(code)}")


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source or ''} on {target}")


def prctl(option: int, arg: int = 0) -> int:
    return _libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                       ctypes.c_ulong(0))


def kept_flags(path: str) -> int:
    """The mount flags of ``path`` that a remount has to repeat."""
    have = os.statvfs(path).f_flag
    return sum(flag for st, flag in _KEPT_FLAGS if have & st)


def remount_read_only(path: str) -> None:
    mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(path))


def bind_read_only(path: str) -> None:
    mount(path, path, None, MS_BIND | MS_REC)
    remount_read_only(path)


def isolate(own_folders, covered, read_only=()) -> None:
    """In a fresh fork of the server: new mount, IPC, network and PID namespaces (the PID one
    takes effect for the next fork); fresh tmpfs over ``covered`` (the folders in which the server
    sees every kernel's folders) and over ``/dev/shm``; only ``own_folders`` bound back, at their
    own paths, and ``read_only``, the server's read-only paths that were under ``covered`` (a kit
    or a Python installation under /tmp), as they were; ``/dev`` read-only so that nothing
    written there outlives the kernel."""
    unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID)
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the server
    tops = outermost(covered)
    under = lambda p: any(p == d or p.startswith(d.rstrip("/") + "/") for d in tops)  # noqa: E731
    held = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC), False) for path in read_only if under(path)]
    held += [(path, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC), True) for path in own_folders]
    for folder in tops:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for path, fd, writable in sorted(held, key=lambda item: (item[0].count("/"), item[0])):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(path, exist_ok=True)
        elif not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        if not writable:
            remount_read_only(path)
        os.close(fd)
    if os.path.isdir("/dev/shm"):
        mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    remount_read_only("/dev")
    _loopback_up()


def outermost(folders) -> list:
    """``folders`` without those inside another of them."""
    tops: list[str] = []
    for folder in sorted(set(folders), key=lambda p: (p.count("/"), p)):
        if not any(folder == d or folder.startswith(d.rstrip("/") + "/") for d in tops):
            tops.append(folder)
    return tops


def _loopback_up() -> None:
    """bubblewrap brings up ``lo`` in a new network namespace; do the same."""
    iff_up, iff_loopback, iff_running, siocsifflags = 0x1, 0x8, 0x40, 0x8914
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH14x", b"lo", iff_up | iff_loopback | iff_running))


def mount_proc() -> None:
    """In the first process of the new PID namespace: a ``/proc`` that shows only this kernel's
    processes, with the parts bubblewrap covers read-only covered the same way."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_COVERED:
        path = f"/proc/{name}"
        if os.path.exists(path):
            bind_read_only(path)


def die_with_parent(signal_number: int) -> None:
    _check(prctl(PR_SET_PDEATHSIG, signal_number), "prctl(PR_SET_PDEATHSIG)")


def drop_capabilities() -> None:
    """No capabilities left in any set, and none to be gained by exec: as ``--cap-drop ALL``."""
    _check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL), "clear ambient capabilities")
    for cap in range(64):
        if prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() != errno.EINVAL:
            _check(-1, f"drop capability {cap} from the bounding set")
    header = struct.pack("Ii", CAPABILITY_VERSION_3, 0)
    data = bytes(24)  # two (effective, permitted, inheritable) triples, all zero
    _check(_libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)), "capset")
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
