"""The kit as courses install it: the wheel (``pip install .``, not ``-e``), installed outside the
repository (under /tmp), used from an unrelated folder. Students fetch the notebooks, grade them
with the command and with pytest, and read the data; the hostile probes run from there too."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.running import sandbox
from pytest_output import starters_named
from secret_probes import leaks, plant

pytestmark = pytest.mark.slow
STARTUP_NOISE = ("oneDNN", "absl::InitializeLog", "cuda", "tensorflow/core", "I0000", "W0000")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, root) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(root)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> dict:
    """The wheel installed into a folder under /tmp, and the environment that uses it."""
    target = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop(sandbox.SANDBOX_ENV, None)
    return {"target": target, "env": env, "work": tmp_path_factory.mktemp("student-folder")}


def run(args, installed, cwd=None, extra=None, timeout=900):
    env = dict(installed["env"], **(extra or {}))
    return subprocess.run([sys.executable, *args], cwd=cwd or installed["work"], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_the_wheel_carries_everything_the_kit_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("grader/datasets/manifest.json", "grader/exercises/wine.ipynb", "grader/exercises/spotify.ipynb",
                   "grader/exercises_zh/wine.ipynb", "grader/exercises_zh/spotify.ipynb",
                   "grader/exercises_internals/internals.ipynb", "grader/exercises_internals_zh/internals.ipynb",
                   "grader/locale/en/LC_MESSAGES/kit.po", "grader/locale/zh_CN/LC_MESSAGES/kit.po",
                   "grader/fonts/DropoutKitSansSC.otf", "grader/fonts/OFL.txt",
                   "grader/lesson/reference.json", "grader/lesson/notebook_source.py", "grader/test_notebooks.py",
                   "grader/internals/reference.json", "grader/assignments/internals.py",
                   "grader/lesson/constraints.txt", "grader/internals/constraints.txt",
                   *(f"grader/{part}/__init__.py" for part in ("base", "judging", "running", "grading", "feedback",
                                                               "commands", "lesson"))):
        assert needed in names, needed
    assert not any(name.startswith(("solutions/", "tests/")) for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "grader.commands.pytest_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_kit_is_the_one_imported(installed):
    result = run(["-c", "import grader; print(grader.__file__)"], installed)
    assert result.stdout.strip().startswith(str(installed["target"])), result.stdout + result.stderr


def test_the_installed_kit_names_the_repository_its_build_was_given(installed):
    """No pyproject.toml beside an installed kit: the repository comes from its own metadata."""
    from grader.base import release

    done = run(["-c", "from grader.base import release; print(release.repository(), release.is_placeholder())"], installed)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [release.repository(), "False"]


def test_students_fetch_the_notebooks_and_the_data_loads(installed):
    result = run(["-m", "grader", "exercises", "notebooks"], installed)
    assert result.returncode == 0, result.stderr
    folder = installed["work"] / "notebooks"
    assert sorted(p.name for p in folder.glob("*.ipynb")) == ["spotify.ipynb", "wine.ipynb"]
    data = run(["-c", "from grader.base.data import wine_splits; print(wine_splits().X_train.shape)"], installed)
    assert data.stdout.strip() == "(1119, 11)", data.stdout + data.stderr


def test_the_command_grades_the_starter_notebooks(installed):
    run(["-m", "grader", "exercises", "notebooks"], installed)
    result = run(["-m", "grader", "notebooks", "--json", "report.json"], installed)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((installed["work"] / "report.json").read_text())
    coding = [q for nb in report["notebooks"] for q in nb["questions"] if not q["manual"]]
    assert len(coding) == 3 and all("still the starter model" in q["message"] for q in coding)
    assert report["sandbox"] == sandbox.available()
    assert not [line for line in result.stderr.splitlines() if any(n in line for n in STARTUP_NOISE)]


def without(installed, tmp_path, *packages) -> dict:
    """The environment of a process (and what it starts) where ``packages`` cannot be imported,
    as where a student's install left them out: a sitecustomize marks them absent."""
    folder = tmp_path / ("without-" + "-".join(packages))
    folder.mkdir()
    (folder / "sitecustomize.py").write_text("import sys\n" + "".join(f"sys.modules[{p!r}] = None\n" for p in packages))
    return {"PYTHONPATH": f"{folder}{os.pathsep}{installed['target']}"}


INSTRUCTOR_TOOLS = ("nbgrader", "dask", "distributed")


def test_students_self_check_with_pytest_from_their_folder(installed, tmp_path):
    """Without the instructor's tools (nbgrader, Dask), as a student's install has it."""
    mine = installed["work"] / "mine"
    mine.mkdir()
    student = without(installed, tmp_path, *INSTRUCTOR_TOOLS)
    assert run(["-c", "import nbgrader"], installed, extra=student).returncode == 1  # they are absent indeed
    run(["-m", "grader", "exercises", "."], installed, cwd=mine, extra=student)
    result = run(["-m", "pytest", "--pyargs", "grader", "-p", "no:cacheprovider"], installed, cwd=mine, extra=student)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "3 failed, 3 skipped" in result.stdout and "still the starter model" in result.stdout
    assert not [line for line in (result.stdout + result.stderr).splitlines() if any(n in line for n in STARTUP_NOISE)]
    assert (mine / "reports" / "feedback.html").exists()


