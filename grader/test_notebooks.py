"""The tests that ``pytest grader`` runs: one per question of the assignment."""
import pytest

from grader.questions import QUESTIONS


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.title for q in QUESTIONS])
def test_question(question, graded):
    result = next((r for r in graded.results if r.question is question), None)
    if result is None:
        pytest.skip(f"{question.notebook}.ipynb was not part of this submission")
    if result.manual:
        pytest.skip(f"{question.title}: free response, to be read by the instructor")
    if not result.passed:
        pytest.fail(f"{result.points}/{result.max_points} points\n{result.message}", pytrace=False)
