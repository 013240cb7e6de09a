"""The tests that ``pytest grader`` runs: one per question of the assignment. Their names are the
questions' stable English titles; what they say is in the language of the graded notebooks."""
import pytest

from grader.i18n import t, use
from grader.questions import QUESTIONS


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.title for q in QUESTIONS])
def test_question(question, graded):
    with use(graded.language):
        result = next((r for r in graded.results if r.question is question), None)
        if result is None:
            pytest.skip(t("pytest.not-submitted", notebook=question.notebook))
        if result.manual:
            pytest.skip(t("summary.free-response", title=question.heading))
        if not result.passed:
            pytest.fail(t("pytest.points", points=result.points, max=result.max_points) + "\n" + result.message,
                        pytrace=False)
