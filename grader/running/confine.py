"""The second sandbox layer, for where bubblewrap cannot start (Docker, Kubernetes, CI runners):
Landlock, a seccomp deny-list, an unprivileged user, and a keeper that ends every process the
kernel started. Standard library and ``ctypes`` only: it also runs as a script, before the kernel.

Like the kernel's Landlock sample (samples/landlock/sandboxer.c), the policy is read in one screen:
ask the kernel for its Landlock ABI, handle every right that ABI knows, add one rule per allowed
path, drop the user and the capabilities, set ``no_new_privs``, restrict, load the seccomp
filter, exec. Nothing here needs a user namespace or a mount, which containers deny.

    launcher (what jupyter_client sees; dies with the grading thread)
      └─ keeper: its own session, a child subreaper; outlives a killed launcher only to kill
         │       every process below it, then closes the grader's pipe ("all gone")
         └─ the kernel: the unprivileged user (as root), Landlock, seccomp, the memory limit

Usage: python -I -S confine.py POLICY_JSON KERNEL_COMMAND...
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import signal
import struct
import sys

# --- Landlock (include/uapi/linux/landlock.h) ---------------------------------------------------
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
FS = {"execute": 1 << 0, "write_file": 1 << 1, "read_file": 1 << 2, "read_dir": 1 << 3, "remove_dir": 1 << 4,
      "remove_file": 1 << 5, "make_char": 1 << 6, "make_dir": 1 << 7, "make_reg": 1 << 8, "make_sock": 1 << 9,
      "make_fifo": 1 << 10, "make_block": 1 << 11, "make_sym": 1 << 12, "refer": 1 << 13, "truncate": 1 << 14,
      "ioctl_dev": 1 << 15}
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_RIGHTS = FS["execute"] | FS["write_file"] | FS["read_file"] | FS["truncate"] | FS["ioctl_dev"]
READ = FS["execute"] | FS["read_file"] | FS["read_dir"]
WRITE = READ | FS["write_file"] | FS["remove_dir"] | FS["remove_file"] | FS["make_dir"] | FS["make_reg"] \
    | FS["make_sock"] | FS["make_fifo"] | FS["make_sym"] | FS["refer"] | FS["truncate"]
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1  # ABI 4: no rule is added, so both are denied
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1  # ABI 6

# --- prctl, seccomp -----------------------------------------------------------------------------
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 24, 22, 38
PR_SET_CHILD_SUBREAPER, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 36, 47, 4
SECCOMP_MODE_FILTER = 2
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
CLONE_NAMESPACES = 0x7E020000  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (Docker's mask)
AF_UNIX, AF_NETLINK = 1, 16  # Unix sockets; netlink, which getifaddrs() needs (ZeroMQ asks it)
# What a notebook kernel never needs: tracing and reading other processes, kernel keyrings, BPF,
# perf, mounts and namespaces, modules, kexec, swap, reboot, raw I/O ports, file handles.
DENIED = ("ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "keyctl", "add_key",
          "request_key", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot", "kexec_load",
          "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
          "syslog", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "quotactl", "open_tree", "move_mount",
          "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "iopl", "ioperm")
SYSCALLS = {  # (audit architecture, numbers); tests/test_confine.py checks them against libseccomp's
    "x86_64": (0xC000003E, {
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "bpf": 321, "perf_event_open": 298,
        "keyctl": 250, "add_key": 248, "request_key": 249, "mount": 165, "umount2": 166, "unshare": 272,
        "setns": 308, "pivot_root": 155, "chroot": 161, "kexec_load": 246, "kexec_file_load": 320,
        "init_module": 175, "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168,
        "acct": 163, "syslog": 103, "userfaultfd": 323, "open_by_handle_at": 304, "name_to_handle_at": 303,
        "quotactl": 179, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "iopl": 172, "ioperm": 173, "clone": 56, "clone3": 435, "socket": 41}),
    "aarch64": (0xC00000B7, {
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "bpf": 280, "perf_event_open": 241,
        "keyctl": 219, "add_key": 217, "request_key": 218, "mount": 40, "umount2": 39, "unshare": 97,
        "setns": 268, "pivot_root": 41, "chroot": 51, "kexec_load": 104, "kexec_file_load": 294,
        "init_module": 105, "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225,
        "acct": 89, "syslog": 116, "userfaultfd": 282, "open_by_handle_at": 265, "name_to_handle_at": 264,
        "quotactl": 60, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "clone": 220, "clone3": 435, "socket": 198}),
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class ConfineError(OSError):
    """A step of confining the kernel failed: the kernel must not run."""


def _raise_errno(what: str):
    code = ctypes.get_errno()
    raise ConfineError(code, f"{what}: {os.strerror(code)}")


def prctl(option: int, *args: int) -> int:
    values = [ctypes.c_ulong(a) for a in (list(args) + [0, 0, 0, 0])[:4]]
    return _libc.prctl(ctypes.c_int(option), *values)


def landlock_abi() -> int:
    """The Landlock ABI this kernel offers (0: none, or disabled, or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    abi = _libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(abi), 0)


