"""End to end, really executed: real kernels, real training on the real data, the real commands."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from grader.i18n import t
from grader.lesson.questions import CODING, QUESTIONS
from grader.judging.reference import band
from grader.running.training_cache import CACHE_ENV
from submissions import (SPOTIFY_STARTER_Q3, add_cell_after, set_answer, solution_notebook, write)

pytestmark = pytest.mark.slow


def run(args, cwd, timeout=1500, env=None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else dict(os.environ, **env))


def questions(report: dict) -> dict:
    return {q["id"]: q for nb in report["notebooks"] for q in nb["questions"]}


@pytest.fixture(scope="session")
def solutions_by_pytest_grader(tmp_path_factory, root, solutions):
    """`pytest grader` on the solution notebooks, through the suite's training cache: it starts
    empty at each run (tests/cache_guard.py) and only the kit's trainer writes it, so every model
    was trained here, in this run, by the trainer (by this grading, or by an earlier one of the
    solutions: the suite trains them once)."""
    out = tmp_path_factory.mktemp("pytest-grader")
    result = run(["-m", "pytest", "grader", "--submission", str(solutions), "--json", str(out / "report.json"),
                  "--report", str(out / "feedback.html"), "-p", "no:cacheprovider", "-rs"], cwd=root)
    return result, json.loads((out / "report.json").read_text()), out


def test_solutions_pass_every_question_of_pytest_grader(solutions_by_pytest_grader):
    result, report, _ = solutions_by_pytest_grader
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    coding, free = len(CODING), len(QUESTIONS) - len(CODING)
    assert f"{coding} passed, {free} skipped" in result.stdout
    for question in QUESTIONS:
        if question not in CODING:  # -rs lists each skipped free response by its title
            assert f"{question.title}: free response, to be read by the instructor" in result.stdout
    assert report["passed"] and report["points"] == report["max_points"] > 0


def test_solutions_retrained_here_stay_inside_the_calibrated_band(solutions_by_pytest_grader):
    """The reference still holds on this machine: seed 0 of every model, trained in this run by the
    kit's trainer (the report says the training was stored now or reused from the suite's cache,
    which holds only this run's trainings)."""
    assert os.environ.get(CACHE_ENV), "the suite's own training cache is set for every test"
    _, report, _ = solutions_by_pytest_grader
    for question_id, entry in questions(report).items():
        if entry["manual"]:
            continue
        assert entry["training"] in (t("training.stored"), t("training.reused")), (question_id, entry)
        reference = band(question_id)
        assert entry["val_loss"] <= reference.threshold, (question_id, entry["val_loss"], reference)
        assert entry["val_loss"] >= reference.low - (reference.threshold - reference.high), (question_id, entry)


def test_feedback_report_has_learning_curves(solutions_by_pytest_grader):
    _, _, out = solutions_by_pytest_grader
    page = (out / "feedback.html").read_text()
    assert page.count("data:image/png;base64,") == len(CODING)
    assert "to be read by the instructor" in page and "Score: 15 / 15" in page


