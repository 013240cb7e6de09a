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

from grader.base.resources import REPOSITORY

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up log from the students


def default_submission() -> Path:
    """The notebooks in the current folder if it has them, else a clone's exercises/."""
    from grader.grading.submission import assignments_in

    here = Path.cwd()
    if assignments_in(here) or not (REPOSITORY / "exercises").is_dir():
        return here
    return REPOSITORY / "exercises"


def pytest_addoption(parser):
    group = parser.getgroup("grader", "grading the Dropout and Batch Normalization notebooks")
    group.addoption("--submission", type=Path, default=None,
                    help="folder or notebook to grade (default: the notebooks in the current folder, "
                     "else a clone's exercises/)")
    group.addoption("--assignment", default=None, dest="grader_assignment",
                    help="the key of the one assignment to grade, as `python -m grader --help` lists them "
                         "(default: every one whose notebooks are there)")
    group.addoption("--question", default=None, dest="grader_question", metavar="ID",
                    help="grade one question alone (its notebook only), by its id (a misspelt one lists "
                         "them): what each step of a GitHub Classroom workflow runs")
    group.addoption("--no-cache", action="store_true", dest="grader_no_cache",
                    help="train every model in its notebook (no training cache)")
    group.addoption("--cell-timeout", type=int, default=None, help="seconds per cell (default 300)")
    group.addoption("--report", type=Path, default=Path("reports") / "feedback.html",
                    help="where to write the HTML feedback report (default reports/feedback.html; "
                         "another assignment's gets its name added: feedback-internals.html)")
    group.addoption("--json", type=Path, default=None, dest="grader_json",
                    help="also write a machine-readable report (JSON) here")
    group.addoption("--lang", default=None, dest="grader_lang",
                    help="language of the feedback: en or zh_CN (default: the notebooks' own)")


def pytest_configure(config):
    selected_question(config)  # a misspelt --question stops here, with the list, before any grading


def selected_question(config):
    """The question --question names (None: every question), or a usage error listing them."""
    from grader.assignments import all_assignments

    chosen = config.getoption("grader_question")
    if not chosen:
        return None
    known = {q.id: q for unit in all_assignments() for q in unit.questions}
    if chosen not in known:
        raise pytest.UsageError(f"--question {chosen}: no such question; the kit's are {', '.join(known)}")
    return known[chosen]


def selected_assignments(config) -> list:
    """The assignments this run grades: the one --assignment names (or --question's), else every
    one whose notebooks the submission holds (the lesson when it holds none: grading then says so)."""
    from grader.assignments import by_key, default, of_notebook
    from grader.grading.submission import assignments_in

    question = selected_question(config)
    if question is not None:
        return [of_notebook(question.notebook)]
    chosen = config.getoption("grader_assignment")
    if chosen:
        try:
            return [by_key(chosen)]
        except KeyError as error:
            raise pytest.UsageError(str(error.args[0])) from None
    target = config.getoption("--submission") or default_submission()
    return assignments_in(target) or [default()]


def _named_for(path: Path, unit) -> Path:
    """The lesson's report at the path asked for; another assignment's beside it, named for it."""
    return path.with_name(f"{path.stem}{unit.suffix()}{path.suffix}")


@pytest.fixture(scope="session")
def graded(request):
    """Assignment key -> its SubmissionReport, each graded once per session."""
    from grader.running.harness import DEFAULT_CELL_TIMEOUT, SubmissionError
    from grader.feedback.report import write_html, write_json
    from grader.running.sandbox import GraderUnavailable
    from grader.grading.submission import grade

    config = request.config
    target = config.getoption("--submission") or default_submission()
    capture = config.pluginmanager.getplugin("capturemanager")

    def progress(message: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n  {message}", end="", flush=True)

    reports, paths = {}, []
    for unit in selected_assignments(config):
        try:
            question = selected_question(config)
            report = grade(target, notebooks=[question.notebook] if question else None,
                           cell_timeout=config.getoption("--cell-timeout") or DEFAULT_CELL_TIMEOUT,
                           progress=progress, expect_all=Path(target).is_dir(),
                           cache=None if config.getoption("grader_no_cache") else "default",
                           lang=config.getoption("grader_lang"), assignment=unit.key)
        except SubmissionError as error:
            pytest.fail(str(error), pytrace=False)
        except GraderUnavailable as error:  # the grader's failure, never the student's: stop, grade nothing
            pytest.exit(str(error), returncode=2)
        config._grader_sandbox = report.sandbox
        paths.append(write_html(report, _named_for(config.getoption("--report"), unit)))
        if config.getoption("grader_json"):
            write_json(report, _named_for(config.getoption("grader_json"), unit))
        config._grader_language = report.language
        reports[unit.key] = report
    with capture.global_and_fixture_disabled():
        print()
    config._grader_report_paths = paths
    return reports


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    sandbox = getattr(config, "_grader_sandbox", None)
    if sandbox is not None and not sandbox.active:
        terminalreporter.write_line(sandbox.warning(), yellow=True, bold=True)
    paths = getattr(config, "_grader_report_paths", None)
    if paths:
        from grader.base.i18n import t, use

        with use(getattr(config, "_grader_language", None)):
            for path in paths:
                terminalreporter.write_line(t("pytest.report", path=path))
