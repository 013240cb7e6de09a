"""The tests that ``pytest grader`` runs: one per question of each graded assignment. Their names
are the questions' stable English titles; what they say is in the language of the graded notebooks."""
import pytest

from grader.base.i18n import t, use
from grader.commands.pytest_plugin import selected_assignments, selected_question


def pytest_generate_tests(metafunc):
    if "question" in metafunc.fixturenames:
        one = selected_question(metafunc.config)
        questions = [(unit.key, q) for unit in selected_assignments(metafunc.config) for q in unit.questions
                     if one is None or q is one]
        metafunc.parametrize("assignment, question", questions, ids=[q.title for _, q in questions])


def test_question(assignment, question, graded):
    report = graded[assignment]
    with use(report.language):
        result = next((r for r in report.results if r.question is question), None)
        if result is None:
            pytest.skip(t("pytest.not-submitted", notebook=question.notebook))
        if result.manual:
            pytest.skip(t("summary.free-response", title=question.heading))
        if not result.passed:
            pytest.fail(t("pytest.points", points=result.points, max=result.max_points) + "\n" + result.message,
                        pytrace=False)
