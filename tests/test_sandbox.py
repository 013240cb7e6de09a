"""The sandbox as a concern of its own: what a kernel may inherit and see, and a grader that
cannot run student code stopping before any grade is written (exit 2), with a fake bubblewrap
that fails the way a broken or forbidden sandbox does."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import container
from grader.running import sandbox
from submissions import SPOTIFY_STARTER_Q1, SPOTIFY_STARTER_Q3, set_answer, solution_notebook, write


def test_kernel_environment_keeps_only_the_allow_list(tmp_path):
    base = {"PATH": "/secret/bin", "AWS_SECRET_ACCESS_KEY": "x", "LMS_TOKEN": "y", "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "TF_NUM_INTRAOP_THREADS": "1", "DROPOUT_KIT_CACHE": "/home/me/.cache",
            "SSH_AUTH_SOCK": "/tmp/ssh", "PYTHONPATH": "/home/me/private"}
    env = sandbox.kernel_environment(base, tmp_path, sandboxed=True)
    assert not {"AWS_SECRET_ACCESS_KEY", "LMS_TOKEN", "SSH_AUTH_SOCK", "DROPOUT_KIT_CACHE"} & set(env)
    assert env["LANG"] == env["LC_ALL"] == "C.UTF-8" and env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "/secret/bin" not in env["PATH"] and env["HOME"] == str(tmp_path)
    assert env["PYTHONPATH"] == str(sandbox.KIT_PACKAGE.parent) and env["DROPOUT_KIT_DATA"] == sandbox.DATA_MOUNT


def test_only_the_folders_finished_kernels_left_are_swept(tmp_path):
    """A kernel's folder outlives it when the kernel's caches are written after jupyter_client
    cleaned up, or when its grader was killed (kill -9: the connection file and sockets stay):
    swept once unchanged for an hour with no process listening on its sockets; a live kernel's
    folder (its socket answers), a fresh one and anything not the kit's stay."""
    import os
    import socket
    import time

    from grader.running.sandbox import STALE_AFTER_S, sweep_stale_ipc_folders

    now = time.time()
    names = ("kit-ipc-left", "kit-ipc-killed", "kit-ipc-live", "kit-ipc-fresh", "kit-ipc-fresh-inside", "other-old")
    folders = {name: tmp_path / name for name in names}
    sockets = []
    for name, folder in folders.items():
        (folder / "home" / ".cache").mkdir(parents=True)
        (folder / "home" / ".cache" / "fontlist.json").write_text("{}")
        if name in ("kit-ipc-live", "kit-ipc-killed"):
            (folder / "connection.json").write_text("{}")
            listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listening.bind(str(folder / "kernel-1"))
            if name == "kit-ipc-live":
                listening.listen()
                sockets.append(listening)
            else:  # the kernel is gone: its socket file stays, nobody accepts on it
                listening.close()
        if name != "kit-ipc-fresh":
            for path in [folder, *folder.rglob("*")]:
                os.utime(path, (now - STALE_AFTER_S - 60, now - STALE_AFTER_S - 60))
    os.utime(folders["kit-ipc-fresh-inside"] / "home" / ".cache" / "fontlist.json", (now, now))
    try:
        removed = sweep_stale_ipc_folders(tmp_path, now=now)
    finally:
        for listening in sockets:
            listening.close()
    assert sorted(removed) == [folders["kit-ipc-killed"], folders["kit-ipc-left"]]
    assert not any(folder.exists() for folder in removed)
    assert all(folders[name].exists() for name in ("kit-ipc-live", "kit-ipc-fresh", "kit-ipc-fresh-inside", "other-old"))


def test_mounts_come_after_the_private_tmp_and_parents_before_children(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "status", lambda: sandbox.SandboxStatus(True, "test", "/usr/bin/bwrap"))
    workdir, ipc = tmp_path / "work", tmp_path / "ipc"
    args = sandbox.bwrap_arguments(workdir, ipc, sandbox.Exposure(data_files=(("a.csv", tmp_path / "a.csv"),)))
    tmpfs = args.index("/tmp")
    hidden = [args[i + 2] for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1] == "/dev/null"]
    assert sorted(hidden) == sorted(str(p) for p in sandbox.KIT_PACKAGE.rglob("reference.json"))  # every assignment's
    assert len(hidden) >= 2 and str(sandbox.KIT_PACKAGE / "lesson" / "reference.json") in hidden
    targets = [args[i + 2] for i, a in enumerate(args) if a in ("--bind", "--ro-bind") and args[i + 2] not in hidden]
    assert all(args.index(t) > tmpfs for t in targets if t.startswith("/tmp"))
    depths = [t.count("/") for t in targets]
    assert depths == sorted(depths)  # a venv inside the clone, a kit under /tmp: mounted on top, never hidden
    assert ["--bind", str(workdir), str(workdir)] == args[args.index(str(workdir)) - 1:args.index(str(workdir)) + 2]
    assert args[-3:] == ["--remount-ro", "/", "--"]
    assert str(Path.home()) not in targets and "/etc" not in targets and "/home" not in targets


