"""The lesson's notebooks call these: ``from grader import wine as checks``, then
``checks.q1.check(model)`` (judging/notebook_checks.py says what each call does)."""
from __future__ import annotations

from ..base.kinds import CodingQuestion
from ..judging.notebook_checks import FreeResponseCheck, QuestionCheck
from .questions import questions_of


class NotebookChecks:
    """``wine`` or ``spotify``: one attribute per question (q1, q2, ...)."""

    def __init__(self, notebook: str):
        for question in questions_of(notebook):
            wrapper = QuestionCheck if isinstance(question, CodingQuestion) else FreeResponseCheck
            setattr(self, question.key, wrapper(question))


wine = NotebookChecks("wine")
spotify = NotebookChecks("spotify")
