"""The checks themselves: architecture (no training) and validation loss (from calibration).

These functions are the single source of truth. The notebook's check cells, nbgrader's test
cells and the grading command all call them; only where they run differs.
"""
from __future__ import annotations

import math

from .matcher import NotAModel, align, compare, fold_activations, read_layers
from .mistakes import name_mistakes
from .questions import CodingQuestion
from .reference import band
from .verdict import DETAIL, Verdict

# The last val_loss of a genuine history equals the loss of the final weights (same forward pass).
HISTORY_TOLERANCE = 1e-4


def check_architecture(question: CodingQuestion, model) -> Verdict:
    try:
        written = read_layers(model)
    except NotAModel as problem:
        return Verdict(False, str(problem), not_attempted=model is None)
    inputs = _input_features(model)
    if inputs is not None and inputs != question.expected.input_dim:
        return Verdict(False, f"The model expects {inputs} input features, but the data has "
                              f"{question.expected.input_dim}: use keras.Input(shape=input_shape).")
    found = fold_activations(written)
    differences = compare(question.expected, found, starter=question.starter)
    rows = align(question.expected, found)
    if not differences:
        return Verdict(True, f"the model has the expected {len(found)} layers in the right order.", rows)
    starter = differences[0].position == 0
    mistakes = [] if starter else name_mistakes(question.expected, written, found)
    message = differences[0].message
    if len(found) != len(question.expected.layers) and differences[0].position != 0:
        message += f" (Your model has {len(found)} layers; {len(question.expected.layers)} are expected.)"
    if len(differences) > 1:
        message += f" ({len(differences) - 1} more difference{'s' if len(differences) > 2 else ''} in the table below.)"
    if mistakes:
        message = " ".join(m.sentence for m in mistakes) + DETAIL + message
    mistake = "starter-model" if starter else (mistakes[0].id if mistakes else first_difference(rows))
    return Verdict(False, message, rows, not_attempted=starter, mistake=mistake)


def first_difference(rows) -> str:
    """A mistake with no name is known by its first differing row (for grouping a class); a
    look-alike layer (GaussianDropout for Dropout) by that layer."""
    row = next((r for r in rows if r.status == "replaced" and r.note.endswith("not the lesson's layer")),
               None) or next(r for r in rows if not r.equal)
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
    if question.id == "spotify_q3":
        return ("Training diverged (the loss became NaN or infinite). With plain SGD on unstandardized "
                "inputs the activations blow up: put a BatchNormalization layer before each Dense layer.")
    return ("Training diverged (the loss became NaN or infinite). Check that the layers are the ones "
            "asked for and that the training cell was not changed.")


def check_val_loss(question: CodingQuestion, val_loss: float | None, history: dict | None = None) -> Verdict:
    """Judge a trained model: ``val_loss`` is the loss of its final weights, recomputed by the
    caller from the model; ``history`` is the training record (loss and val_loss per epoch)."""
    reference = band(question.id)
    limit = reference.threshold
    if val_loss is None:
        return Verdict(False, "The model was not trained: run the training cell.", threshold=limit,
                       not_attempted=True)
    history = history or {}
    losses, val_losses = history.get("loss") or [], history.get("val_loss") or []
    if not math.isfinite(val_loss) or any(not math.isfinite(v) for v in losses + val_losses):
        return Verdict(False, divergence_message(question), val_loss=val_loss, threshold=limit)
    if not val_losses:
        return Verdict(False, "No training history was found: run the training cell as given "
                              "(it assigns `history = model.fit(...)`).", val_loss=val_loss, threshold=limit)
    if abs(val_losses[-1] - val_loss) > HISTORY_TOLERANCE * max(1.0, abs(val_loss)):
        return Verdict(False, f"The training history says the last val_loss was {val_losses[-1]:.4f}, but the "
                              f"trained weights give {val_loss:.4f}: the history or the model was changed after "
                              "training. Run the notebook again from the top without editing them.",
                       val_loss=val_loss, threshold=limit)
    if len(losses) >= 2 and losses[-1] >= losses[0]:
        return Verdict(False, "The training loss never fell: the model did not learn. " + reference.advice,
                       val_loss=val_loss, threshold=limit)
    best = min(val_losses)
    band_text = f"the solution reaches {reference.low:.4f}-{reference.high:.4f}"
    if best > limit:
        return Verdict(False, f"The lowest val_loss was {best:.4f}, above the threshold {limit:.4f} "
                              f"({band_text}). {reference.advice}", val_loss=best, threshold=limit)
    if val_loss > reference.final_threshold:
        return Verdict(False, f"The final weights give val_loss {val_loss:.4f}, above the threshold "
                              f"{reference.final_threshold:.4f} for the end of training (the solution ends at "
                              f"{reference.final_low:.4f}-{reference.final_high:.4f}). {reference.advice}",
                       val_loss=best, threshold=limit)
    return Verdict(True, f"lowest val_loss {best:.4f} is under the threshold {limit:.4f} ({band_text}).",
                   val_loss=best, threshold=limit)
