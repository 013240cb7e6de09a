"""What a student calls in the notebook, for any assignment's coding and free-response
questions: ``checks.q1.check(model)``, ``.hint()``, ``.solution()``.

These give instant feedback while working. They run in the student's kernel, so they only
inform: grades come from the grading command or nbgrader, which re-derive everything.
"""
from __future__ import annotations

import os

from ..base.i18n import t
from ..base.kinds import CodingQuestion, FreeResponse
from .checks import check_architecture, check_val_loss
from .reference import band, load
from .verdict import Verdict

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


OFF_THE_BAND = ("val-loss-above-threshold", "final-val-loss-above-threshold")


def runtime_difference(machine: dict) -> str:
    """How this runtime differs from the one the bands were measured on ("" when it does not):
    a GPU where the calibration had none, or another TensorFlow release. Numerics and
    non-determinism differ there, so a right model may land just past a band."""
    import tensorflow as tf

    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    if on_gpu and not str(machine.get("device", "CPU")).startswith("GPU"):
        return t("val.runtime.gpu")
    calibrated = str(machine.get("tensorflow", ""))
    if calibrated and calibrated.split(".")[:2] != tf.__version__.split(".")[:2]:
        return t("val.runtime.tensorflow", version=tf.__version__, calibrated=calibrated)
    return ""


def as_shown_in_the_notebook(question: CodingQuestion, verdict: Verdict):
    """The val_loss verdict as the notebook's own check shows it: on a runtime unlike the
    calibration's, a val_loss past the band is not called a failure but shown against the band as
    indicative (the grading machine retrains and decides). The grader's verdict never changes."""
    if verdict.passed or verdict.mistake not in OFF_THE_BAND:
        return verdict
    difference = runtime_difference(load(question.band_id).get("machine", {}))
    if not difference:
        return verdict
    reference = band(question.band_id)
    return Markdown("ⓘ " + t("val.indicative", difference=difference, best=f"{verdict.val_loss:.4f}",
                        limit=f"{reference.threshold:.4f}",
                        band=t("val.band", low=f"{reference.low:.4f}", high=f"{reference.high:.4f}")))
