"""Notebooks are code: solutions/ is what the question definitions build, exercises/ is what
`nbgrader generate_assignment` makes of solutions/, and the student copies ship clean."""
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader.cli import nbgrader_env
from grader.notebook_source import NOTEBOOK_BUILDERS

NAMES = sorted(NOTEBOOK_BUILDERS)


def cells(nb):
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells]


@pytest.mark.parametrize("name", NAMES)
def test_solutions_match_their_definition(solutions, name):
    committed = nbformat.read(solutions / f"{name}.ipynb", as_version=4)
    assert cells(committed) == cells(NOTEBOOK_BUILDERS[name]()), (
        f"solutions/{name}.ipynb drifted from grader/notebook_source.py: run `python -m grader build`")


@pytest.fixture(scope="module")
def generated(tmp_path_factory, root):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(root / "solutions", course / "solutions")
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "dropout-batchnorm",
                    "--db", f"sqlite:///{course}/gradebook.db"], cwd=course, env=nbgrader_env(),
                   check=True, capture_output=True)
    return course / "exercises" / "dropout-batchnorm"


@pytest.mark.parametrize("name", NAMES)
def test_exercises_are_what_nbgrader_generates(generated, exercises, name):
    fresh = nbformat.read(generated / f"{name}.ipynb", as_version=4)
    committed = nbformat.read(exercises / f"{name}.ipynb", as_version=4)
    assert cells(committed) == cells(fresh), f"exercises/{name}.ipynb drifted: run `python -m grader build`"


@pytest.mark.parametrize("name", NAMES)
def test_exercises_ship_clean_without_answers_or_hidden_tests(exercises, name):
    nb = nbformat.read(exercises / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "assert_val_loss" not in text
    assert "layers.Dropout(" not in "\n".join(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    assert text.count("# YOUR CODE HERE") >= 2