@pytest.mark.skipif(not sandbox.available(), reason="no sandbox can run here")
def test_hostile_probes_from_the_kit_under_tmp(installed, tmp_path):
    assert str(installed["target"]).startswith("/tmp/")  # the place that used to kill every sandboxed kernel
    for planted in plant(tmp_path):
        submission = planted.notebook(tmp_path / "submission")
        result = run(["-m", "grader", str(submission), "--json", str(tmp_path / "r.json")], installed, extra=planted.env())
        assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
        message = next(q["message"] for nb in json.loads((tmp_path / "r.json").read_text())["notebooks"]
                       for q in nb["questions"] if q["id"] == "spotify_q1")
        assert "probes: DENIED" in message and "READ '{" not in message and not planted.connections, message
        assert leaks(planted, [result.stdout, result.stderr], [tmp_path / "r.json"]) == {}


def test_the_chinese_notebooks_come_with_the_wheel_and_speak_chinese(installed):
    result = run(["-m", "grader", "exercises", "zh", "--lang", "zh_CN"], installed)
    assert result.returncode == 0, result.stderr
    notebook = json.loads((installed["work"] / "zh" / "spotify.ipynb").read_text())
    assert notebook["metadata"]["dropout_kit"]["language"] == "zh_CN"
    words = run(["-c", "from grader.i18n import t; from grader.feedback.fonts import font_css; "
                       "print(t('row.missing', 'zh_CN'), bool(font_css('zh_CN', '暂退层')))"], installed)
    assert words.stdout.split() == ["缺少", "True"], words.stdout + words.stderr


def test_the_internals_notebook_comes_with_the_wheel(installed):
    result = run(["-m", "grader", "exercises", "deeper", "--assignment", "internals"], installed)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (installed["work"] / "deeper").glob("*.ipynb")] == ["internals.ipynb"]
    graded = run(["-m", "pytest", "--pyargs", "grader", "-p", "no:cacheprovider"], installed,
                 cwd=installed["work"] / "deeper")  # the student's self-check, from her folder
    assert graded.returncode == 1 and "4 failed" in graded.stdout, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert starters_named(graded.stdout) == {"inverted_dropout", "MyDropout", "MyBatchNormalization"}, graded.stdout[-3000:]


def test_instructor_commands_say_what_a_students_install_lacks(installed, tmp_path):
    student = without(installed, tmp_path, *INSTRUCTOR_TOOLS)
    for command in (["batch", str(tmp_path)], ["build"]):
        result = run(["-m", "grader", *command], installed, extra=student)
        assert result.returncode == 2 and "pip install \"dropout-batchnorm-kit[instructor]\"" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_without_tensorflow_the_kit_says_how_to_get_it(installed, tmp_path):
    result = run(["-c", "from grader.quiet import import_tensorflow; import_tensorflow()"], installed,
                 extra=without(installed, tmp_path, "tensorflow"))
    assert result.returncode == 1 and "pip install \"dropout-batchnorm-kit[cpu]\"" in result.stderr, result.stderr


def test_the_wheel_asks_for_tensorflow_nbgrader_and_dask_only_through_extras(wheel):
    """A student's install (no extra) changes no TensorFlow a hosted notebook already has."""
    names = zipfile.ZipFile(wheel).namelist()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    heavy = [r for r in requires if r.lower().startswith(("tensorflow", "nbgrader", "dask"))]
    assert heavy and all("extra ==" in r for r in heavy), heavy
    assert {"cpu", "instructor", "test"} <= {line.split(":", 1)[1].strip() for line in metadata.splitlines()
                                              if line.startswith("Provides-Extra:")}


TENSORFLOW_DISTRIBUTIONS = {"tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly",
                            "tf-nightly-cpu", "tensorflow-gpu"}


def test_pips_resolver_adds_no_second_tensorflow_beside_a_hosted_one(wheel, tmp_path):
    """What pip would install into a hosted image (TensorFlow 2.19, Keras 3) with the kit's wheel:
    one TensorFlow distribution, the protobuf it needs, and no instructor's tools. (Before the
    dependencies were split, tensorflow_cpu came beside tensorflow, with nbgrader and JupyterLab.)"""
    report = tmp_path / "report.json"
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             "--retries", "1", "--timeout", "20", "--report", str(report),
                             "tensorflow==2.19.*", "keras>=3,<4", str(wheel)], capture_output=True, text=True, timeout=900)
    if result.returncode and any(s in result.stderr for s in ("NewConnectionError", "Temporary failure in name resolution",
                                                              "No matching distribution found for tensorflow")):
        pytest.skip(f"the package index is not reachable here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr[-3000:]
    chosen = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"]
              for i in json.loads(report.read_text())["install"]}
    assert [name for name in chosen if name in TENSORFLOW_DISTRIBUTIONS] == ["tensorflow"], chosen
    assert chosen["tensorflow"].startswith("2.19.") and int(chosen["protobuf"].split(".")[0]) < 6
    assert not {"nbgrader", "dask", "distributed", "jupyterlab", "notebook", "sqlalchemy"} & set(chosen)

