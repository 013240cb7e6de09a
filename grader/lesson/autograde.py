"""nbgrader's test cells call these: an AssertionError carrying the student's message fails
the cell, a clean return passes it. Nothing here writes to stderr (nbgrader zeroes such cells).

Under ``nbgrader autograde`` (this kit's configuration sets ``DROPOUT_KIT_AUTOGRADE`` in its
kernels) each message ends with the verdict's tag (``[kit: mistake=... val_loss=...]``): code
words that are the same in every language, from which ``python -m grader overview`` reads the
class's mistakes and val_loss figures out of the autograded notebooks. Students never see it:
not in their own runs, and the feedback step (nbgrader_feedback.py) removes it.
"""
from __future__ import annotations

from ..base.i18n import t
from ..base.training import evaluate
from ..judging.checks import check_architecture, check_val_loss
from ..judging.validation import record_architecture
from ..judging.verdict import require, said
from .questions import BY_ID


def assert_architecture(question_id: str, model) -> None:
    verdict = check_architecture(BY_ID[question_id], model)
    record_architecture(model, verdict.passed)
    require(verdict.passed, said(verdict))
    print(said(verdict))


def assert_val_loss(question_id: str, model, history=None) -> None:
    question = BY_ID[question_id]
    architecture = check_architecture(question, model)
    require(architecture.passed, t("autograde.architecture-first"))
    curves = getattr(history, "history", history) or {}
    verdict = check_val_loss(question, evaluate(model, question.protocol), curves)
    require(verdict.passed, said(verdict))
    print(said(verdict))