def test_grading_twice_gives_identical_numbers(solutions_by_pytest_grader, root, solutions, tmp_path):
    """The command on the same spotify notebook, trained again in the notebook (no cache), against
    the first grading's training by the kit's trainer (in this run, through the suite's cache):
    same verdicts, same val_loss to the bit."""
    _, first, _ = solutions_by_pytest_grader
    result = run(["-m", "grader", str(solutions / "spotify.ipynb"), "--json", str(tmp_path / "again.json"), "--quiet",
                  "--no-cache"], cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    again = questions(json.loads((tmp_path / "again.json").read_text()))
    for question_id in ("spotify_q1", "spotify_q3"):
        assert not again[question_id]["training_reused"] and again[question_id]["training"] is None
        assert again[question_id]["val_loss"] == questions(first)[question_id]["val_loss"]
        assert again[question_id]["message"] == questions(first)[question_id]["message"]


def test_shipped_exercises_fail_every_coding_question(root, exercises, tmp_path):
    result = run(["-m", "grader", str(exercises), "--json", str(tmp_path / "r.json"), "--quiet"], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    for entry in questions(report).values():
        if entry["manual"]:
            continue
        assert entry["passed"] is False and entry["points"] == 0
        assert "still the starter model" in entry["message"]
    assert "FAIL" in result.stdout and "Score: 0/15" in result.stdout


def test_one_wrong_answer_fails_exactly_that_question(root, tmp_path):
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model",
                    "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(128, activation='relu'),"
                    " layers.Dropout(0.7), layers.Dense(64, activation='relu'), layers.Dropout(0.7), layers.Dense(1)])")
    # ... and an edited locked cell: the training cell of Q3 cut to one epoch. It runs as released.
    set_answer(nb, "spotify_q3_train", "model.compile(optimizer='sgd', loss='mae')\n"
               "history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), epochs=1)")
    path = write(nb, tmp_path / "submission", "spotify")
    result = run(["-m", "grader", str(path), "--json", str(tmp_path / "r.json"), "--quiet"], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    report = questions(json.loads((tmp_path / "r.json").read_text()))
    assert report["spotify_q1"]["passed"] is False
    assert "rate=0.7 is not the question's rate=0.3" in report["spotify_q1"]["message"]
    assert report["spotify_q3"]["passed"] is True and report["spotify_q3"]["points"] == 5


def test_errors_and_timeouts_stay_in_their_question(root, tmp_path):
    """Q1's answer never ends, Q3's raises: each fails with its own message, nothing crashes."""
    nb = solution_notebook("spotify")
    set_answer(nb, "spotify_q1_model", "import time\ntime.sleep(10**6)")
    set_answer(nb, "spotify_q3_model", SPOTIFY_STARTER_Q3.replace("layers.Dense(1)", "layer.Dense(1)"))
    path = write(nb, tmp_path / "submission", "spotify")
    result = run(["-m", "grader", str(path), "--json", str(tmp_path / "r.json"), "--timeout", "20"], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    report = questions(json.loads((tmp_path / "r.json").read_text()))
    assert "your answer cell of spotify Q1 (spotify_q1_model) ran longer than the time limit" in report["spotify_q1"]["message"]
    assert "raised NameError with the message “name 'layer' is not defined”" in report["spotify_q3"]["message"]
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize("cache", ["--no-cache", "cache"])
def test_tampering_inside_the_notebook_cannot_change_a_verdict(root, tmp_path, cache):
    """The notebook patches the kit's checks and keras.Model.fit, and plants fake export files.
    Without the cache the patched fit does not train and Q3's val_loss fails; with it, the kit's
    trainer trains and Q3 gets exactly the verdict of an honest training of its (right) model."""
    tamper = """
import json, os, keras
import grader.judging.checks, grader.lesson.autograde, grader.lesson.notebook
from grader.judging.verdict import Verdict
grader.judging.checks.check_architecture = lambda *a, **k: Verdict(True, 'patched')
grader.judging.checks.check_val_loss = lambda *a, **k: Verdict(True, 'patched')
class FakeHistory:
    history = {'loss': [0.01] * 100, 'val_loss': [0.001] * 100}
keras.Model.fit = lambda self, *a, **k: FakeHistory()
for q in ('spotify_q1', 'spotify_q3'):
    os.makedirs(f'.kit-exports/{q}', exist_ok=True)
    json.dump({'nonce': 'guess', 'model': 'saved', 'history': True}, open(f'.kit-exports/{q}/status.json', 'w'))
"""
    nb = add_cell_after(solution_notebook("spotify"), "spotify_setup", tamper)
    starter_q1 = ("model = keras.Sequential([keras.Input(shape=input_shape), "
                  "layers.Dense(128, activation='relu'), layers.Dense(64, activation='relu'), layers.Dense(1)])")
    set_answer(nb, "spotify_q1_model", starter_q1)
    path = write(nb, tmp_path / "submission", "spotify")
    options = ["--no-cache"] if cache == "--no-cache" else ["--cache-dir", str(tmp_path / "cache")]
    result = run(["-m", "grader", str(path), "--json", str(tmp_path / "r.json"), "--quiet", *options], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    report = questions(json.loads((tmp_path / "r.json").read_text()))
    assert "still the starter model" in report["spotify_q1"]["message"]
    q3 = report["spotify_q3"]
    assert q3["parts"]["architecture"]["passed"] is True
    if cache == "--no-cache":
        assert q3["parts"]["val_loss"]["passed"] is False
        assert "the history or the model was changed" in q3["message"]
    else:
        twin = set_answer(solution_notebook("spotify"), "spotify_q1_model", starter_q1)  # the same, untampered
        honest = run(["-m", "grader", str(write(twin, tmp_path / "honest", "spotify")),
                      "--json", str(tmp_path / "honest.json"), "--quiet", "--no-cache"], cwd=root)  # trained fresh
        assert honest.returncode == 1, honest.stdout + honest.stderr
        assert q3["val_loss"] == questions(json.loads((tmp_path / "honest.json").read_text()))["spotify_q3"]["val_loss"]
        assert q3["parts"]["val_loss"]["passed"] is True and q3["training"].startswith("trained once by the kit")
