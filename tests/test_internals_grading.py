"""The under-the-hood assignment graded outside the student's kernel, end to end: the real
command, pytest grader and batch on real kernels, with Q4 trained on the real concrete data."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from gradebook import scores_of
from grader.i18n import use
from grader.internals.notebook_source import internals_notebook
from grader.internals.questions import ASSIGNMENTS, NOTEBOOK
from grader.lesson.questions import CONCRETE_DEMO
from grader.judging.reference import band
from internals_corpus import BATCHNORM, FUNCTIONS, code_of
from pytest_output import starters_named

pytestmark = pytest.mark.slow

STARTER_Q4 = CONCRETE_DEMO  # Q4 as released: the concrete model without batch normalization

# A later cell that tries to turn the verdicts: it patches the checks in the kernel and rewrites
# every record the probes left in the working folder with a right dropout's numbers, reusing the
# record's own nonce. The grader judges in its own process from the copies it moved away.
TAMPER = """
import json, os
import keras
import grader.internals.checks as _checks
from grader.base import exchange
from grader.judging.verdict import Verdict
for _name in dir(_checks):
    if _name.startswith(('judge_', 'check_')):
        setattr(_checks, _name, lambda *a, **k: Verdict(True, 'patched'))
def _right(x, rate, training, seed_generator):
    if not training:
        return x
    keep = keras.random.uniform(keras.ops.shape(x), seed=seed_generator) >= rate
    return keras.ops.where(keep, x / (1 - rate), keras.ops.zeros_like(x))
for _folder, _, _files in os.walk('.'):
    if 'record.json' in _files:
        _nonce = json.load(open(os.path.join(_folder, 'record.json'))).get('nonce')
        exchange.save(_folder, dict(_checks.observe_dropout_function(_right), nonce=_nonce))
        print('rewrote', _folder)
"""


def run(args, cwd, timeout=1500):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def questions(report: dict) -> dict:
    return {q["id"]: q for nb in report["notebooks"] for q in nb["questions"]}


def submission(folder, answers: dict, after: dict | None = None, lang: str = "en"):
    """The solution notebook with some answer cells replaced and code cells added after others."""
    with use(lang):
        nb = internals_notebook()
    for cell in list(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
        if gid in (after or {}):
            nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell(after[gid]))
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
    return folder


def test_the_chinese_solution_gets_full_marks_from_the_command_in_chinese(root, tmp_path):
    result = run(["-m", "grader", str(root / "solutions" / ASSIGNMENTS["zh_CN"]), "--json", str(tmp_path / "r.json"),
                  "--html", str(tmp_path / "r.html"), "--quiet"], cwd=root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["assignment"], report["language"]) == (ASSIGNMENTS["zh_CN"], "zh_CN")
    assert (report["points"], report["max_points"]) == (10, 10)
    q4 = questions(report)["internals_q4"]
    reference = band("spotify_q3")  # the same model with Keras' own layers
    assert reference.low - 1.0 < q4["val_loss"] <= reference.threshold, q4
    page = (tmp_path / "r.html").read_text()
    assert "与 Keras 的层对比" in page and "<img" in page  # the check's part, and Q4's learning curves


def test_mistakes_are_named_and_a_tampering_cell_changes_nothing(root, tmp_path):
    """Dropout not inverted (Q1, and so Q2 which calls it), statistics over axis 0 (Q3), Q4 left
    as released; a later cell patches the checks and rewrites the probes' records."""
    folder = submission(tmp_path / "mistakes", {
        "internals_q1_answer": code_of(FUNCTIONS, "dropout not inverted"),
        "internals_q3_answer": code_of(BATCHNORM, "batchnorm statistics over axis 0 only"),
        "internals_q4_model": STARTER_Q4,
    }, after={"internals_q3_check": TAMPER})
    result = run(["-m", "grader", str(folder), "--json", str(tmp_path / "r.json")], cwd=root)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    found = questions(json.loads((tmp_path / "r.json").read_text()))
    assert found["internals_q1"]["parts"]["check"]["mistake"] == "dropout-not-inverted"
    assert found["internals_q2"]["parts"]["check"]["mistake"] == "dropout-not-inverted"
    assert "fix Q1 and this passes too" in found["internals_q2"]["message"]  # the fix is in Q1's answer
    q3 = found["internals_q3"]
    assert q3["parts"]["check"]["mistake"] == "bn-fails-on-3d"  # raised on the 3-D batch alone
    assert "(16, 4, 3)" in q3["message"] and "axes = list(range(len(inputs.shape) - 1))" in q3["message"]
    assert "\x1b" not in q3["message"] and "Arguments received" not in q3["message"]
    from readable import messages_of, problems_in

    unreadable = [(m, problems_in(m)) for m in messages_of(json.loads((tmp_path / "r.json").read_text()))
                  if problems_in(m)]
    assert not unreadable, unreadable
    trace = q3["parts"]["check"]["traceback"]  # the whole of it, for the instructor, without colour codes
    assert "moving_mean.assign" in trace and "Traceback" in trace and "\x1b" not in trace
    assert found["internals_q4"]["parts"]["architecture"]["not_attempted"] is True
    assert [found[q]["points"] for q in ("internals_q1", "internals_q2", "internals_q3", "internals_q4")] == [0, 0, 0, 0]