def seccomp_arch() -> str | None:
    machine = platform.machine()
    return machine if machine in SYSCALLS else None


# --- The policy, applied in the kernel's own process --------------------------------------------

def landlock_ruleset(policy: dict, abi: int) -> int:
    """A ruleset fd: every right this ABI knows is handled; ``read`` paths get READ (files: the
    file rights of it), ``write`` paths WRITE, ``list`` paths only their listing (a folder whose
reference file is hidden: its names are listed, its files read only by their own rules),
``devices`` read and write. Opened before the user
    changes: a path the unprivileged user cannot reach still gets its rule."""
    fs = FS_BY_ABI[min(abi, 5)]
    net = (NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0
    attr = struct.pack("QQQ", fs, net, scoped)
    fd = _libc.syscall(SYS_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        _raise_errno("landlock_create_ruleset")
    rights = [(p, READ) for p in policy.get("read", [])] + [(p, WRITE) for p in policy.get("write", [])] \
        + [(p, FS["read_dir"]) for p in policy.get("list", [])] \
        + [(p, FS["read_file"] | FS["write_file"]) for p in policy.get("devices", [])]
    for path, allowed in rights:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue  # absent here: nothing to allow
        try:
            if not os.path.isdir(f"/proc/self/fd/{target}"):
                allowed &= FILE_RIGHTS
            rule = struct.pack("=Qi", allowed & fs, target)
            if _libc.syscall(SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(RULE_PATH_BENEATH), ctypes.c_char_p(rule),
                             ctypes.c_uint32(0)) != 0:
                _raise_errno(f"landlock_add_rule {path}")
        finally:
            os.close(target)
    return fd


def seccomp_program(arch: str) -> bytes:
    """A BPF program: a foreign architecture is killed, the x32 ABI and clone3 get ENOSYS (glibc
    then uses clone, as under Docker), clone with a namespace flag and the DENIED calls EPERM,
    sockets other than Unix and netlink ones EACCES; everything else is allowed."""
    audit, numbers = SYSCALLS[arch]
    code: list = []  # (op, jt, jf, k), jumps as labels

    def op(c, k=0, jt=0, jf=0):
        code.append([c, jt, jf, k])

    LD, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
    op(LD, 4)  # seccomp_data.arch
    op(JEQ, audit, 1, 0)
    op(RET, RET_KILL_PROCESS)
    op(LD, 0)  # seccomp_data.nr
    if arch == "x86_64":
        op(JGE, 0x40000000, "enosys", 0)
    op(JEQ, numbers["clone3"], "enosys", 0)
    op(JEQ, numbers["clone"], "clone", 0)
    op(JEQ, numbers["socket"], "socket", 0)
    for name in DENIED:
        if name in numbers:
            op(JEQ, numbers[name], "eperm", 0)
    labels = {}
    op(RET, RET_ALLOW)
    labels["clone"] = len(code)
    op(LD, 16)  # args[0], low 32 bits: the flags
    op(JSET, CLONE_NAMESPACES, "eperm", "allow")
    labels["socket"] = len(code)
    op(LD, 16)  # args[0]: the address family
    op(JEQ, AF_UNIX, "allow", 0)
    op(JEQ, AF_NETLINK, "allow", "eacces")
    for name, value in (("allow", RET_ALLOW), ("eperm", RET_ERRNO | errno.EPERM),
                        ("eacces", RET_ERRNO | errno.EACCES), ("enosys", RET_ERRNO | errno.ENOSYS)):
        labels[name] = len(code)
        op(RET, value)
    out = b""
    for index, (c, jt, jf, k) in enumerate(code):
        jt, jf = (labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf))
        out += struct.pack("HBBI", c, jt, jf, k)
    return out


def load_seccomp(arch: str) -> None:
    program = seccomp_program(arch)
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("HxxxxxxP", len(program) // 8, ctypes.addressof(buffer))
    header = ctypes.create_string_buffer(fprog)  # both buffers live until the call returns
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(header)) != 0:
        _raise_errno("seccomp")


def drop_privileges(uid: int | None, gid: int | None) -> None:
    """No capability left in any set; as root, the kernel's own unprivileged user and group."""
    if prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL) != 0 and ctypes.get_errno() != errno.EINVAL:
        _raise_errno("clear ambient capabilities")
    for cap in range(64):  # possible only with CAP_SETPCAP (as root); harmless otherwise
        if prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.EPERM):
            _raise_errno(f"drop capability {cap}")
    if uid is not None:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    if _libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(bytes(24))) != 0:
        _raise_errno("capset")


