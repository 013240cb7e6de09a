"""The kit's nbgrader_config.py where the kit cannot be imported (a hub whose nbgrader lives in
another environment): nbgrader ignores a config file that raises and grades with its defaults
(30 s cells, student code not sandboxed), so the config says so itself. `nbgrader autograde`
stops before it writes anything; formgrader's Autograde fails with the message before a cell runs.
The kit is made unimportable the way Python itself reports it (``sys.modules['grader'] = None``),
in real nbgrader processes run in a copy of the course folder."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

WITHOUT_KIT = "import sys\nsys.modules['grader'] = None  # the kit cannot be imported by this Python\n"


def _course(tmp_path, root):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(root / "solutions" / "dropout-batchnorm", course / "solutions" / "dropout-batchnorm")
    bob = course / "submitted" / "bob" / "dropout-batchnorm"
    bob.mkdir(parents=True)
    for name in ("wine", "spotify"):
        shutil.copy(root / "exercises" / "dropout-batchnorm" / f"{name}.ipynb", bob / f"{name}.ipynb")
    return course


def _without_kit(course, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_KIT + code], cwd=course, capture_output=True, text=True,
                          timeout=300)


def test_autograde_stops_with_a_message_that_names_the_missing_kit(tmp_path, root):
    course = _course(tmp_path, root)
    done = _without_kit(course, "from nbgrader.apps.nbgraderapp import main\n"
                                "sys.argv = ['nbgrader', 'autograde', 'dropout-batchnorm', '--create']\nmain()")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the dropout-batchnorm kit cannot be imported" in done.stderr
    assert "pip install 'dropout-batchnorm-kit[instructor]'" in done.stderr
    assert not (course / "autograded").exists() and not (course / "gradebook.db").exists()


def test_formgraders_autograde_fails_before_any_cell_runs(tmp_path, root):
    """Generating the release needs no kit (nbgrader's own steps, the folders above); autograding
    from formgrader's API fails for bob with the message, and nothing of his is graded."""
    course = _course(tmp_path, root)
    code = """
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from nbgrader.apps.baseapp import NbGrader
config = NbGrader._load_config_files('nbgrader_config', path=['.'])
merged = Config()
for each, _ in config:
    merged.merge(each)
api = NbGraderAPI(CourseDirectory(config=merged), config=merged)
print(json.dumps({"generate": api.generate_assignment("dropout-batchnorm"),
                  "autograde": api.autograde("dropout-batchnorm", "bob", create=True)}))
"""
    done = _without_kit(course, "import json\n" + code)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = json.loads(done.stdout.strip().splitlines()[-1])
    assert said["generate"]["success"], said["generate"]
    assert not said["autograde"]["success"], said["autograde"]
    assert "the dropout-batchnorm kit cannot be imported" in said["autograde"]["log"] + said["autograde"].get("error", "")
    assert not list((course / "autograded").glob("bob/*/*.ipynb"))
    released = nbformat.read(course / "exercises" / "dropout-batchnorm" / "wine.ipynb", as_version=4)
    assert released.cells  # the release itself was written, with the course folder's settings