def test_pytest_grader_grades_both_releases_in_a_folder_and_says_not_attempted(root, tmp_path):
    """exercises/ holds the lesson's and the internals' starters: one test per question of each,
    every internals answer 'still the starter', a feedback page per assignment."""
    result = run(["-m", "pytest", "grader", "--submission", str(root / "exercises"), "--report",
                  str(tmp_path / "feedback.html"), "-p", "no:cacheprovider", "-q"], cwd=root)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "7 failed, 3 skipped" in result.stdout, result.stdout[-3000:]
    assert starters_named(result.stdout) == {"inverted_dropout", "MyDropout", "MyBatchNormalization"}
    assert "still the starter model" in result.stdout
    assert (tmp_path / "feedback.html").exists() and (tmp_path / "feedback-internals.html").exists()
    only = run(["-m", "pytest", "grader", "--submission", str(root / "exercises"), "--assignment", "internals",
                "--report", str(tmp_path / "only.html"), "-p", "no:cacheprovider", "-q"], cwd=root)
    assert "4 failed" in only.stdout and "wine" not in only.stdout, only.stdout[-3000:]


def test_batch_grades_the_internals_of_a_class_into_the_gradebook(root, tmp_path):
    """ada wrote Q1-Q3 and left Q4 as released (nothing to train: Q4's training is the Chinese
    solution's test above), bo handed the Chinese release in untouched."""
    from grader.assignments import by_key
    from grader.commands.batch import run_batch
    from grader.feedback.overview import results_folder

    course = tmp_path / "course"
    submission(course / "submitted" / "ada" / ASSIGNMENTS["en"], {"internals_q4_model": STARTER_Q4})
    shutil.copytree(root / "exercises" / ASSIGNMENTS["zh_CN"], course / "submitted" / "bo" / ASSIGNMENTS["zh_CN"])
    summary = run_batch(course, workers=1, threads=2, progress=False, assignment="internals")
    assert (summary["graded"], summary["failed"]) == (2, 2), summary
    recorded = {p.stem: json.loads(p.read_text()) for p in (course / results_folder(by_key("internals"))).glob("*.json")}
    assert (recorded["ada"]["points"], recorded["bo"]["points"]) == (7, 0)
    ada = scores_of(course, ASSIGNMENTS["en"])
    assert {cell: auto for (_, _, cell), (auto, _, _) in ada.items()} == {
        "internals_q1_test": 2, "internals_q2_test": 1, "internals_q3_test": 4,
        "internals_q4_architecture": 0, "internals_q4_val_loss": 0}
    assert all(auto == 0 for (auto, _, _) in scores_of(course, ASSIGNMENTS["zh_CN"]).values())
    assert (course / "feedback" / "bo" / ASSIGNMENTS["zh_CN"] / "kit-feedback.html").read_text().count("起始") >= 3
    overview = json.loads((course / "kit-overview-internals.json").read_text())  # the class page, this assignment's
    assert overview["assignment"] == ASSIGNMENTS["en"] and overview["not_attempted"] == ["bo"]
    assert [(q["passed"], q["students"]) for q in overview["questions"].values()] == [(1, 2)] * 3 + [(0, 2)]
    assert (course / "kit-overview-internals.html").exists() and not (course / "kit-overview.html").exists()


def test_keras_inside_an_endless_loop_and_a_killed_kernel_each_fail_only_their_question(root, tmp_path):
    """One submission: Q1's dropout never returns at training (its probe is stopped, and Q2's,
    which calls it); Q3 wraps Keras' own layer (refused from the cell's text, read by the grader);
    Q4's answer kills the kernel (restarted: the rest is graded)."""
    folder = submission(tmp_path / "hostile", {
        "internals_q1_answer": "def inverted_dropout(x, rate, training, seed_generator):\n"
                               "    while training:\n        pass\n    return x\n",
        "internals_q3_answer": code_of(BATCHNORM, "batchnorm wraps keras"),
        "internals_q4_model": "import os\nos._exit(3)"})
    result = run(["-m", "grader", str(folder), "--json", str(tmp_path / "r.json"), "--timeout", "10", "--quiet"],
                 cwd=root)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    found = questions(json.loads((tmp_path / "r.json").read_text()))
    for q in ("internals_q1", "internals_q2"):
        assert "ran longer than the time limit" in found[q]["message"], found[q]["message"]
    assert found["internals_q3"]["parts"]["check"]["mistake"] == "uses-keras-layer"
    assert "kernel died" in found["internals_q4"]["message"] and "internals_q4_model" in found["internals_q4"]["message"]


def test_a_notebook_of_the_other_assignment_is_told_what_was_expected(root):
    """`python -m grader wine.ipynb --assignment internals` (no kernel starts): the message names
    the assignment asked for and its notebook."""
    from grader.assignments import by_key
    from grader.running.harness import SubmissionError
    from grader.grading.submission import find_notebooks

    with pytest.raises(SubmissionError) as refused:
        find_notebooks(root / "solutions" / "dropout-batchnorm" / "wine.ipynb", by_key("internals"))
    assert "not a notebook of the dropout-batchnorm-internals assignment" in str(refused.value)
    assert "Submit internals.ipynb" in str(refused.value)
