"""nbgrader's test cells of the internals notebook: an AssertionError carrying the student's
message fails the cell, a clean return passes it. Under nbgrader autograde the message ends with
the verdict's tag, as for the lesson (grader/autograde.py), so the class overview built from the
gradebook names the mistakes and who did not attempt."""
from __future__ import annotations

from ..judging.validation import record_architecture
from ..judging.verdict import require, said
from .notebook import verdict
from .questions import BY_KEY


def assert_answer(key: str, answer) -> None:
    result = verdict(BY_KEY[key], answer)
    require(result.passed, said(result))
    print(said(result))


def assert_swap_in_architecture(model) -> None:
    from ..judging.checks import check_architecture
    from .questions import SWAP_IN

    result = check_architecture(SWAP_IN, model)
    record_architecture(model, result.passed)
    require(result.passed, said(result))
    print(said(result))


def assert_swap_in_val_loss(model, history) -> None:
    from ..judging.checks import check_architecture
    from ..base.i18n import t
    from .notebook import val_loss_verdict
    from .questions import SWAP_IN

    require(check_architecture(SWAP_IN, model).passed, t("autograde.architecture-first"))
    result = val_loss_verdict(model, history)
    require(result.passed, said(result))
    print(said(result))
