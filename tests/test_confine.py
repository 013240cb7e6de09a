"""The Landlock layer on its own (grader/running/confine.py, landlock_layer.py), with real
processes: its seccomp numbers against libseccomp's, what a confined process can reach, and the
keeper ending everything a kernel started, also when jupyter_client kills the launcher."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

import container
from grader.running import confine, landlock_layer, sandbox
from grader.running.exposure import Exposure, KIT_PACKAGE

needs_landlock = pytest.mark.skipif(confine.landlock_abi() < 1, reason="no Landlock on this kernel")


@pytest.mark.skipif(not container.available(), reason="libseccomp is not installed")
@pytest.mark.parametrize("arch", sorted(confine.SYSCALLS))
def test_the_filter_numbers_are_libseccomps(arch):
    import pyseccomp

    token = {"x86_64": pyseccomp.Arch.X86_64, "aarch64": pyseccomp.Arch.AARCH64}[arch]
    audit, numbers = confine.SYSCALLS[arch]
    assert audit == token
    for name, number in numbers.items():
        assert pyseccomp.resolve_syscall(token, name) == number, name
    assert set(confine.DENIED) - set(numbers) <= {"iopl", "ioperm"}  # x86 only


def confined(tmp_path: Path, code: str, with_user: bool = False, exposure: Exposure = Exposure()):
    """Run ``code`` in Python confined as a kernel is; returns (completed process, confinement)."""
    work, ipc = tmp_path / "work", tmp_path / "ipc"
    work.mkdir(exist_ok=True)
    ipc.mkdir(exist_ok=True)
    held = landlock_layer.Confinement(work, ipc, exposure, 2 * 1024**3, with_user)
    try:
        done = subprocess.run(held.command([sys.executable, "-c", code]), pass_fds=held.pass_fds, cwd=work,
                              capture_output=True, text=True, timeout=120)
        held.launched()
    finally:
        held.close()
    return done


PROBE = """import os, socket, ctypes, json, sys
def p(f):
    try:
        f()
        return "allowed"
    except OSError as e:
        return errno_name(e.errno)
def errno_name(n):
    import errno
    return errno.errorcode.get(n, str(n))
libc = ctypes.CDLL(None, use_errno=True)
def syscall_errno(*args):
    r = libc.syscall(*args)
    return "allowed" if r >= 0 else errno_name(ctypes.get_errno())
print(json.dumps({
    "home": p(lambda: open(%(home)r).read()),
    "reference": p(lambda: open(%(reference)r).read()),
    "kit": p(lambda: open(%(kit)r).read()),
    "write own": p(lambda: open("mine.txt", "w").write("x")),
    "write beside": p(lambda: open(%(beside)r, "w").write("x")),
    "list tmp": p(lambda: os.listdir("/tmp")),
    "tcp": p(lambda: socket.create_connection(("127.0.0.1", 9), timeout=2)),
    "signal parent": p(lambda: os.kill(os.getppid(), 0)),
    "ptrace": syscall_errno(%(ptrace)d, 16, os.getppid(), 0, 0),
    "unshare": syscall_errno(%(unshare)d, 0x10000000),
    "uid": os.getuid(),
}))"""


@needs_landlock
@pytest.mark.parametrize("with_user", [False, pytest.param(True, marks=pytest.mark.skipif(
    os.geteuid() != 0, reason="the unprivileged user needs a grader running as root"))])
def test_a_confined_process_reaches_only_its_own_folder(tmp_path, with_user):
    if with_user and landlock_layer.probe().name != "landlock+user":
        pytest.skip(f"no unprivileged user here: {landlock_layer.probe().detail}")
    secret = Path.home() / f".kit-confine-{os.getpid()}"
    secret.write_text("secret")
    numbers = confine.SYSCALLS[confine.seccomp_arch()][1]
    try:
        done = confined(tmp_path, PROBE % {"home": str(secret), "reference": str(KIT_PACKAGE / "lesson" / "reference.json"),
                                           "kit": str(KIT_PACKAGE / "lesson" / "questions.py"),
                                           "beside": str(tmp_path / "beside.txt"), "ptrace": numbers["ptrace"],
                                           "unshare": numbers["unshare"]}, with_user)
    finally:
        secret.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["home"] == seen["reference"] == seen["write beside"] == seen["list tmp"] == "EACCES", seen
    assert seen["kit"] == seen["write own"] == "allowed", seen
    assert seen["ptrace"] == seen["unshare"] == "EPERM", seen
    if confine.landlock_abi() >= 4:
        assert seen["tcp"] == "EACCES", seen
    if confine.landlock_abi() >= 6 or with_user:
        assert seen["signal parent"] == "EPERM", seen
    assert (seen["uid"] != 0) == with_user
    assert not (tmp_path / "beside.txt").exists()


DAEMON = """import os, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        while True:
            time.sleep(0.1)
    os._exit(0)
