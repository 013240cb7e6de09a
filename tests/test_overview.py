"""The class overview from the kit's own results: reports built by the real checks (no training:
val_loss verdicts from given figures), written as `python -m grader batch` writes them."""
import csv
import json

import pytest

from answer_corpus import CORPUS
from grader.judging.checks import check_architecture, check_val_loss
from grader.grading.results import QuestionResult
from grader.feedback.overview import CSV_NAME, HTML_NAME, JSON_NAME, records_from_kit_grades, write_overview
from grader.lesson.questions import BY_ID, QUESTIONS
from grader.judging.reference import band
from grader.grading.submission import NotebookResult, SubmissionReport, failed_results
from test_architecture import build


def _answer(name):
    entry = next(c for c in CORPUS if c[0] == name)
    return BY_ID[entry[1]], entry[2]


def _coding_result(question, code, val_loss):
    result = QuestionResult(question)
    architecture = check_architecture(question, build(question, code))
    result.parts["architecture"] = (architecture, question.points_architecture)
    if architecture.passed:
        history = {"loss": [2 * val_loss, val_loss], "val_loss": [2 * val_loss, val_loss]}
        result.parts["val_loss"] = (check_val_loss(question, val_loss, history), question.points_val_loss)
    else:
        from grader.judging.verdict import Verdict

        result.parts["val_loss"] = (Verdict(False, "Not graded until the architecture is right."),
                                    question.points_val_loss)
    return result


def _spotify(q1, q3, q2_answer="Yes: the gap between the curves shrank.", q4_answer=""):
    results = [_coding_result(BY_ID["spotify_q1"], *q1),
               QuestionResult(BY_ID["spotify_q2"], manual=True, answer=q2_answer),
               _coding_result(BY_ID["spotify_q3"], *q3),
               QuestionResult(BY_ID["spotify_q4"], manual=True, answer=q4_answer)]
    return NotebookResult("spotify", "spotify.ipynb", results)


@pytest.fixture
def course(tmp_path):
    good_q1 = (_answer("spotify both dropout 0.3")[1], band("spotify_q1").low)
    good_q3 = (_answer("concrete BN before each dense")[1], band("spotify_q3").low)
    reports = {
        "alice": [_spotify(good_q1, good_q3, q4_answer="It stopped the divergence.")],
        "bob": [_spotify((_answer("spotify starter unchanged")[1], 0.0), (_answer("concrete starter unchanged")[1], 0.0),
                         q2_answer="### BEGIN SOLUTION\nYOUR ANSWER HERE\n### END SOLUTION")],
        "carol": [_spotify((_answer("spotify dropout before dense")[1], 0.0), good_q3)],
        "dan": [_spotify((_answer("spotify dropout before dense")[1].replace("Dropout(0.3)", "Dropout(0.3 )"), 0.0),
                         (_answer("concrete BN after each hidden dense")[1], 0.0))],
        "dave": [NotebookResult("spotify", "spotify.ipynb", failed_results("spotify", "spotify.ipynb is not valid JSON"),
                                error="spotify.ipynb is not valid JSON")],
        "eve": [_spotify(good_q1, (good_q3[0], 1e3 * band("spotify_q3").threshold))],
    }
    folder = tmp_path / "kit-grades"
    folder.mkdir()
    for student, notebooks in reports.items():
        missing = NotebookResult("wine", None, failed_results("wine", "wine.ipynb is missing from the submission."),
                                 error="wine.ipynb is missing from the submission.", missing=True)
        result = SubmissionReport(f"submitted/{student}", notebooks=[missing, *notebooks]).to_dict()
        result["student"] = student
        from grader.feedback.report import json_safe

        (folder / f"{student}.json").write_text(json.dumps(json_safe(result)))
    return tmp_path


def test_overview_counts_groups_and_lists_the_class(course):
    summary = write_overview(records_from_kit_grades(course / "kit-grades"), course)
    assert summary["students"] == 6 and summary["graded"] == 5
    assert summary["ungradeable"] == ["dave"] and "not valid JSON" in summary["problems"]["dave"][0]
    assert summary["not_attempted"] == ["bob"]
    assert summary["scores"]["alice"] == 10 and summary["scores"]["eve"] == 8 and summary["scores"]["bob"] == 0
    q1 = summary["questions"]["spotify_q1"]
    assert (q1["passed"], q1["students"], q1["attempted"]) == (2, 5, 4)
    top = q1["mistakes"][0]
    assert top["students"] == ["carol", "dan"] and top["mistake"] == "dropout-before-dense"
    assert top["title"] == "Dropout before the Dense layers instead of after"
    q3 = summary["questions"]["spotify_q3"]
    assert [(m["mistake"], m["students"]) for m in q3["mistakes"]] == [
        ("batchnormalization-after-dense", ["dan"]), ("val-loss-above-threshold", ["eve"])]
    assert set(q3["val_losses"]) == {"alice", "carol", "eve"}
    answers = {a["student"]: a["answer"] for a in summary["questions"]["spotify_q4"]["answers"]}
    assert answers == {"alice": "It stopped the divergence."}
    assert "bob" in summary["questions"]["spotify_q2"]["unanswered"]
    assert summary["missing_notebooks"]["alice"] == ["wine"]


