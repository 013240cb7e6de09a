"""Under ``nbgrader validate`` (the student's Validate button) a model trains only once its
architecture check has passed: a starter or a wrong model cannot earn its val_loss points, so
Validate says what to change in seconds instead of training it first. Grading never does this:
the kit's configuration sets VALIDATE_ENV only in the kernels of ``nbgrader validate``."""
from __future__ import annotations

import os

from ..base.i18n import t
from .verdict import CheckFailed

VALIDATE_ENV = "DROPOUT_KIT_VALIDATE"
_APPROVED = "_kit_architecture_passed"


class NotTrained(CheckFailed):
    """A training cell skipped while validating (shown as its message alone)."""


def validating() -> bool:
    return bool(os.environ.get(VALIDATE_ENV))


def record_architecture(model, passed: bool) -> None:
    """Remember on the model whether its architecture check passed; guard training from then on."""
    if not validating():
        return
    try:
        setattr(model, _APPROVED, bool(passed))
    except Exception:  # noqa: BLE001 - not a Keras model: its check already failed
        pass
    _guard_training()


def _guard_training() -> None:
    import keras

    fit = keras.Model.fit
    if getattr(fit, "_kit_guard", False):
        return

    def guarded(self, *args, **kwargs):
        if not getattr(self, _APPROVED, False):
            raise NotTrained(t("validate.not-trained"))
        return fit(self, *args, **kwargs)

    guarded._kit_guard = True
    keras.Model.fit = guarded
