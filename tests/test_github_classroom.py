"""GitHub Classroom: the workflow `python -m grader github-classroom` writes, read as YAML the way
Actions reads it, and every step's own command run as the autograding action runs it (a shell in
the repository's root, which holds the notebooks): on the solutions each passes, on the starter
each coding step fails with the starter message."""
from __future__ import annotations

import os
import shlex
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


def runner_home(base: Path) -> Path:
    """A home as a runner's is after an earlier step: the kit's data in its cache (downloaded
    there on a real runner), and its training cache the suite's (linked, so that nothing is
    trained twice). Nothing reaches the kit through the environment."""
    from grader.base.data import locate, manifest
    from grader.running.training_cache import CACHE_ENV

    cache = base / "home" / ".cache" / "dropout-batchnorm-kit"
    cache.mkdir(parents=True)
    for name in manifest():
        shutil.copyfile(locate(name), cache / name)
    if os.environ.get(CACHE_ENV) and os.environ[CACHE_ENV].lower() != "off":
        (cache / "training").symlink_to(os.environ[CACHE_ENV], target_is_directory=True)
    return base / "home"


def run_step(step: dict, repository: Path, home: Path) -> tuple[bool, subprocess.CompletedProcess]:
    """The step as autograding-command-grader runs it: its setup-command, then its command, each
    split into words as @actions/exec does (no shell), with the bare environment the grader gives
    (PATH, HOME); points only for exit 0 with nothing on stderr."""
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "FORCE_COLOR": "true"}
    timeout = 60 * int(step["with"]["timeout"])
    setup = subprocess.run(shlex.split(step["with"]["setup-command"]), cwd=repository, env=env, capture_output=True,
                           text=True, timeout=timeout)
    if setup.returncode != 0:
        return False, setup
    done = subprocess.run(shlex.split(step["with"]["command"]), cwd=repository, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return done.returncode == 0 and not done.stderr, done


@pytest.mark.slow
def test_every_step_passes_on_the_solutions_and_fails_on_the_starter_with_its_message(tmp_path, root):
    """The workflow of the kit the runner installs (here: the one installed, named as a requirement
    pip finds satisfied), each step run as the command grader runs it."""
    workflow = tmp_path / "workflow"
    workflow.mkdir()
    done = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "--install", "dropout-batchnorm-kit"],
                          cwd=workflow, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    steps = graded_steps(yaml.safe_load((workflow / ".github" / "workflows" / "classroom.yml").read_text()))
    home = runner_home(tmp_path)
    for kind, folder in (("solutions", root / "solutions" / "dropout-batchnorm"),
                         ("starter", root / "exercises" / "dropout-batchnorm")):
        repository = tmp_path / kind
        repository.mkdir()
        for notebook in folder.glob("*.ipynb"):
            shutil.copyfile(notebook, repository / notebook.name)
        for step in steps:
            passed, done = run_step(step, repository, home)
            if kind == "solutions":
                assert passed, f"{step['id']}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
                assert "1 passed" in done.stdout, done.stdout[-2000:]
            else:
                assert not passed and done.returncode == 1, f"{step['id']}: {done.stdout[-2000:]}"
                with use("en"):
                    assert t("model.starter") in done.stdout, done.stdout[-2000:]
                assert "1 failed" in done.stdout


def test_the_install_is_each_steps_setup_and_a_failed_one_still_reports(tmp_path):
    """The install runs as each grader step's setup-command: no step of its own that, failing,
    would skip every grader step and the reporter. A wheel committed to the template repository,
    or any requirement, replaces the release; the actions are Node 24 ones."""
    done = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "--wheel",
                           "wheels/dropout_batchnorm_kit-0.1.0-py3-none-any.whl"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    assert not [step for step in steps if "run" in step]  # nothing outside the grader steps can fail the job
    assert [step["uses"] for step in steps[:2]] == ["actions/checkout@v5", "actions/setup-python@v6"]
    for step in graded_steps(workflow):
        assert step["with"]["setup-command"].endswith('"wheels/dropout_batchnorm_kit-0.1.0-py3-none-any.whl[cpu]"')
    broken = dict(graded_steps(workflow)[0])
    broken["with"] = dict(broken["with"], **{"setup-command": "python -m pip install --no-index ./no-such.whl"})
    passed, said = run_step(broken, tmp_path, tmp_path)
    assert not passed and "no-such.whl" in said.stderr + said.stdout  # the step's message: why it got no points
    wrong = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "--wheel", "kit.tar.gz"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "not a wheel" in wrong.stderr


def test_an_unknown_question_is_a_usage_error_that_lists_the_questions(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "grader", "--question", "wine_q9",
                           "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--question wine_q9: no such question" in done.stderr and "spotify_q3" in done.stderr
