"""What a student calls in the internals notebook: ``checks.q1.check(inverted_dropout)``,
``.hint()``, ``.solution()``: instant feedback from the same checks that grade."""
from __future__ import annotations

import os

from ..base.i18n import t
from ..judging.notebook_checks import HIDE_SOLUTIONS_ENV, Markdown, as_shown_in_the_notebook, show
from ..judging.notebook_checks import QuestionCheck as CodingQuestionCheck
from . import checks as judge
from .checks import STUB
from .questions import QUESTIONS, SWAP_IN, Question, solution_code


class QuestionCheck:
    def __init__(self, question: Question):
        self.question = question

    def check(self, answer=None) -> None:
        """Compare the answer with Keras' own layer and say what to change."""
        show(verdict(self.question, answer))

    def hint(self) -> None:
        show(Markdown(t("notebook.hint", hint=t(f"internals.hint.{self.question.key}"))))

    def solution(self) -> None:
        if os.environ.get(HIDE_SOLUTIONS_ENV):
            show(Markdown(t("notebook.solutions-off")))
            return
        show(Markdown(t("notebook.solution") + f"\n```python\n{solution_code(self.question)}\n```"))




def verdict(question: Question, answer):
    """The check's verdict; an answer that fails while its cell still holds the release's
    ``# YOUR CODE HERE`` (or is missing) is reported as not attempted."""
    from ..judging.verdict import Verdict

    not_attempted = Verdict(False, t("internals.not-attempted", name=question.name), not_attempted=True,
                            mistake="not-attempted")
    if answer is None:
        return not_attempted
    try:
        result = getattr(judge, question.check)(answer)
    except NotImplementedError:
        return not_attempted
    if not result.passed and _still_starter(answer):
        return not_attempted
    return result


def _still_starter(answer) -> bool:
    import inspect

    parts = [answer] if not isinstance(answer, type) else [
        member for member in vars(answer).values() if inspect.isfunction(member)]
    for part in parts:
        try:
            if STUB in inspect.getsource(part):
                return True
        except (OSError, TypeError):
            continue
    return False


class SwapInCheck(CodingQuestionCheck):
    """Q4: the architecture with the student's layers (as any coding question), then the val_loss
    of the trained model against the band of the same model with Keras' own layers (spotify Q3 of
    the first assignment)."""

    def check_training(self, history=None, model=None) -> None:
        try:
            show(as_shown_in_the_notebook(SWAP_IN, val_loss_verdict(model, history)))
        except Exception as problem:  # noqa: BLE001 - feedback must never break the notebook
            show(Markdown(t("notebook.val-check-unavailable", problem=problem)))


def val_loss_verdict(model, history):
    from ..judging.checks import check_val_loss
    from ..base.training import evaluate

    curves = getattr(history, "history", history) or {}
    value = evaluate(model, SWAP_IN.protocol) if model is not None else None
    return check_val_loss(SWAP_IN, value, curves)


q1, q2, q3 = (QuestionCheck(q) for q in QUESTIONS)
q4 = SwapInCheck(SWAP_IN)
