"""The Landlock layer, seen from the grader: can it run here (with an unprivileged user or
without), and what each kernel gets. ``confine.py`` applies it inside the kernel's own process.

Where the grader runs as root (Gradescope, most containers) each kernel gets a user and group of
its own from a pool (62000-62999 by default, ``DROPOUT_KIT_KERNEL_USERS=FIRST-LAST``), held with a
lock for the kernel's life: its working folder is handed to that user, and when the kernel ends
every process of that user is killed, wherever it went, before the user is handed back.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import confine
from .exposure import KIT_PACKAGE, SYSTEM_PATHS, Exposure, python_paths, reference_files

USERS_ENV = "DROPOUT_KIT_KERNEL_USERS"
DEFAULT_USERS = (62000, 62999)
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
NPROC = 4096  # processes and threads of one kernel's user: TensorFlow's pools fit, a fork bomb does not
LAUNCHER = Path(confine.__file__).resolve()


class Unavailable(RuntimeError):
    """The Landlock layer cannot run here (the reason says why)."""


@dataclass(frozen=True)
class Layer:
    name: str  # "landlock+user" or "landlock"
    detail: str


def user_range() -> range:
    text = os.environ.get(USERS_ENV, "")
    try:
        first, last = (int(x) for x in text.split("-")) if text else DEFAULT_USERS
    except ValueError:
        raise Unavailable(f"{USERS_ENV}={text!r} is not FIRST-LAST (for example 62000-62999)") from None
    return range(first, last + 1)


@lru_cache(maxsize=1)
def probe() -> Layer:
    """Which form of the layer runs here, decided once per process by starting Python in it."""
    abi = confine.landlock_abi()
    if abi < 1:
        raise Unavailable("Landlock is not available (it needs Linux 5.13 or later with Landlock enabled)")
    if confine.seccomp_arch() is None:
        raise Unavailable(f"the kit has no seccomp filter for {os.uname().machine}")
    rights = f"Landlock ABI {abi}" + (", TCP denied" if abi >= 4 else "") + (", signals scoped" if abi >= 6 else "")
    if os.geteuid() == 0:
        failure = _try_python(with_user=True)
        if failure is None:
            users = user_range()
            return Layer("landlock+user", f"{rights}, an unprivileged user per kernel (uids {users.start}-"
                                          f"{users.stop - 1}), seccomp, no_new_privs")
        why_not = f"as root, but an unprivileged user cannot run Python here ({failure})"
    else:
        why_not = f"as uid {os.geteuid()}"
    failure = _try_python(with_user=False)
    if failure is not None:
        raise Unavailable(f"a kernel cannot start under Landlock ({failure})")
    return Layer("landlock", f"{rights}, seccomp, no_new_privs, no capabilities; {why_not}")


def _try_python(with_user: bool) -> str | None:
    """None if Python starts and imports in the layer; else what went wrong."""
    with tempfile.TemporaryDirectory(prefix="kit-probe-") as scratch:
        work = Path(scratch) / "work"
        work.mkdir()
        confinement = None
        try:
            confinement = Confinement(work, Path(scratch), Exposure(), None, with_user)
            result = subprocess.run(confinement.command([sys.executable, "-c", "import encodings, json, ctypes"]),
                                    pass_fds=confinement.pass_fds, capture_output=True, text=True, timeout=60,
                                    cwd=work)
            confinement.launched()
        except (OSError, subprocess.TimeoutExpired, Unavailable) as error:
            return str(error)
        finally:
            if confinement is not None:
                confinement.close()
        if result.returncode != 0:
            lines = [x for x in result.stderr.splitlines() if x.strip()]
            return lines[-1] if lines else f"exit status {result.returncode}"
    return None


# ---------------------------------------------------------------------------------------------
# One kernel's confinement
# ---------------------------------------------------------------------------------------------

class KernelUser:
    """A uid and gid from the pool, held (an exclusive lock on a file only root can reach) until
    released; every process of it is killed before it is taken and after it is given back."""

    def __init__(self):
        folder = Path(tempfile.gettempdir()) / "kit-kernel-users"
        folder.mkdir(mode=0o700, exist_ok=True)
        for uid in user_range():
            fd = os.open(folder / f"{uid}.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid = self.gid = uid
            self.lock = fd
            end_processes_of(uid)
            return
        raise Unavailable(f"every kernel user of {USERS_ENV} is in use")

    def release(self) -> None:
        if self.lock is not None:
            end_processes_of(self.uid)
            os.close(self.lock)
            self.lock = None


def end_processes_of(uid: int) -> None:
    """Kill every process of ``uid``, wherever it went: a child takes the uid and signals all it
    may (kill -1), until /proc shows none left."""
    for _ in range(100):
        if not processes_of(uid):
            return
        child = os.fork()
        if child == 0:
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        time.sleep(0.005)


def processes_of(uid: int) -> list:
    """The live (not zombie) processes whose real, effective or saved user is ``uid``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if str(uid) in fields.get("Uid", "").split()[:3] and not fields.get("State", "").strip().startswith("Z"):
            found.append(int(name))
    return found