def test_overview_files_agree_with_each_other(course):
    write_overview(records_from_kit_grades(course / "kit-grades"), course)
    page = (course / HTML_NAME).read_text()
    data = json.loads((course / JSON_NAME).read_text())
    with open(course / CSV_NAME) as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["dave"]["status"] == "not graded" and rows["bob"]["status"] == "not attempted"
    assert float(rows["eve"]["spotify_q3_val_loss"]) > band("spotify_q3").threshold
    assert rows["carol"]["spotify_q1_mistake"] == data["questions"]["spotify_q1"]["mistakes"][0]["mistake"]
    assert "2 of 5 (40%)" in page and "Dropout before the Dense layers instead of after" in page
    assert "It stopped the divergence." in page and page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page  # works offline: nothing fetched
    for question in QUESTIONS:
        if question.notebook == "spotify":
            assert question.title in page


def _raised(question_id: str, ename: str, evalue: str):
    """A question whose answer cell raised, graded as the grader grades it (grade_coding on the
    kernel's record of that cell's error)."""
    from grader.grading.results import grade_coding
    from grader.running.harness import CellProblem, NotebookRun

    run = NotebookRun("spotify", problems=[CellProblem(f"{question_id}_model", 5, "error", ename, evalue)])
    return grade_coding(BY_ID[question_id], run)


def _write_class(folder, reports: dict):
    from grader.feedback.report import json_safe

    folder.mkdir()
    for student, results in reports.items():
        report = SubmissionReport(f"submitted/{student}", notebooks=[NotebookResult("spotify", "spotify.ipynb", results)])
        (folder / f"{student}.json").write_text(json.dumps(json_safe(dict(report.to_dict(), student=student))))


def test_a_raised_answer_is_a_group_of_its_own_and_an_empty_section_says_none(tmp_path):
    """zoe's and yuri's answer cells raised NameError, xena's ValueError (a Keras message with
    colour codes); wes left the starter. Each raised answer is grouped by its exception, in words;
    a class with no mistake at all says "none" under the heading."""
    from grader.i18n import t

    starter = _coding_result(BY_ID["spotify_q3"], _answer("concrete starter unchanged")[1], 0.0)
    keras_error = ("Exception encountered when calling Dense.call().\n\n\x1b[1mInvalid dtype: str\x1b[0m\n\n"
                   "Arguments received by Dense.call():\n  • inputs='x'")
    _write_class(tmp_path / "kit-grades", {
        "zoe": [_raised("spotify_q1", "NameError", "name 'laye' is not defined"), starter],
        "yuri": [_raised("spotify_q1", "NameError", "name 'layer' is not defined"), starter],
        "xena": [_raised("spotify_q1", "ValueError", keras_error), starter],
        "wes": [_coding_result(BY_ID["spotify_q1"], _answer("spotify starter unchanged")[1], 0.0), starter],
    })
    summary = write_overview(records_from_kit_grades(tmp_path / "kit-grades"), tmp_path)
    groups = [(m["title"], m["students"]) for m in summary["questions"]["spotify_q1"]["mistakes"]]
    assert groups == [("The answer cell raised NameError", ["yuri", "zoe"]),
                      ("The answer cell raised ValueError", ["xena"])]
    assert summary["questions"]["spotify_q3"]["mistakes"] == []  # the starter is "not attempted", no mistake
    report = json.loads((tmp_path / "kit-grades" / "xena.json").read_text())
    message = report["notebooks"][0]["questions"][0]["message"]
    assert "Invalid dtype: str" in message and "\x1b" not in message and "Arguments received" not in message

    _write_class(tmp_path / "starters", {"wes": [starter]})
    page_folder = tmp_path / "starters-overview"
    page_folder.mkdir()
    write_overview(records_from_kit_grades(tmp_path / "starters"), page_folder)
    page = (page_folder / HTML_NAME).read_text()
    mistakes = page.split(f"<h2>{t('overview.mistakes')}</h2>")[1].split("<h2>")[0]
    assert t("overview.none") in mistakes
