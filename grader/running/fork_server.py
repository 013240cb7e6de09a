"""The warm fork server: the process from which sandboxed kernels are forked instead of started.

Starting a kernel costs about 4 s of CPU, nearly all of it importing TensorFlow; a cache hit costs
little else. The server runs in a bubblewrap sandbox built like a kernel's (same read-only system,
Python, kit and data; the reference file hidden; the allow-listed environment), imports
TensorFlow, Keras, NumPy, pandas, scikit-learn, Matplotlib, ipykernel and the kit's notebook
modules once, reads the three public data splits, runs no TensorFlow operation and no student
code, and then only forks. Each fork gets a sandbox of its own (``namespaces``) before
any student code runs in it:

    server ── fork ─▶ monitor: new mount/IPC/net/PID namespaces, fresh /tmp and /dev/shm, only
                      its own working and socket folders; relays the exit status to the launcher
                      and kills the whole PID namespace when the launcher goes away
                  └─ fork ─▶ init (PID 1): its own /proc; exits when the kernel exits, which ends
                             every process the student started
                         └─ fork ─▶ the kernel: its own session, no capabilities, the memory
                                    limit, the kernel's own environment, folder and fresh seeds

Why a student cannot see another student's memory, files or modules: every kernel is forked from
the server, whose memory never held student code or data (requests carry only paths and the
kernel's environment), so what one kernel changes (a module attribute, a file in /tmp or
/dev/shm, a process left running, a shared-memory segment) lives in that kernel's copy-on-write
pages and namespaces, which end with it; the folders of other kernels are under the fresh tmpfs.

Run inside the server's sandbox as ``python -m grader.running.fork_server SOCKET ROOTS READ_ONLY``
(ROOTS: a JSON list of the folders under which kernels' folders may be; READ_ONLY: a JSON list of
the read-only paths each kernel must see again under its fresh /tmp and roots).
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys

from . import namespaces

PRELOAD = ("numpy", "pandas", "tensorflow", "keras", "matplotlib", "matplotlib.pyplot", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "ipykernel.zmqshell", "matplotlib_inline.backend_inline",
           "sklearn.compose", "sklearn.model_selection", "sklearn.preprocessing")
# What the notebooks import from the kit: none of it reads the environment or a file when imported
# (test_fork_server checks), so a kernel that finds it imported behaves as one that imports it.
PRELOAD_KIT = ("grader.i18n", "grader.quiet", "grader.data", "grader.plots", "grader.autograde",
               "grader.lesson.notebook", "grader.internals", "grader.internals.autograde")
KERNEL_MODULE = "ipykernel_launcher"
READY = "kit-fork-server-ready"
_SET_BY_IMPORTS: dict = {}


def _preload() -> dict:
    """Import what every kernel imports; returns the environment variables those imports set
    (TensorFlow and h5py set some), which a kernel started cold would have too."""
    import importlib

    before = dict(os.environ)
    for name in PRELOAD + PRELOAD_KIT:
        importlib.import_module(name)
    set_by_imports = {k: v for k, v in os.environ.items() if before.get(k) != v}
    from ..base import data

    for name in data.SPLITS:  # the public data sets, verified, read and split once for every kernel
        try:
            data.splits(name)
        except Exception:  # noqa: BLE001 - a kernel that needs it reads it, and says why it cannot
            pass
    return set_by_imports


def _read_request(conn: socket.socket):
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 16)
        if not more:
            raise ValueError("the request ended early")
        data += more
    if len(fds) != 3:
        raise ValueError("the request did not carry the kernel's standard streams")
    return json.loads(data), fds


def _own_folders(request: dict) -> list:
    """The kernel's working folder and the folder of its connection file (its sockets)."""
    argv = request["argv"]
    if argv[1:3] != ["-m", KERNEL_MODULE] or "-f" not in argv:
        raise ValueError(f"not an ipykernel command line: {argv}")
    connection = argv[argv.index("-f") + 1]
    return [os.path.realpath(request["cwd"]), os.path.dirname(os.path.realpath(connection))]


def serve(path: str, roots, read_only=()) -> None:
    global _SET_BY_IMPORTS
    _SET_BY_IMPORTS = _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print(READY, flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the grader stops reading
    os.close(devnull)
    while True:
        _reap()
        ready, _, _ = select.select([listener], [], [], 1.0)
        if not ready:
            continue
        conn, _ = listener.accept()
        fds: list = []
        try:
            request, fds = _read_request(conn)
            own = _own_folders(request)
            outside = [f for f in own if not any((f + "/").startswith(r.rstrip("/") + "/") for r in roots)]
            if outside:
                raise ValueError(f"{outside[0]} is not under {' or '.join(roots)}")
        except (OSError, ValueError, KeyError, IndexError) as error:
            _answer(conn, {"error": str(error)})
            conn.close()
            for fd in fds:
                os.close(fd)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                listener.close()
                _monitor(conn, request, fds, own, roots, read_only)
            finally:
                os._exit(70)
        conn.close()
        for fd in fds:
            os.close(fd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _answer(conn: socket.socket, message: dict) -> None:
    try:
        conn.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass


def _monitor(conn, request, fds, own, roots, read_only) -> None:
    """The forked kernel's keeper: builds its namespaces, then waits for it or for the launcher."""
    try:
        namespaces.isolate(own, covered=[*roots, "/tmp"], read_only=read_only)
    except OSError as error:
        _answer(conn, {"error": f"the kernel's sandbox could not be built: {error}"})
        os._exit(70)
    init = os.fork()
    if init == 0:
        try:
            conn.close()
            _init(request, fds)
        finally:
            os._exit(70)
    for fd in fds:
        os.close(fd)
    status = _wait_for(init, conn)
    if status is None:  # the launcher ended: so does the kernel, with all it started
        os.kill(init, signal.SIGKILL)
        _, status = os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(status)
    _answer(conn, {"exit": code if code >= 0 else 128 - code})
    os._exit(0)


def _wait_for(pid: int, conn: socket.socket):
    """The wait status of ``pid`` once it ends, or None as soon as ``conn`` closes first."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # Linux before 5.3: poll
        pidfd = None
    while True:
        ready, _, _ = select.select([conn] + ([pidfd] if pidfd is not None else []), [], [],
                                    None if pidfd is not None else 0.2)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if conn in ready:
            return None


def _init(request, fds) -> None:
    namespaces.die_with_parent(signal.SIGKILL)
    namespaces.mount_proc()
    kernel = os.fork()
    if kernel == 0:
        _kernel(request, fds)
    for fd in fds:
        os.close(fd)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def _kernel(request, fds) -> None:
    code = 1
    try:
        os.setsid()  # as bubblewrap's --new-session
        for number, fd in enumerate(fds):
            os.dup2(fd, number)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        namespaces.drop_capabilities()
        limit = request.get("memory_limit")
        if limit:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.pop("JPY_PARENT_PID", None)  # as bubblewrap's --unsetenv: its parent is the PID namespace's init
        os.environ["PWD"] = os.getcwd()  # as bubblewrap sets it
        for name, value in _SET_BY_IMPORTS.items():
            os.environ.setdefault(name, value)
        _fresh_seeds()
        argv = request["argv"]
        sys.argv = [KERNEL_MODULE] + argv[3:]
        sys.path[0] = os.getcwd()  # as ``python -m`` puts it
        import runpy

        runpy.run_module(KERNEL_MODULE, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - the kernel's own failure, told on its stderr
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _fresh_seeds() -> None:
    """A fresh process seeds Python's and NumPy's global generators from the OS; so does a fork."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


if __name__ == "__main__":
    serve(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]) if len(sys.argv) > 3 else ())
