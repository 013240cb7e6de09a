"""The checks themselves: architecture (no training) and validation loss (from calibration).

These functions are the single source of truth. The notebook's check cells, nbgrader's test
cells and the grading command all call them; only where they run differs.
"""
from __future__ import annotations

import math

from ..base.i18n import t
from .matcher import NotAModel, align, compare, fold_activations, read_layers
from .mistakes import name_mistakes
from ..base.kinds import CodingQuestion
from .reference import band
from .verdict import Verdict

# The last val_loss of a genuine history equals the loss of the final weights (same forward pass).
HISTORY_TOLERANCE = 1e-4


def check_architecture(question: CodingQuestion, model) -> Verdict:
    try:
        written = read_layers(model)
    except NotAModel as problem:
        return Verdict(False, str(problem), not_attempted=model is None)
    inputs = _input_features(model)
    if inputs is not None and inputs != question.expected.input_dim:
        return Verdict(False, t("model.inputs", inputs=inputs, expected=question.expected.input_dim))
    found = fold_activations(written)
    differences = compare(question.expected, found, starter=question.starter)
    rows = align(question.expected, found)
    if not differences:
        return Verdict(True, t("check.architecture-right", count=len(found)), rows)
    starter = differences[0].position == 0
    mistakes = [] if starter else name_mistakes(question.expected, written, found)
    message = differences[0].message
    if len(found) != len(question.expected.layers) and differences[0].position != 0:
        message = t("check.append", text=message,
                    more=t("check.layer-count", found=len(found), expected=len(question.expected.layers)))
    if len(differences) > 1:
        message = t("check.append", text=message, more=t(
            "check.more-differences" if len(differences) > 2 else "check.one-more-difference",
            count=len(differences) - 1))
    if mistakes:  # the first difference could contradict the named mistake: the table says the rest
        named = mistakes[0].sentence
        for mistake in mistakes[1:]:
            named = t("check.append", text=named, more=mistake.sentence)
        message = named + "\n" + t("check.detail-table")
    mistake = "starter-model" if starter else (mistakes[0].id if mistakes else first_difference(rows, found))
    return Verdict(False, message, rows, not_attempted=starter, mistake=mistake)


def first_difference(rows, found) -> str:
    """A mistake with no name is known by its first differing row (for grouping a class); a
    look-alike layer (GaussianDropout for Dropout) by that layer. Code words only: the id is the
    same in every language."""
    lookalike = next((layer for layer in found if layer.lookalike_of), None)
    if lookalike is not None:
        row = next(r for r in rows if r.found_position is not None and found[r.found_position - 1] is lookalike)
        return f"{row.found} instead of {row.expected}" if row.expected else f"extra {row.found}"
    row = next(r for r in rows if not r.equal)
    if row.status == "missing":
        return f"missing {row.expected}"
    if row.status == "extra":
        return f"extra {row.found}"
    return f"{row.found} instead of {row.expected}"


def _input_features(model) -> int | None:
    """The last dimension of the model's input, when the model knows it."""
    try:
        shape = model.inputs[0].shape
        return int(shape[-1]) if shape[-1] is not None else None
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


def divergence_message(question: CodingQuestion) -> str:
    return t(question.diverged)


def check_val_loss(question: CodingQuestion, val_loss: float | None, history: dict | None = None) -> Verdict:
    """Judge a trained model: ``val_loss`` is the loss of its final weights, recomputed by the
    caller from the model; ``history`` is the training record (loss and val_loss per epoch)."""
    reference = band(question.band_id)
    limit = reference.threshold
    if val_loss is None:
        return Verdict(False, t("val.not-trained"), threshold=limit, not_attempted=True)
    history = history or {}
    losses, val_losses = history.get("loss") or [], history.get("val_loss") or []
    if not math.isfinite(val_loss) or any(not math.isfinite(v) for v in losses + val_losses):
        return Verdict(False, divergence_message(question), val_loss=val_loss, threshold=limit, mistake="diverged")
    if not val_losses:
        return Verdict(False, t("val.no-history"), val_loss=val_loss, threshold=limit)
    if abs(val_losses[-1] - val_loss) > HISTORY_TOLERANCE * max(1.0, abs(val_loss)):
        return Verdict(False, t("val.history-mismatch", history=f"{val_losses[-1]:.4f}", weights=f"{val_loss:.4f}"),
                       val_loss=val_loss, threshold=limit, mistake="history-changed")
    advice = t(f"advice.{question.band_id}")
    if len(losses) >= 2 and losses[-1] >= losses[0]:
        return Verdict(False, t("val.never-fell", advice=advice), val_loss=val_loss, threshold=limit,
                       mistake="did-not-learn")
    best = min(val_losses)
    band_text = t("val.band", low=f"{reference.low:.4f}", high=f"{reference.high:.4f}")
    if best > limit:
        return Verdict(False, t("val.above", best=f"{best:.4f}", limit=f"{limit:.4f}", band=band_text, advice=advice),
                       val_loss=best, threshold=limit, mistake="val-loss-above-threshold")
    if val_loss > reference.final_threshold:
        return Verdict(False, t("val.final-above", value=f"{val_loss:.4f}", limit=f"{reference.final_threshold:.4f}",
                                low=f"{reference.final_low:.4f}", high=f"{reference.final_high:.4f}", advice=advice),
                       val_loss=best, threshold=limit, mistake="final-val-loss-above-threshold")
    return Verdict(True, t("val.passed", best=f"{best:.4f}", limit=f"{limit:.4f}", band=band_text),
                   val_loss=best, threshold=limit)