print(os.read(r, 20).decode(), flush=True)
%s"""


@needs_landlock
def test_a_detached_process_ends_with_the_kernel(tmp_path):
    done = confined(tmp_path, DAEMON % "")
    assert done.returncode == 0, done.stderr
    daemon = int(done.stdout.split()[0])
    assert not Path(f"/proc/{daemon}").exists(), "the detached process outlived its kernel"


@needs_landlock
def test_killing_the_launcher_as_jupyter_client_does_ends_everything_below_it(tmp_path):
    """jupyter_client kills the kernel's process group with SIGKILL: the keeper, in a session of
    its own, survives it only to end the kernel and what it started, then closes the pipe."""
    work, ipc = tmp_path / "work", tmp_path / "ipc"
    work.mkdir()
    ipc.mkdir()
    held = landlock_layer.Confinement(work, ipc, Exposure(), None, False)
    launcher = subprocess.Popen(held.command([sys.executable, "-c", DAEMON % "time.sleep(600)"]), pass_fds=held.pass_fds,
                                cwd=work, stdout=subprocess.PIPE, text=True, start_new_session=True)
    held.launched()
    daemon = int(launcher.stdout.readline())
    os.killpg(launcher.pid, signal.SIGKILL)
    launcher.wait()
    started = time.monotonic()
    held.close(timeout=10)
    assert time.monotonic() - started < 5, "the keeper did not report that everything ended"
    assert not Path(f"/proc/{daemon}").exists()


@needs_landlock
def test_the_layer_is_chosen_where_bubblewrap_cannot_start(tmp_path):
    if not container.available():
        pytest.skip("libseccomp is not installed")
    code = "from grader.running import sandbox; s = sandbox.status(); print(s.layer); print(s.reason)"
    env = {k: v for k, v in os.environ.items() if k != sandbox.SANDBOX_ENV}
    inside = subprocess.run(container.command([sys.executable, "-c", code]), capture_output=True, text=True,
                            env=env, timeout=120)
    assert inside.returncode == 0, inside.stderr
    layer, reason = inside.stdout.splitlines()[:2]
    assert layer == ("landlock+user" if os.geteuid() == 0 and "unprivileged user cannot" not in reason else "landlock")
    assert "bubblewrap cannot create a sandbox" in reason
    required = subprocess.run(container.command([sys.executable, "-c", code]), capture_output=True, text=True,
                              env=dict(env, **{sandbox.SANDBOX_ENV: "bubblewrap"}), timeout=120)
    assert required.returncode != 0 and "DROPOUT_KIT_SANDBOX=bubblewrap but bubblewrap cannot" in required.stderr


def test_nbgraders_execute_step_refuses_a_kernel_that_is_not_the_kits():
    """An nbgrader or nbconvert that set another kernel manager after the kit's: refused before start."""
    from jupyter_client.manager import AsyncKernelManager

    from grader.running.nbgrader_execute import ContainedExecute

    step = ContainedExecute()
    assert step.kernel_manager_class is sandbox.NbgraderKernelManager
    step.kernel_manager_class = AsyncKernelManager
    step.nb, step.kernel_name, step.km = nbformat.v4.new_notebook(), "python3", None
    with pytest.raises(sandbox.GraderUnavailable, match="not the kit's contained kernel manager"):
        step.create_kernel_manager()


def test_the_kernel_user_pool_hands_out_each_user_once(monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("kernel users exist only where the grader runs as root")
    monkeypatch.setenv(landlock_layer.USERS_ENV, "62990-62991")
    first, second = landlock_layer.KernelUser(), landlock_layer.KernelUser()
    try:
        assert {first.uid, second.uid} == {62990, 62991}
        with pytest.raises(landlock_layer.Unavailable, match="in use"):
            landlock_layer.KernelUser()
    finally:
        first.release()
        second.release()
    again = landlock_layer.KernelUser()  # released users are handed out again
    assert again.uid in (62990, 62991)
    again.release()


def test_no_read_rule_reaches_a_reference_file_through_a_link(tmp_path, monkeypatch):
    """A venv's lib64 is a link to its lib: a rule on the link holds the real folder, reference
    files included, so links are followed before a folder is allowed whole."""
    real = tmp_path / "venv" / "lib" / "site-packages" / "grader" / "lesson"
    real.mkdir(parents=True)
    (real / "reference.json").write_text("{}")
    (real / "questions.py").write_text("")
    (tmp_path / "venv" / "lib64").symlink_to("lib")
    reference = real / "reference.json"
    monkeypatch.setattr(landlock_layer, "python_paths", lambda: [str(tmp_path / "venv" / "lib64"), str(tmp_path / "venv")])
    monkeypatch.setattr(landlock_layer, "reference_files", lambda: [reference])
    read, listed = landlock_layer.read_paths(Exposure(), None)
    assert not [p for p in read if str(reference) == p or str(reference).startswith(p.rstrip("/") + "/")], read
    assert str(real / "questions.py") in read and str(real) in listed
    # and on this installation: no rule holds any of the kit's real reference files
    monkeypatch.undo()
    read, _ = landlock_layer.read_paths(Exposure(), None)
    for reference in landlock_layer.reference_files():
        assert not [p for p in read if str(reference).startswith(p.rstrip("/") + "/") or str(reference) == p]
