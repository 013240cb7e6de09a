"""``pytest grader`` (in a clone) or ``pytest --pyargs grader`` (anywhere the kit is installed):
the students' self-check. One test per question, named as in the notebook.

Registered as a pytest plugin (entry point ``pytest11``), so that its options exist however the kit
was installed. The notebooks are executed once per session (a fresh kernel each); the tests then
read the verdicts, so a failure shows the grader's feedback rather than a traceback of the kit.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.resources import REPOSITORY

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up log from the students


def default_submission() -> Path:
    """The notebooks in the current folder if it has them, else a clone's exercises/."""
    here = Path.cwd()
    if any((here / f"{name}.ipynb").exists() for name in ("wine", "spotify")) or not (REPOSITORY / "exercises").is_dir():
        return here
    return REPOSITORY / "exercises"


def pytest_addoption(parser):
    group = parser.getgroup("grader", "grading the Dropout and Batch Normalization notebooks")
    group.addoption("--submission", type=Path, default=None,
                    help="folder or notebook to grade (default: the notebooks in the current folder, "
                     "else a clone's exercises/)")
    group.addoption("--no-cache", action="store_true", dest="grader_no_cache",
                    help="train every model in its notebook (no training cache)")
    group.addoption("--cell-timeout", type=int, default=None, help="seconds per cell (default 300)")
    group.addoption("--report", type=Path, default=Path("reports") / "feedback.html",
                    help="where to write the HTML feedback report (default reports/feedback.html)")
    group.addoption("--json", type=Path, default=None, dest="grader_json",
                    help="also write a machine-readable report (JSON) here")
    group.addoption("--lang", default=None, dest="grader_lang",
                    help="language of the feedback: en or zh_CN (default: the notebooks' own)")


@pytest.fixture(scope="session")
def graded(request):
    from grader.harness import DEFAULT_CELL_TIMEOUT, SubmissionError
    from grader.report import write_html, write_json
    from grader.sandbox import GraderUnavailable
    from grader.submission import grade

    target = request.config.getoption("--submission") or default_submission()
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def progress(message: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n  {message}", end="", flush=True)

    try:
        report = grade(target, cell_timeout=request.config.getoption("--cell-timeout") or DEFAULT_CELL_TIMEOUT,
                       progress=progress, expect_all=Path(target).is_dir(),
                       cache=None if request.config.getoption("grader_no_cache") else "default",
                       lang=request.config.getoption("grader_lang"))
    except SubmissionError as error:
        pytest.fail(str(error), pytrace=False)
    except GraderUnavailable as error:  # the grader's failure, never the student's: stop, grade nothing
        pytest.exit(str(error), returncode=2)
    request.config._grader_sandbox = report.sandbox
    with capture.global_and_fixture_disabled():
        print()
    path = write_html(report, request.config.getoption("--report"))
    if request.config.getoption("grader_json"):
        write_json(report, request.config.getoption("grader_json"))
    request.config._grader_report_path = path
    request.config._grader_language = report.language
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    sandbox = getattr(config, "_grader_sandbox", None)
    if sandbox is not None and not sandbox.active:
        terminalreporter.write_line(sandbox.warning(), yellow=True, bold=True)
    path = getattr(config, "_grader_report_path", None)
    if path:
        from grader.i18n import t, use

        with use(getattr(config, "_grader_language", None)):
            terminalreporter.write_line(t("pytest.report", path=path))