def confine(policy: dict) -> None:
    """Everything the kernel gets, in order, in the process that then execs it."""
    import resource

    abi = landlock_abi()
    if abi < 1:
        raise ConfineError(errno.ENOSYS, "Landlock is not available")
    ruleset = landlock_ruleset(policy, abi)
    os.setsid()
    limit = int(policy.get("memory_limit") or 0)
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if policy.get("uid") is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (policy["nproc"], policy["nproc"]))
    drop_privileges(policy.get("uid"), policy.get("gid"))
    if prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:  # after the user change, which clears it
        _raise_errno("prctl(PR_SET_PDEATHSIG)")
    if prctl(PR_SET_NO_NEW_PRIVS, 1) != 0:
        _raise_errno("prctl(PR_SET_NO_NEW_PRIVS)")
    if _libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
        _raise_errno("landlock_restrict_self")
    os.close(ruleset)
    arch = seccomp_arch()
    if arch is None:
        raise ConfineError(errno.ENOSYS, f"no seccomp filter for {platform.machine()}")
    load_seccomp(arch)


# --- The launcher and the keeper ----------------------------------------------------------------

def _children(pid: int) -> list:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
                found.append(int(name))
    return found


def _end_everything_below(me: int) -> None:
    """Kill and reap every process below the keeper: orphans come back to it (a subreaper) until
    none is left, however deep or detached the student made them."""
    import time

    while True:
        for pid in _children(me):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # nothing below any more
        time.sleep(0.005)


class _Stop(Exception):
    """The launcher is gone (killed with its process group, or its grading thread ended)."""


def _stop(*_):
    raise _Stop


def _keeper(policy: dict, command: list, launcher: int) -> int:
    os.setsid()  # out of the launcher's process group, which jupyter_client kills as a whole
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    signal.signal(signal.SIGTERM, _stop)
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    status = 1
    try:
        if os.getppid() != launcher:
            raise _Stop
        kernel = os.fork()
        if kernel == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                confine(policy)
                os.execv(command[0], command)
            except BaseException as error:  # noqa: BLE001 - told on the kernel's stderr, which the grader reads
                print(f"kit sandbox (Landlock): the kernel was not started: {error}", file=sys.stderr, flush=True)
            os._exit(70)
        while True:
            pid, wait_status = os.waitpid(-1, 0)
            if pid == kernel:
                code = os.waitstatus_to_exitcode(wait_status)
                status = code if code >= 0 else 128 - code
                break
    except (_Stop, ChildProcessError):
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _end_everything_below(os.getpid())
    return status


def main(argv) -> int:
    policy, command = json.loads(argv[1]), argv[2:]
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # as bubblewrap's --die-with-parent
    if os.getppid() != policy.get("parent", os.getppid()):
        return 70
    launcher = os.getpid()
    keeper = os.fork()
    if keeper == 0:
        code = 70
        try:
            code = _keeper(policy, command, launcher)
        finally:
            os._exit(code)
    for fd in policy.get("close", []):
        os.close(fd)  # the grader's "all gone" pipe: only the keeper holds it now
    signal.signal(signal.SIGTERM, lambda *_: os.kill(keeper, signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: os.kill(keeper, signal.SIGTERM))
    while True:
        try:
            _, wait_status = os.waitpid(keeper, 0)
            return os.waitstatus_to_exitcode(wait_status) % 256
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv))