def hand_over(path: Path, uid: int, gid: int) -> None:
    """Make ``path`` and everything under it belong to ``uid`` (links are changed, never followed)."""
    os.lchown(path, uid, gid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, gid)


def open_for_search(path: Path) -> None:
    """The kernel's user must reach its working folder by its absolute path: the folders above it
    that belong to the grader get the search bit for others (not the read bit: nothing is listed)."""
    for folder in list(Path(path).parents)[::-1]:
        info = os.stat(folder)
        if not info.st_mode & stat.S_IXOTH and info.st_uid == os.geteuid():
            os.chmod(folder, stat.S_IMODE(info.st_mode) | stat.S_IXOTH)


_data_folders: dict = {}


def readable_data_folder(data_files: tuple) -> str | None:
    """The verified data files, copied once per process into a folder any user may read (the
    grader's own copies may sit in a home folder the kernel's user cannot reach)."""
    if not data_files:
        return None
    if data_files not in _data_folders:
        folder = tempfile.mkdtemp(prefix="kit-data-")
        os.chmod(folder, 0o755)
        for name, source in data_files:
            shutil.copyfile(source, os.path.join(folder, name))
            os.chmod(os.path.join(folder, name), 0o444)
        _data_folders[data_files] = folder
        atexit.register(shutil.rmtree, folder, True)
    return _data_folders[data_files]


def read_paths(exposure: Exposure, data_folder: str | None) -> tuple:
    """(read, list): the read-only rules (the system, Python, the kit and the data), each reference
    file left out by allowing what is beside it instead of the folder that holds it; and those
    folders, which may only be listed (Python's importer lists a package's folder)."""
    from ..base.resources import manifest_path

    hidden = {str(p) for p in reference_files()} if exposure.hide_reference else set()
    roots = list(SYSTEM_PATHS) + python_paths() + [str(KIT_PACKAGE), str(manifest_path()), "/proc"]
    roots += [data_folder] if data_folder else []
    allowed: list = []
    listed: list = []
    for root in roots:
        _without(os.path.realpath(root), hidden, allowed, listed)
    return sorted(set(allowed)), sorted(set(listed))


def _without(path: str, hidden: set, allowed: list, listed: list) -> None:
    path = os.path.realpath(path)  # a rule holds what a link points to (a venv's lib64 is its lib)
    if path in hidden:
        return
    if not any(h.startswith(path.rstrip("/") + "/") for h in hidden) or not os.path.isdir(path):
        allowed.append(path)
        return
    listed.append(path)
    for name in sorted(os.listdir(path)):
        _without(os.path.join(path, name), hidden, allowed, listed)


class Confinement:
    """What one kernel gets in the Landlock layer: its policy, its user (as root), its private
    temporary folder, and the pipe that tells the grader when everything it started is gone."""

    def __init__(self, workdir: Path, ipc_dir: Path, exposure: Exposure, memory_limit: int | None,
                 with_user: bool):
        self.workdir, self.ipc_dir = Path(workdir), Path(ipc_dir)
        self.tmp = self.ipc_dir / "tmp"
        self.tmp.mkdir(mode=0o700, exist_ok=True)
        self.data_dir = readable_data_folder(exposure.data_files)
        self.user = KernelUser() if with_user else None
        self.done_read, self.done_write = os.pipe()
        read, listed = read_paths(exposure, self.data_dir)
        self.policy = {"read": read, "list": listed, "write": [str(self.workdir), str(self.ipc_dir)],
                       "devices": list(DEVICES), "memory_limit": int(memory_limit or 0), "parent": os.getpid(),
                       "close": [self.done_write]}
        if self.user is not None:
            self.policy.update(uid=self.user.uid, gid=self.user.gid, nproc=NPROC)
            try:
                open_for_search(self.workdir)
                self.hand_over(self.ipc_dir)
                self.hand_over(self.workdir)
            except OSError:
                self.close()
                raise

    @property
    def pass_fds(self) -> tuple:
        return (self.done_write,)

    def command(self, kernel_cmd) -> list:
        return [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(self.policy)] + list(kernel_cmd)

    def hand_over(self, path: Path) -> None:
        """Give the kernel's user what the grader put in its folders (no-op without a user)."""
        if self.user is not None and os.path.lexists(path):
            hand_over(Path(path), self.user.uid, self.user.gid)

    def launched(self) -> None:
        if self.done_write is not None:
            os.close(self.done_write)
            self.done_write = None

    def close(self, timeout: float = 10) -> None:
        """After the kernel: wait until the keeper has ended everything below it, end whatever
        the user still runs, and take the working folder back."""
        import select

        self.launched()
        if self.done_read is not None:
            select.select([self.done_read], [], [], timeout)
            os.close(self.done_read)
            self.done_read = None
        if self.user is not None:
            end_processes_of(self.user.uid)
            if self.workdir.exists():
                hand_over(self.workdir, os.geteuid(), os.getegid())
            self.user.release()
            self.user = None
