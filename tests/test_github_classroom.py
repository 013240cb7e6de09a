"""GitHub Classroom: the workflow `python -m grader github-classroom` writes, read as YAML the way
Actions reads it, and every step's own command run as the autograding action runs it (a shell in
the repository's root, which holds the notebooks): on the solutions each passes, on the starter
each coding step fails with the starter message."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from grader.assignments import all_assignments, by_key
from grader.base.i18n import t, use
from grader.commands.github_classroom import GRADER_ACTION, REPORTER_ACTION
from grader.running import sandbox


def write_workflow(folder: Path, assignment: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "--assignment", assignment],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load((folder / ".github" / "workflows" / "classroom.yml").read_text())


def graded_steps(workflow: dict) -> list:
    return [step for step in workflow["jobs"]["run-autograding-tests"]["steps"] if step.get("uses") == GRADER_ACTION]


def autograded_points_in_the_notebooks(root: Path, unit) -> int:
    """nbgrader's own count: the points of the autograded (test) cells of the source notebooks."""
    total = 0
    for notebook in unit.notebooks:
        nb = nbformat.read(root / "solutions" / unit.name / f"{notebook}.ipynb", as_version=4)
        total += sum(cell.metadata["nbgrader"].get("points", 0) for cell in nb.cells
                     if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution"))
    return total


@pytest.mark.parametrize("assignment", [unit.key for unit in all_assignments()])
def test_one_step_per_autograded_question_worth_its_points_and_one_reporter(tmp_path, root, assignment):
    workflow = write_workflow(tmp_path, assignment)
    steps = graded_steps(workflow)
    assert sum(int(step["with"]["max-score"]) for step in steps) == autograded_points_in_the_notebooks(root, by_key(assignment))
    assert all("--question" in step["with"]["command"] and step["with"]["test-name"] for step in steps)
    assert len({step["id"] for step in steps}) == len(steps)
    reporter = workflow["jobs"]["run-autograding-tests"]["steps"][-1]
    assert reporter["uses"] == REPORTER_ACTION
    assert reporter["with"]["runners"].split(",") == [step["id"] for step in steps]
    assert set(reporter["env"]) == {f"{step['id'].upper()}_RESULTS" for step in steps}
    triggers = workflow["on"] if "on" in workflow else workflow[True]  # YAML 1.1 reads a bare `on` as true
    assert triggers == ["push", "repository_dispatch"]  # what GitHub Classroom's own workflow listens to


def run_step(step: dict, repository: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(sandbox.SANDBOX_ENV, None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` is the kit's, as after the install step
    return subprocess.run(["bash", "-c", step["with"]["command"]], cwd=repository, env=env, capture_output=True,
                          text=True, timeout=60 * int(step["with"]["timeout"]))


@pytest.mark.slow
def test_every_step_passes_on_the_solutions_and_fails_on_the_starter_with_its_message(tmp_path, root):
    steps = graded_steps(write_workflow(tmp_path, "lesson"))
    for kind, folder in (("solutions", root / "solutions" / "dropout-batchnorm"),
                         ("starter", root / "exercises" / "dropout-batchnorm")):
        repository = tmp_path / kind
        repository.mkdir()
        for notebook in folder.glob("*.ipynb"):
            shutil.copyfile(notebook, repository / notebook.name)
        for step in steps:
            done = run_step(step, repository)
            if kind == "solutions":
                assert done.returncode == 0, f"{step['id']}: {done.stdout[-2000:]}"
                assert "1 passed" in done.stdout, done.stdout[-2000:]
            else:
                assert done.returncode == 1, f"{step['id']}: {done.stdout[-2000:]}"
                with use("en"):
                    assert t("model.starter") in done.stdout, done.stdout[-2000:]
                assert "1 failed" in done.stdout


def test_an_unknown_question_is_a_usage_error_that_lists_the_questions(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "grader", "--question", "wine_q9",
                           "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--question wine_q9: no such question" in done.stderr and "spotify_q3" in done.stderr