def fake_bwrap(folder: Path, probe_passes: bool) -> Path:
    """A `bwrap` that fails like a host without user namespaces (every call), or like a sandbox
    that starts but cannot mount what grading needs (only the capability probe passes)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "bwrap"
    probe = '[ "${@: -1}" = true ] && exit 0\n' if probe_passes else ""
    script.write_text("#!/bin/bash\n" + probe + "echo 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def grader_env(extra: dict | None = None, bwrap_folder: Path | None = None) -> dict:
    env = dict(os.environ)
    env.pop(sandbox.SANDBOX_ENV, None)
    env.update(extra or {})
    if bwrap_folder:
        env["PATH"] = f"{bwrap_folder}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Path:
    """The spotify starter answers: graded without any training (the architecture is wrong)."""
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", SPOTIFY_STARTER_Q1)
    set_answer(nb, "spotify_q3_model", SPOTIFY_STARTER_Q3)
    return write(nb, tmp_path_factory.mktemp("starter") / "submission", "spotify").parent


def grade_cli(submission: Path, out: Path, env: dict, wrap=list):
    return subprocess.run(wrap([sys.executable, "-m", "grader", str(submission), "--quiet", "--json", str(out / "r.json"),
                                "--html", str(out / "r.html")]), capture_output=True, text=True, env=env, timeout=600,
                          cwd=out)


# Neither layer can run: no user namespaces for bubblewrap (a fake that fails as it does), and a
# kernel without Landlock (the simulated container with Landlock's calls denied).
no_layer = pytest.mark.skipif(not container.available(), reason="libseccomp is not installed")


def test_a_sandbox_that_cannot_mount_stops_grading_before_any_report(tmp_path, starter):
    result = grade_cli(starter, tmp_path, grader_env(bwrap_folder=fake_bwrap(tmp_path / "bin", probe_passes=True)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the sandbox cannot start" in result.stderr and "No submission was graded" in result.stderr
    assert "Operation not permitted" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "r.html").exists()


def test_a_required_sandbox_that_cannot_run_stops_grading(tmp_path, starter):
    env = grader_env({sandbox.SANDBOX_ENV: "bubblewrap"}, fake_bwrap(tmp_path / "bin", probe_passes=False))
    result = grade_cli(starter, tmp_path, env)
    assert result.returncode == 2 and "DROPOUT_KIT_SANDBOX=bubblewrap but bubblewrap cannot create a sandbox" in result.stderr
    assert not (tmp_path / "r.json").exists()


@no_layer
def test_no_sandbox_is_said_in_the_terminal_the_json_and_the_page(tmp_path, starter):
    """User namespaces disabled and no Landlock: grading goes on, and says so in all three places."""
    result = grade_cli(starter, tmp_path, grader_env(bwrap_folder=fake_bwrap(tmp_path / "bin", probe_passes=False)),
                       container.without_any_layer)
    assert result.returncode == 1, result.stdout + result.stderr
    warning = [line for line in result.stderr.splitlines() if "WITHOUT a sandbox" in line]
    assert len(warning) == 1 and "user namespaces may be disabled" in warning[0]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["sandbox"] is False and "Operation not permitted" in report["sandbox_detail"]
    assert report["sandbox_layer"] == "none" and "Landlock is not available" in report["sandbox_detail"]
    page = (tmp_path / "r.html").read_text()
    assert 'class="unsandboxed"' in page and "Graded without a sandbox" in page
    assert "still the starter model" in json.dumps(report)


@pytest.mark.skipif(not sandbox.available(), reason="no sandbox can run here")
def test_a_sandboxed_grade_says_so(tmp_path, starter):
    result = grade_cli(starter, tmp_path, grader_env())
    assert result.returncode == 1 and "WITHOUT a sandbox" not in result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["sandbox"] is True and "bubblewrap" in report["sandbox_detail"]
    assert report["sandbox_layer"] == sandbox.status().layer and "contained by: bubblewrap" in result.stdout
    page = (tmp_path / "r.html").read_text()
    assert "Graded without a sandbox" not in page and 'class="contained"' in page


@no_layer
def test_batch_refuses_an_unsandboxed_class_unless_told(tmp_path, starter):
    course = tmp_path / "course"
    target = course / "submitted" / "bob" / "dropout-batchnorm"
    target.mkdir(parents=True)
    (target / "spotify.ipynb").write_bytes((starter / "spotify.ipynb").read_bytes())
    env = grader_env(bwrap_folder=fake_bwrap(tmp_path / "bin", probe_passes=False))
    command = container.without_any_layer([sys.executable, "-m", "grader", "batch", str(course), "--workers", "1"])
    refused = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert refused.returncode == 2 and "--no-sandbox" in refused.stderr, refused.stderr[-2000:]
    assert not (course / "gradebook.db").exists() and not list(course.glob("kit-grades/*.json"))
    allowed = subprocess.run(command + ["--no-sandbox"], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert "grading WITHOUT a sandbox" in allowed.stderr
    assert json.loads((course / "kit-grades" / "bob.json").read_text())["sandbox"] is False


def test_batch_with_a_broken_sandbox_records_nothing(tmp_path, starter):
    course = tmp_path / "course"
    target = course / "submitted" / "bob" / "dropout-batchnorm"
    target.mkdir(parents=True)
    nbformat.write(nbformat.read(starter / "spotify.ipynb", as_version=4), target / "spotify.ipynb")
    env = grader_env(bwrap_folder=fake_bwrap(tmp_path / "bin", probe_passes=True))
    result = subprocess.run([sys.executable, "-m", "grader", "batch", str(course), "--workers", "1"],
                            capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 2 and "Workers are not ready" in result.stderr and "sandbox cannot start" in result.stderr
    assert not (course / "gradebook.db").exists() and not list(course.glob("kit-grades/*.json"))


def test_pytest_grader_with_a_broken_sandbox_stops_with_the_cause(tmp_path, starter, root):
    env = grader_env(bwrap_folder=fake_bwrap(tmp_path / "bin", probe_passes=True))
    result = subprocess.run([sys.executable, "-m", "pytest", "grader", "--submission", str(starter), "--report",
                             str(tmp_path / "r.html"), "-p", "no:cacheprovider"], capture_output=True, text=True,
                            env=env, cwd=root, timeout=600)
    assert result.returncode == 2, result.stdout[-2000:]
    assert "the sandbox cannot start" in result.stdout and "No submission was graded" in result.stdout
    assert "failed" not in result.stdout.splitlines()[-1] and not (tmp_path / "r.html").exists()


def starter_course(tmp_path: Path, starter: Path, root: Path, config_extra: str = "") -> tuple:
    """(course, nbgrader's environment): the kit's course with bob's spotify starter handed in and
    the assignment generated; ``config_extra`` appended to the course's nbgrader_config.py."""
    import shutil

    from grader.commands.cli import nbgrader_env

    course = tmp_path / "course"
    for folder in ("solutions", "exercises"):
        shutil.copytree(root / folder, course / folder)
    (course / "nbgrader_config.py").write_text((root / "nbgrader_config.py").read_text() + config_extra)
    target = course / "submitted" / "bob" / "dropout-batchnorm"
    target.mkdir(parents=True)
    (target / "spotify.ipynb").write_bytes((starter / "spotify.ipynb").read_bytes())
    env = nbgrader_env()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "dropout-batchnorm", "--force"], cwd=course,
                   env=env, capture_output=True, timeout=600, check=True)
    return course, env


