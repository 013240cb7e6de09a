"""``pytest grader``: the students' self-check. One test per question, named as in the notebook.

The notebooks are executed once per session (a fresh kernel each); the tests then read the
verdicts, so a failure shows the grader's feedback rather than a traceback of the kit.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up log from the students

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SUBMISSION = ROOT / "exercises"


def pytest_addoption(parser):
    group = parser.getgroup("grader", "grading the Dropout and Batch Normalization notebooks")
    group.addoption("--submission", type=Path, default=None,
                    help="folder or notebook to grade (default: exercises/, your own notebooks)")
    group.addoption("--cell-timeout", type=int, default=None, help="seconds per cell (default 300)")
    group.addoption("--report", type=Path, default=ROOT / "reports" / "feedback.html",
                    help="where to write the HTML feedback report (default reports/feedback.html)")
    group.addoption("--json", type=Path, default=None, dest="grader_json",
                    help="also write a machine-readable report (JSON) here")


@pytest.fixture(scope="session")
def graded(request):
    from grader.harness import DEFAULT_CELL_TIMEOUT, SubmissionError
    from grader.report import write_html, write_json
    from grader.submission import grade

    target = request.config.getoption("--submission") or DEFAULT_SUBMISSION
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def progress(message: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n  {message}", end="", flush=True)

    try:
        report = grade(target, cell_timeout=request.config.getoption("--cell-timeout") or DEFAULT_CELL_TIMEOUT,
                       progress=progress, expect_all=Path(target).is_dir())
    except SubmissionError as error:
        pytest.fail(str(error), pytrace=False)
    with capture.global_and_fixture_disabled():
        print()
    path = write_html(report, request.config.getoption("--report"))
    if request.config.getoption("grader_json"):
        write_json(report, request.config.getoption("grader_json"))
    request.config._grader_report_path = path
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = getattr(config, "_grader_report_path", None)
    if path:
        terminalreporter.write_line(f"Feedback report with learning curves: {path}")
