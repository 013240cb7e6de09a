"""Hostile readers and probes, through all four grading paths: the command, ``pytest grader``,
batch and nbgrader autograde. Each probe must be denied, and no planted marker may appear in
anything the run writes or prints (terminal, JSON, feedback pages, gradebook, nbgrader's folders).
The same probes run from a wheel installed under /tmp in test_install.py.

Each path runs twice: on this machine (bubblewrap), and in a simulated container (tests/container.py:
Docker's denials of namespaces and mounts, so the Landlock layer contains the kernels). In the
container the spotify Q3 answer is hostile too: it tampers with the kit, the venv, the thresholds
and the results, signals the grading processes and leaves a daemon; nothing changes, nothing is
signalled, and the daemon is gone when grading ends."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

import pytest

import container
from grader.running import confine, sandbox
from grader.running.exposure import KIT_PACKAGE
from grader.commands.cli import nbgrader_env
from secret_probes import hostile_contained, hostile_source, leaks, plant
from submissions import set_answer, write

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sandbox.available(), reason="no sandbox can run here")]
ASSIGNMENT = "dropout-batchnorm"
WHERE = ["host", pytest.param("container", marks=pytest.mark.skipif(
    confine.landlock_abi() < 1 or not container.available(), reason="no Landlock or no libseccomp here"))]
TARGETS = [KIT_PACKAGE / "lesson" / "questions.py", KIT_PACKAGE / "lesson" / "reference.json",
           Path(sandbox.python_paths()[-1]) / "jupyter_client" / "__init__.py"]


@dataclass
class Where:
    """Where a grading path runs: on this machine, or in the simulated container (hostile Q3 too)."""
    name: str

    def command(self, argv) -> list:
        return container.command(argv) if self.name == "container" else list(argv)

    def submission(self, planted, folder: Path, extra_targets=()) -> Path:
        path = planted.notebook(folder)
        if self.name == "container":
            nb = nbformat.read(path, as_version=4)
            write(set_answer(nb, "spotify_q3_model", hostile_source(TARGETS + list(extra_targets))), folder, "spotify")
        return path

    def before(self) -> dict:
        return {path: path.read_bytes() if path.exists() else None for path in TARGETS}

    def contained(self, text: str, before: dict) -> None:
        if self.name == "container":
            hostile_contained(text, before)


@pytest.fixture(params=WHERE)
def where(request) -> Where:
    return Where(request.param)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    yield from plant(tmp_path_factory.mktemp("secrets"))


def environment(planted) -> dict:
    env = nbgrader_env()
    env.update(planted.env())
    env.pop(sandbox.SANDBOX_ENV, None)
    return env


def every_probe_denied(planted, text: str, reference_visible: bool = False) -> None:
    """The probes ran (their report is there) and each was denied."""
    assert "probes: " in text, text[-2000:]
    found = text[text.index("probes: ") + len("probes: "):].split("\n")[0].split(" || ")
    assert len(found) == 9, " || ".join(found)
    if reference_visible:  # nbgrader's hidden tests run in the student's kernel and read the thresholds
        assert found.pop(6).startswith("READ '{")
    assert found[1] == "READ 'unset'" and all(f.startswith("DENIED ") for i, f in enumerate(found) if i != 1), found
    assert not planted.connections, "the kernel reached a loopback server"


def q1_message(report: dict, question: str = "spotify_q1") -> str:
    return next(q["message"] for nb in report["notebooks"] for q in nb["questions"] if q["id"] == question)


def test_the_command(planted, tmp_path, where):
    submission = where.submission(planted, tmp_path / "submission", [tmp_path / "r.json"])
    before = where.before()
    result = subprocess.run(where.command([sys.executable, "-m", "grader", str(submission.parent), "--json",
                                           str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")]),
                            capture_output=True, text=True, cwd=tmp_path, env=environment(planted), timeout=900)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text())
    every_probe_denied(planted, q1_message(report))
    where.contained(q1_message(report, "spotify_q3"), before)
    assert json.loads((tmp_path / "r.json").read_text()) == report  # the daemon did not outlive grading
    if where.name == "container":
        assert report["sandbox_layer"].startswith("landlock") and "contained by: Landlock" in result.stdout
    assert leaks(planted, [result.stdout, result.stderr], [tmp_path / "r.json", tmp_path / "r.html"]) == {}


def test_pytest_grader(planted, tmp_path, root, where):
    submission = where.submission(planted, tmp_path / "submission")
    before = where.before()
    result = subprocess.run(where.command([sys.executable, "-m", "pytest", "grader", "--submission",
                                           str(submission.parent), "--json", str(tmp_path / "r.json"), "--report",
                                           str(tmp_path / "r.html"), "-p", "no:cacheprovider"]),
                            capture_output=True, text=True, cwd=root, env=environment(planted), timeout=900)
    assert result.returncode == 1, result.stdout[-2000:]
    every_probe_denied(planted, result.stdout)
    where.contained(q1_message(json.loads((tmp_path / "r.json").read_text()), "spotify_q3"), before)
    assert leaks(planted, [result.stdout, result.stderr], [tmp_path / "r.json", tmp_path / "r.html"]) == {}


def make_course(planted, course, where=None):
    folder = course / "submitted" / "mallory" / ASSIGNMENT
    where.submission(planted, folder) if where else planted.notebook(folder)
    return course


def test_batch(planted, tmp_path, where):
    course = make_course(planted, tmp_path / "course", where)
    before = where.before()
    result = subprocess.run(where.command([sys.executable, "-m", "grader", "batch", str(course), "--workers", "1"]),
                            capture_output=True, text=True, cwd=tmp_path, env=environment(planted), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    graded = json.loads((course / "kit-grades" / "mallory.json").read_text())
    every_probe_denied(planted, q1_message(graded))
    where.contained(q1_message(graded, "spotify_q3"), before)
    outputs = [course / "kit-grades", course / "feedback", course / "gradebook.db", course / "kit-grades.csv"]
    assert leaks(planted, [result.stdout, result.stderr], outputs) == {}


def test_nbgrader_autograde(planted, tmp_path, root, where):
    course = tmp_path / "course"
    for folder in ("solutions", "exercises"):
        shutil.copytree(root / folder, course / folder)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    with open(course / "nbgrader_config.py", "a") as config:  # mallory and trent, each in a process of their own
        config.write("\nc.ParallelAutograde.workers = 2\n")
    make_course(planted, course, where)
    # a second student (the release's wine, untouched: nothing to train): the command shares the
    # class between two nbgrader processes, so mallory is autograded by one that it started
    trent = course / "submitted" / "trent" / ASSIGNMENT
    trent.mkdir(parents=True)
    shutil.copy(root / "exercises" / ASSIGNMENT / "wine.ipynb", trent / "wine.ipynb")
    before = where.before()
    env = environment(planted)

    def nbgrader(*args):
        result = subprocess.run(where.command([sys.executable, "-m", "nbgrader", *args]), cwd=course, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    runs = [nbgrader("generate_assignment", ASSIGNMENT, "--force"), nbgrader("autograde", ASSIGNMENT, "--create"),
            nbgrader("generate_feedback", ASSIGNMENT)]
    autograded = json.loads((course / "autograded" / "mallory" / ASSIGNMENT / "spotify.ipynb").read_text())
    assert "autograding 2 submissions in 2 nbgrader processes at once" in runs[1].stdout + runs[1].stderr, \
        runs[1].stderr[-3000:]

    def error_of(grade_id):
        cell = next(c for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
        return next(o["evalue"] for o in cell["outputs"] if o["output_type"] == "error")

    every_probe_denied(planted, error_of("spotify_q1_model"), reference_visible=True)
    where.contained(error_of("spotify_q3_model") if where.name == "container" else "", before)
    outputs = [course / "autograded", course / "feedback", course / "gradebook.db"]
    assert leaks(planted, [r.stdout + r.stderr for r in runs], outputs) == {"reference file": '"intra_op_threads"'}


GRADING_USER = 65534  # nobody: the instructor's own user in a JupyterHub container, say


def python_runs_as(uid: int) -> str | None:
    """None if this Python and the kit start as ``uid``; else why not."""
    done = subprocess.run(container.command([sys.executable, "-c", "import grader.running.sandbox"], user=uid),
                          capture_output=True, text=True, timeout=120, cwd="/")
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["exit status"])[-1]


@pytest.mark.skipif(os.geteuid() != 0 or confine.landlock_abi() < 1 or not container.available(),
                    reason="needs root (to become another user), Landlock and libseccomp")
def test_the_command_as_an_unprivileged_user_in_a_container(planted, tmp_path):
    """The grading process itself runs as a user (not root) in the simulated container: the layer is
    Landlock alone, and the probes and the hostile cell get nothing either."""
    why = python_runs_as(GRADING_USER)
    if why:
        pytest.skip(f"this Python cannot run as uid {GRADING_USER}: {why}")
    base = Path(tempfile.mkdtemp(prefix="kit-user-grader-"))
    try:
        os.chmod(base, 0o711)
        work = base / "work"
        work.mkdir()
        where = Where("container")
        submission = where.submission(planted, work / "submission", [work / "r.json"])
        for folder, dirs, files in os.walk(work):
            for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                os.chown(name, GRADING_USER, GRADING_USER)
        before = where.before()
        env = dict(environment(planted), HOME=str(work), DROPOUT_KIT_CACHE=str(work / "cache"),
                   MPLCONFIGDIR=str(work / "mpl"))
        result = subprocess.run(container.command([sys.executable, "-m", "grader", str(submission.parent), "--json",
                                                   str(work / "r.json")], user=GRADING_USER),
                                capture_output=True, text=True, cwd=work, env=env, timeout=900)
        assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
        report = json.loads((work / "r.json").read_text())
        assert report["sandbox_layer"] == "landlock" and f"as uid {GRADING_USER}" in report["sandbox_detail"]
        every_probe_denied(planted, q1_message(report))
        where.contained(q1_message(report, "spotify_q3"), before)
        assert json.loads((work / "r.json").read_text()) == report
        assert leaks(planted, [result.stdout, result.stderr], [work / "r.json"]) == {}
    finally:
        shutil.rmtree(base, ignore_errors=True)
