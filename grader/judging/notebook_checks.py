"""What a student calls in the notebook, for any assignment's coding and free-response
questions: ``checks.q1.check(model)``, ``.hint()``, ``.solution()``.

These give instant feedback while working. They run in the student's kernel, so they only
inform: grades come from the grading command or nbgrader, which re-derive everything.
"""
from __future__ import annotations

import os

from ..base.i18n import t
from ..base.kinds import CodingQuestion, FreeResponse
from .checks import as_shown_in_the_notebook, check_architecture, check_val_loss

HIDE_SOLUTIONS_ENV = "DROPOUT_KIT_HIDE_SOLUTIONS"


def show(item) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(item)
            return
    except ImportError:
        pass
    print(item)


class Markdown:
    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


class QuestionCheck:
    def __init__(self, question: CodingQuestion):
        self.question = question

    def check(self, model=None) -> None:
        """Compare ``model`` with the expected architecture and show what to change."""
        show(check_architecture(self.question, model))

    def check_training(self, history=None, model=None) -> None:
        """Show how the trained model's validation loss compares with the reference solutions."""
        val_loss = None
        curves = getattr(history, "history", history) or {}
        if model is not None:
            from ..base.training import evaluate

            val_loss = evaluate(model, self.question.protocol)
        elif curves.get("val_loss"):
            val_loss = float(curves["val_loss"][-1])
        try:
            show(as_shown_in_the_notebook(self.question, check_val_loss(self.question, val_loss, curves)))
        except Exception as problem:  # noqa: BLE001 - feedback must never break the notebook
            show(Markdown(t("notebook.val-check-unavailable", problem=problem)))

    def hint(self) -> None:
        show(Markdown(t("notebook.hint", hint=self.question.hint)))

    def solution(self) -> None:
        if os.environ.get(HIDE_SOLUTIONS_ENV):
            show(Markdown(t("notebook.solutions-off")))
            return
        show(Markdown(t("notebook.solution") + f"\n```python\n{self.question.solution_code}\n```"))

    def __repr__(self) -> str:
        return "<" + t("notebook.repr.coding", title=self.question.heading) + ">"


class FreeResponseCheck:
    def __init__(self, question: FreeResponse):
        self.question = question

    def check(self, *_args) -> None:
        show(Markdown(t("notebook.free-response")))

    def __repr__(self) -> str:
        return "<" + t("notebook.repr.free", title=self.question.heading) + ">"
