"""Gradescope: the zip `python -m grader gradescope` writes, unpacked into a folder laid out like
Gradescope's container (only that root is not Gradescope's), its real setup.sh run into a fresh
venv, its real run_autograder run on uploads, every results.json checked against a JSON Schema
written from Gradescope's specification, and its scores against `python -m grader`'s."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from grader.base.i18n import t, use
import container
from grader.running import confine, sandbox
from secret_probes import hostile_contained, hostile_source, leaks, plant
from submissions import set_answer, solution_notebook, write
from test_sandbox import fake_bwrap
from test_fork_server import wait_until_gone
from test_secrets import every_probe_denied

pytestmark = pytest.mark.slow
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope-results.schema.json").read_text())


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> dict:
    """The zip, unpacked where Gradescope unpacks it, and setup.sh run as Gradescope runs it."""
    base = tmp_path_factory.mktemp("gradescope")
    made = subprocess.run([sys.executable, "-m", "grader", "gradescope", "-o", str(base / "autograder.zip")],
                          capture_output=True, text=True, timeout=600, cwd=base)
    assert made.returncode == 0, made.stderr[-3000:]
    # the settings to choose, printed from the measurements; the zip's time budget from the platform's timeout
    from grader.commands.gradescope import MEASURED
    from grader.commands.gradescope_run import ADVISED_MEMORY_MB

    assert f"memory   at least {ADVISED_MEMORY_MB} MB" in made.stdout and "768 MB, is too small" in made.stdout
    assert MEASURED[(ADVISED_MEMORY_MB, 0.5)][0] == 15 and MEASURED[(768, 0.5)][0] < 15  # the advice stands on these
    with zipfile.ZipFile(base / "autograder.zip") as zf:
        assert json.loads(zf.read("config.json"))["timeout_s"] == 600
    root = base / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(base / "autograder.zip") as zf:
        names = zf.namelist()
        zf.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in zf.infolist()}
    assert {"setup.sh", "run_autograder"} <= set(names), "both scripts at the zip's root"
    assert all(modes[name] & 0o111 for name in ("setup.sh", "run_autograder"))
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DROPOUT_KIT_DATA", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.pop(sandbox.SANDBOX_ENV, None)
    env["AUTOGRADER_ROOT"] = str(root)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(sys.executable).parent != Path(p))
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=1800, cwd=root)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    return {"root": root, "env": env, "zip": base / "autograder.zip", "base": base}


def test_setup_builds_the_calibrated_environment_or_fails_the_image_build_saying_why(autograder, tmp_path):
    """The fixture's setup.sh built the venv with the calibration's constraints and checked them;
    here the constraints ask for a Python this image does not have and uv cannot install: the
    build fails, naming both versions, before any venv is made."""
    from grader.base.calibrated_env import differences

    venv_python = autograder["root"] / "venv" / "bin" / "python"
    constraints = autograder["root"] / "source" / "constraints.txt"
    assert "tensorflow-cpu==" in constraints.read_text() and "keras==" in constraints.read_text()
    checked = subprocess.run([str(venv_python), "-m", "grader.base.calibrated_env", str(constraints)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "matches the calibration" in checked.stdout, checked.stderr
    assert differences(constraints) == []  # the suite's own environment is the calibrated one too
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder["zip"]) as zf:
        zf.extractall(root / "source")
    text = (root / "source" / "constraints.txt").read_text()
    (root / "source" / "constraints.txt").write_text(text.replace("# python 3.", "# python 9."))
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True, text=True, timeout=600,
                           env=dict(autograder["env"], AUTOGRADER_ROOT=str(root)), cwd=root)
    assert setup.returncode != 0 and not (root / "venv").exists(), setup.stdout[-2000:] + setup.stderr[-2000:]
    have = subprocess.run(["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], env=autograder["env"],
                          capture_output=True, text=True).stdout.strip()
    said = setup.stderr.strip().splitlines()[-1]
    assert "calibrated on Python 9." in said and "uv could not install" in said and "calibrate again" in said, said
    assert f"this image has {have}" in said, said


def upload(autograder, files: dict) -> Path:
    """A fresh /autograder/submission holding ``files`` (relative path -> notebook or bytes)."""
    submission = autograder["root"] / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(autograder["root"] / "results", ignore_errors=True)
    submission.mkdir()
    (autograder["root"] / "results").mkdir()
    for relative, content in files.items():
        path = submission / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
    return submission


def run_autograder(autograder, env_extra: dict | None = None, wrap=list):
    """run_autograder as Gradescope runs it (``wrap``: container.command, to run it in the simulated container)."""
    done = subprocess.run(wrap([str(autograder["root"] / "run_autograder")]), env=dict(autograder["env"], **(env_extra or {})),
                          capture_output=True, text=True, timeout=1800, cwd=autograder["root"])
    results = autograder["root"] / "results" / "results.json"
    return done, (json.loads(results.read_text()) if results.exists() else None)


def cli_report(submission: Path, out: Path) -> dict:
    """`python -m grader` on the same notebooks (in one folder, as the command takes them), from
    the suite's own environment."""
    flat = out.parent / "flat"
    flat.mkdir()
    for path in submission.rglob("*.ipynb"):
        shutil.copyfile(path, flat / path.name)
    env = dict(os.environ)
    env.pop(sandbox.SANDBOX_ENV, None)
    done = subprocess.run([sys.executable, "-m", "grader", str(flat), "--quiet", "--json", str(out)], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert out.exists(), done.stderr[-3000:]
    return json.loads(out.read_text())


def by_name(results) -> dict:
    return {test["name"]: test for test in results["tests"]}


def points_per_question(results) -> dict:
    points = {}
    for test in results["tests"]:
        if "manual" not in test["tags"]:
            points[test["tags"][0]] = points.get(test["tags"][0], 0) + test["score"]
    return points


def cli_points(report) -> dict:
    return {q["id"]: q["points"] for nb in report["notebooks"] for q in nb["questions"] if not q["manual"]}


def released(*parts) -> nbformat.NotebookNode:
    return nbformat.read(Path(__file__).parent.parent.joinpath(*parts), as_version=4)


def test_the_solutions_at_any_depth_get_full_marks_as_the_command_gives_them(autograder, tmp_path):
    submission = upload(autograder, {"hw5/my work/wine.ipynb": released("solutions", "dropout-batchnorm", "wine.ipynb"),
                                     "hw5/spotify.ipynb": released("solutions", "dropout-batchnorm", "spotify.ipynb")})
    done, results = run_autograder(autograder)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 15 and results["execution_time"] > 0
    tests = results["tests"]
    coding = [test for test in tests if "manual" not in test["tags"]]
    assert len(coding) == 6 and all(test["status"] == "passed" and test["score"] == test["max_score"] > 0
                                    for test in coding)
    assert {test["visibility"] for test in coding if "val_loss" in test["tags"]} == {"after_published"}
    assert {test["visibility"] for test in coding if "architecture" in test["tags"]} == {"visible"}
    manual = [test for test in tests if "manual" in test["tags"]]
    assert len(manual) == 3 and all(test["max_score"] == 0 and test["extra_data"]["manual_points"] == 1
                                    for test in manual)
    assert "Dropout" in manual[0]["output"]  # the student's answer, for the grader's hand
    assert results["output_format"] == "html" and "<html" in results["output"]  # the feedback page
    assert points_per_question(results) == cli_points(cli_report(submission, tmp_path / "cli.json"))


def test_a_raising_answer_and_the_starter_fail_only_their_parts_as_the_command_says(autograder, tmp_path):
    wine = set_answer(solution_notebook("wine"), "wine_q1_model", "raise ValueError('not done yet')")
    submission = upload(autograder, {"wine.ipynb": wine,
                                     "spotify.ipynb": released("exercises", "dropout-batchnorm", "spotify.ipynb")})
    done, results = run_autograder(autograder)
    assert done.returncode == 0, done.stdout[-3000:]
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0
    tests = by_name(results)
    with use("en"):
        architecture = tests[f"spotify Q1 dropout · {t('report.part.architecture')}"]
        assert t("model.starter") in architecture["output"] and architecture["status"] == "failed"
    assert "ValueError" in tests["wine Q1 dropout and batch normalization · Architecture"]["output"]
    assert points_per_question(results) == cli_points(cli_report(submission, tmp_path / "cli.json"))


def test_an_upload_without_the_notebooks_says_what_to_upload(autograder):
    upload(autograder, {"notes.txt": b"my answers are in my head"})
    done, results = run_autograder(autograder)
    assert done.returncode == 0, done.stdout[-3000:]
    jsonschema.validate(results, SCHEMA)
    with use("en"):
        said = t("gradescope.nothing", files="wine.ipynb, spotify.ipynb")
    assert results["score"] == 0 and said in results["output"]
    scored = [test for test in results["tests"] if "manual" not in test["tags"]]
    assert scored and all(test["status"] == "failed" and said in test["output"] for test in scored)
    assert sum(test["max_score"] for test in results["tests"]) == 15


def test_the_chinese_release_is_graded_in_chinese_and_a_broken_notebook_fails_only_itself(autograder):
    upload(autograder, {"作业/wine.ipynb": released("solutions", "dropout-batchnorm-zh", "wine.ipynb"),
                        "spotify.ipynb": b'{"cells": [ this is not JSON'})
    done, results = run_autograder(autograder)
    assert done.returncode == 0, done.stdout[-3000:]
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 5
    with use("zh_CN"):
        architecture = t("report.part.architecture")
    wine = [test for test in results["tests"] if test["tags"][0] == "wine_q1"]
    assert wine and all(test["status"] == "passed" for test in wine) and architecture in wine[0]["name"]
    spotify = [test for test in results["tests"] if test["tags"][0].startswith("spotify") and "manual" not in test["tags"]]
    assert spotify and all(test["score"] == 0 and "spotify.ipynb" in test["output"] for test in spotify)
    assert 'lang="zh' in results["output"] or "zh" in results["output"][:400]


def test_when_the_grader_cannot_grade_run_autograder_fails_and_writes_nothing(autograder, tmp_path):
    """A required sandbox that cannot start: Gradescope must show staff a failed autograder, not a 0."""
    config_path = autograder["root"] / "source" / "config.json"
    config = json.loads(config_path.read_text())
    upload(autograder, {"wine.ipynb": released("solutions", "dropout-batchnorm", "wine.ipynb")})
    try:
        config_path.write_text(json.dumps(dict(config, sandbox="bubblewrap")))  # the one layer asked for cannot run
        bwrap = fake_bwrap(tmp_path / "bin", probe_passes=False)
        done, results = run_autograder(autograder, {"PATH": f"{bwrap}{os.pathsep}{autograder['env']['PATH']}"})
    finally:
        config_path.write_text(json.dumps(config))
    assert done.returncode != 0 and results is None
    assert "cannot create a sandbox" in done.stdout and "Traceback" not in done.stdout


def test_a_run_that_outlives_its_budget_shows_what_finished_and_ends_before_the_platform(autograder, tmp_path):
    """results.json is written whole as each notebook is graded: while spotify's answer hangs, the
    file already holds wine's verdicts and says spotify was not judged (what a student would see
    were the platform to kill the run now). At the zip's time budget (its timeout less a margin)
    the run writes the same with the budget's words and ends itself, with every process the
    student's code started, long before the platform's timeout."""
    import signal
    import time

    from grader.commands.gradescope_run import TIME_MARGIN_S

    mark = f"kit-budget-{os.getpid()}-{time.time_ns()}"
    hang = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)', {mark!r}])\n"
            "time.sleep(3600)")
    # wine is the starter (graded in seconds, nothing trained), so the budget can be short
    upload(autograder, {"wine.ipynb": released("exercises", "dropout-batchnorm", "wine.ipynb"),
                        "spotify.ipynb": set_answer(solution_notebook("spotify"), "spotify_q1_model", hang)})
    config_path = autograder["root"] / "source" / "config.json"
    config = json.loads(config_path.read_text())
    timeout_s = TIME_MARGIN_S + 40
    results_file = autograder["root"] / "results" / "results.json"
    try:
        config_path.write_text(json.dumps(dict(config, timeout_s=timeout_s)))
        started = time.monotonic()
        process = subprocess.Popen([str(autograder["root"] / "run_autograder")], env=autograder["env"],
                                   cwd=autograder["root"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        try:
            while not results_file.exists() and process.poll() is None:
                time.sleep(0.5)
            early = json.loads(results_file.read_text()) if results_file.exists() else None
            stdout, _ = process.communicate(timeout=timeout_s * 2)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        wall = time.monotonic() - started
    finally:
        config_path.write_text(json.dumps(config))
    assert early is not None, stdout[-3000:]
    final = json.loads(results_file.read_text())
    with use("en"):
        pending = t("gradescope.pending", notebook="spotify")
        time_up = t("gradescope.time-up", notebook="spotify", minutes=f"{(timeout_s - TIME_MARGIN_S) / 60:.1f}")
    for results, said in ((early, pending), (final, time_up)):
        jsonschema.validate(results, SCHEMA)
        assert results["score"] == 0, results["score"]
        wine = [test for test in results["tests"] if test["tags"][0] == "wine_q1"]
        with use("en"):
            assert wine and all(test["status"] == "failed" and said not in test["output"] for test in wine)
            assert t("model.starter") in wine[0]["output"]  # wine was judged: its own verdict
        spotify = [test for test in results["tests"] if test["tags"][0].startswith("spotify") and "manual" not in test["tags"]]
        assert len(spotify) == 4 and all(test["score"] == 0 and said in test["output"] for test in spotify), spotify
        assert sum(test["max_score"] for test in results["tests"]) == 15
    assert process.returncode == 0 and "time budget" in stdout, stdout[-3000:]
    assert wall < timeout_s, wall  # ended by its own budget, before the platform's timeout
    assert wait_until_gone(mark) == []  # the process the answer started ended with the run


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    yield from plant(tmp_path_factory.mktemp("secrets"))


@pytest.mark.parametrize("where", ["host", pytest.param("container", marks=pytest.mark.skipif(
    confine.landlock_abi() < 1 or not container.available(), reason="no Landlock or no libseccomp here"))])
def test_a_hostile_upload_reads_no_secret_and_cannot_write_its_own_grade(autograder, planted, tmp_path, where):
    """The secret probes of every grading path, and Gradescope's own targets: the results file, the
    autograder's config and scripts, the installed kit. (Under /tmp, a write may land in the
    sandbox's private /tmp and be thrown away: what counts is that the real files are unchanged.)
    In the simulated container run_autograder runs as root under Docker's denials (the Landlock
    layer), and spotify Q3 also leaves a daemon that keeps rewriting results.json with a score of
    999 after the grader has finished: the recorded score stays the kit's."""
    root = autograder["root"]
    kit_file = next((root / "venv").rglob("site-packages/grader/__init__.py"))
    targets = [root / "results" / "results.json", root / "source" / "config.json", root / "run_autograder", kit_file]
    shutil.rmtree(root / "results", ignore_errors=True)  # a results.json left by another test is not a target
    before = {path: path.read_bytes() for path in targets if path.exists()}
    writes = ("import pathlib\n_wrote = []\n"
              f"for _target in {[str(p) for p in targets]!r}:\n"
              "    try:\n"
              "        pathlib.Path(_target).write_text('{\"score\": 100, \"tests\": []}')\n"
              "        _wrote.append(_target)\n"
              "    except OSError:\n"
              "        pass\n"
              "raise RuntimeError('wrote: ' + repr(_wrote))")
    spotify = planted.notebook(tmp_path / "hostile")
    if where == "container":
        reference = next((root / "venv").rglob("site-packages/grader/lesson/reference.json"))
        before[reference] = reference.read_bytes()
        nb = nbformat.read(spotify, as_version=4)
        write(set_answer(nb, "spotify_q3_model", hostile_source(targets + [reference])), spotify.parent, "spotify")
    upload(autograder, {"wine.ipynb": set_answer(solution_notebook("wine"), "wine_q1_model", writes),
                        "spotify.ipynb": nbformat.read(spotify, as_version=4)})
    done, results = run_autograder(autograder, planted.env(), container.command if where == "container" else list)
    assert done.returncode == 0, done.stdout[-3000:]
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == 0
    outputs = "\n".join(test["output"] for test in results["tests"])
    assert "raised RuntimeError with the message “wrote: " in outputs, outputs[-3000:]  # it tried; what it wrote (if anything)
    # was the sandbox's own throwaway copy: the real files are unchanged.
    every_probe_denied(planted, outputs.replace("\\'", "'"))
    if where == "container":
        assert "sandbox: landlock" in done.stdout and results["extra_data"]["sandbox_layer"].startswith("landlock")
        q3 = next(test["output"] for test in results["tests"] if "hostile: " in test["output"])
        recorded = (root / "results" / "results.json").read_bytes()
        hostile_contained(q3.replace("\\'", "'"), {root / "results" / "results.json": recorded})
        assert json.loads(recorded)["score"] == results["score"] == 0
    assert {path: path.read_bytes() for path in before} == before
    assert leaks(planted, [done.stdout, done.stderr], [root / "results"]) == {}
