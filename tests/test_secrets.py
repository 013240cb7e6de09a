"""Hostile readers and probes, through all four grading paths: the command, ``pytest grader``,
batch and nbgrader autograde. Each probe must be denied, and no planted marker may appear in
anything the run writes or prints (terminal, JSON, feedback pages, gradebook, nbgrader's folders).
The same probes run from a wheel installed under /tmp in test_install.py."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from grader.running import sandbox
from grader.commands.cli import nbgrader_env
from secret_probes import leaks, plant

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sandbox.available(), reason="no sandbox can run here")]
ASSIGNMENT = "dropout-batchnorm"


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
    assert len(found) == 9, found
    if reference_visible:  # nbgrader's hidden tests run in the student's kernel and read the thresholds
        assert found.pop(6).startswith("READ '{")
    assert found[1] == "READ 'unset'" and all(f.startswith("DENIED ") for i, f in enumerate(found) if i != 1), found
    assert not planted.connections, "the kernel reached a loopback server"


def q1_message(report: dict) -> str:
    return next(q["message"] for nb in report["notebooks"] for q in nb["questions"] if q["id"] == "spotify_q1")


def test_the_command(planted, tmp_path):
    submission = planted.notebook(tmp_path / "submission")
    result = subprocess.run([sys.executable, "-m", "grader", str(submission.parent), "--json", str(tmp_path / "r.json"),
                             "--html", str(tmp_path / "r.html")], capture_output=True, text=True, cwd=tmp_path,
                            env=environment(planted), timeout=900)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text())
    every_probe_denied(planted, q1_message(report))
    assert leaks(planted, [result.stdout, result.stderr], [tmp_path / "r.json", tmp_path / "r.html"]) == {}


def test_pytest_grader(planted, tmp_path, root):
    submission = planted.notebook(tmp_path / "submission")
    result = subprocess.run([sys.executable, "-m", "pytest", "grader", "--submission", str(submission.parent),
                             "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.html"),
                             "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=root,
                            env=environment(planted), timeout=900)
    assert result.returncode == 1, result.stdout[-2000:]
    every_probe_denied(planted, result.stdout)
    assert leaks(planted, [result.stdout, result.stderr], [tmp_path / "r.json", tmp_path / "r.html"]) == {}


def make_course(planted, course):
    planted.notebook(course / "submitted" / "mallory" / ASSIGNMENT)
    return course


def test_batch(planted, tmp_path):
    course = make_course(planted, tmp_path / "course")
    result = subprocess.run([sys.executable, "-m", "grader", "batch", str(course), "--workers", "1"],
                            capture_output=True, text=True, cwd=tmp_path, env=environment(planted), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    graded = json.loads((course / "kit-grades" / "mallory.json").read_text())
    every_probe_denied(planted, q1_message(graded))
    outputs = [course / "kit-grades", course / "feedback", course / "gradebook.db", course / "kit-grades.csv"]
    assert leaks(planted, [result.stdout, result.stderr], outputs) == {}


def test_nbgrader_autograde(planted, tmp_path, root):
    course = tmp_path / "course"
    for folder in ("solutions", "exercises"):
        shutil.copytree(root / folder, course / folder)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    make_course(planted, course)
    env = environment(planted)

    def nbgrader(*args):
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                                text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    runs = [nbgrader("generate_assignment", ASSIGNMENT, "--force"), nbgrader("autograde", ASSIGNMENT, "--create"),
            nbgrader("generate_feedback", ASSIGNMENT)]
    autograded = json.loads((course / "autograded" / "mallory" / ASSIGNMENT / "spotify.ipynb").read_text())
    answer = next(c for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "spotify_q1_model")
    every_probe_denied(planted, next(o["evalue"] for o in answer["outputs"] if o["output_type"] == "error"),
                       reference_visible=True)
    outputs = [course / "autograded", course / "feedback", course / "gradebook.db"]
    assert leaks(planted, [r.stdout + r.stderr for r in runs], outputs) == {"reference file": '"intra_op_threads"'}