def test_nbgrader_autograde_with_a_broken_sandbox_writes_no_grade(tmp_path, starter, root):
    from gradebook import scores

    course, env = starter_course(tmp_path, starter, root)
    env = grader_env(dict(PATH=env["PATH"]), fake_bwrap(tmp_path / "bin", probe_passes=True))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "dropout-batchnorm", "--create"], cwd=course,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "the sandbox cannot start" in result.stderr and "No submission was graded" in result.stderr
    assert not (course / "autograded").exists() and scores(course) == {}


FORMGRADER_AUTOGRADE = """import json, sys
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(CourseDirectory(root=".", config=config), config=config)
print(json.dumps(api.autograde("dropout-batchnorm", "bob")))"""


def test_nbgrader_refuses_a_kernel_manager_that_is_not_the_kits(tmp_path, starter, root):
    """A hub's config that names another kernel manager after the kit's (nbconvert applies it when it
    configures the Execute step again): the command line and formgrader's Autograde button (its API
    call, as formgrader makes it) both stop before any kernel starts, and no grade is written."""
    from gradebook import scores

    course, env = starter_course(tmp_path, starter, root,
                                 '\nc.Execute.kernel_manager_class = "jupyter_client.manager.AsyncKernelManager"\n')
    cli = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "dropout-batchnorm", "--create"], cwd=course,
                         env=env, capture_output=True, text=True, timeout=600)
    assert cli.returncode != 0 and "not the kit's contained kernel manager" in cli.stdout + cli.stderr
    button = subprocess.run([sys.executable, "-c", FORMGRADER_AUTOGRADE], cwd=course, env=env, capture_output=True,
                            text=True, timeout=600)
    answer = json.loads(button.stdout.strip().splitlines()[-1])
    assert answer["success"] is False and "not the kit's contained kernel manager" in answer["log"] + answer.get("error", "")
    # nbgrader registers the handed-in notebook's grade cells before it executes: none is scored (the
    # wine notebook, not handed in, gets nbgrader's own zeros without any kernel)
    recorded = {cell: score for cell, score in scores(course).items() if cell[1] == "spotify"}
    scored = {cell: score for cell, score in recorded.items() if score[0] is not None or score[1] is not None}
    assert recorded and not scored, scored
