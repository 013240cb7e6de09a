"""Compare a built Keras model against a ``ModelSpec``: one matcher for every question.

The result is a list of ``Difference`` objects, each with the 1-based layer position and a
sentence a student can act on. An empty list means the architecture is right.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..base.i18n import t
from ..base.spec import Layer, ModelSpec

# Layers that look like the lesson's layers but are not them: each gets its own message.
LOOKALIKES = {
    "GaussianDropout": "Dropout",
    "AlphaDropout": "Dropout",
    "GaussianNoise": "Dropout",
    "SpatialDropout1D": "Dropout",
    "SpatialDropout2D": "Dropout",
    "SpatialDropout3D": "Dropout",
    "LayerNormalization": "BatchNormalization",
    "GroupNormalization": "BatchNormalization",
    "UnitNormalization": "BatchNormalization",
    "Normalization": "BatchNormalization",
}


class NotAModel(Exception):
    """The answer is not something the matcher can read as a Keras model."""


@dataclass(frozen=True)
class Difference:
    position: int  # 1-based position in the expected model (0 = the model as a whole)
    message: str


def _activation_name(activation) -> str:
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation
    import keras

    name = keras.activations.serialize(activation)
    if isinstance(name, dict):
        name = name.get("config", {}).get("name") or name.get("class_name", "?")
    return str(name)


def describe(layer) -> Layer:
    """The ``Layer`` description of one Keras layer, found by class (isinstance)."""
    from keras import layers as kl

    name = type(layer).__name__
    if getattr(type(layer), "_kit_stand_in", False):  # a student's own layer (grader/stand_ins.py)
        return Layer(name)
    if name in LOOKALIKES:
        return Layer(name, lookalike_of=LOOKALIKES[name])
    if isinstance(layer, kl.Dense):
        return Layer("Dense", units=int(layer.units), activation=_activation_name(layer.activation))
    if isinstance(layer, kl.Dropout):
        return Layer("Dropout", rate=float(layer.rate))
    if isinstance(layer, kl.BatchNormalization):
        return Layer("BatchNormalization")
    if isinstance(layer, kl.Activation):
        return Layer("Activation", activation=_activation_name(layer.activation))
    activation = _activation_layer_name(layer)
    if activation is not None:
        return Layer("Activation", activation=activation)
    return Layer(name)


def _activation_layer_name(layer) -> str | None:
    """The activation that an activation layer (ReLU, LeakyReLU, ELU, Softmax, PReLU) computes,
    named as ``Dense(activation=...)`` would name it when the two are the same function."""
    from keras import layers as kl

    config = layer.get_config()
    if isinstance(layer, kl.ReLU):
        cap, slope, threshold = config.get("max_value"), config.get("negative_slope", 0), config.get("threshold", 0)
        if not slope and not threshold:
            if cap is None:
                return "relu"
            if float(cap) == 6.0:
                return "relu6"
        return f"relu(max_value={cap}, negative_slope={slope:g}, threshold={threshold:g})"
    if isinstance(layer, kl.LeakyReLU):
        slope = float(config.get("negative_slope", 0.3))
        return "leaky_relu" if slope == 0.2 else f"leaky_relu(negative_slope={slope:g})"
    if isinstance(layer, kl.ELU):
        alpha = float(config.get("alpha", 1.0))
        return "elu" if alpha == 1.0 else f"elu(alpha={alpha:g})"
    if isinstance(layer, kl.Softmax):
        return "softmax"
    if isinstance(layer, kl.PReLU):
        return "prelu (a learned slope)"
    return None


def flatten(model) -> list:
    """The model's layers in order, nested Sequential/Model blocks opened, InputLayer dropped."""
    import keras

    result = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            result.extend(flatten(layer))
        else:
            result.append(layer)
    return result


def fold_activations(found: list[Layer]) -> list[Layer]:
    """Dense(n) followed by an activation layer (Activation(f), ReLU(), ...) is the same model as
    Dense(n, activation=f)."""
    folded: list[Layer] = []
    for layer in found:
        if (
            layer.kind == "Activation" and folded and folded[-1].kind == "Dense"
            and folded[-1].activation == "linear"
        ):
            folded[-1] = Layer("Dense", units=folded[-1].units, activation=layer.activation)
        elif layer.kind == "Activation" and layer.activation == "linear":
            continue
        else:
            folded.append(layer)
    return folded


def read_model(model) -> list[Layer]:
    """Describe a student's model layer by layer, or raise NotAModel with the reason."""
    return fold_activations(read_layers(model))


def read_layers(model) -> list[Layer]:
    """The model's layers as written (activation layers not folded), or raise NotAModel."""
    import keras

    if model is None:
        raise NotAModel(t("model.none"))
    if not isinstance(model, keras.Model):
        raise NotAModel(t("model.not-keras", type=type(model).__name__))
    if not isinstance(model, keras.Sequential):
        _require_chain(model)
    return [describe(layer) for layer in flatten(model)]


def _require_chain(model) -> None:
    for layer in model.layers:
        if len(getattr(layer, "_inbound_nodes", [])) > 1 or _input_count(layer) > 1:
            raise NotAModel(t("model.branches", layer=layer.name))


def _input_count(layer) -> int:
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return 0
    return len(getattr(nodes[0], "input_tensors", []) or [])


def same(expected: Layer, found: Layer) -> bool:
    if expected.kind != found.kind:
        return False
    if expected.kind == "Dense":
        return expected.units == found.units and expected.activation == found.activation
    if expected.kind == "Dropout":
        return abs(expected.rate - found.rate) < 1e-9
    return True


def _parameter_message(position: int, expected: Layer, found: Layer) -> str:
    if expected.kind == "Dense" and expected.units != found.units:
        return t("layer.units", position=position, expected=expected, units=found.units, expected_units=expected.units)
    if expected.kind == "Dense":
        if expected.activation == "linear":
            return t("layer.linear-output", position=position, expected=expected, activation=found.activation)
        if found.activation == "linear":
            return t("layer.no-activation", position=position, expected=expected, activation=expected.activation)
        return t("layer.activation", position=position, expected=expected, activation=found.activation)
    return t("layer.rate", position=position, expected=expected, found=found, rate=f"{expected.rate:g}")


def _context(expected: list[Layer], index: int) -> str:
    """'after Dense(64)' or 'before Dense(512)': where the expected layer sits."""
    if expected[index].kind == "Dropout" and index > 0:
        return t("where.after", layer=expected[index - 1].short)
    if expected[index].kind == "BatchNormalization" and index + 1 < len(expected):
        return t("where.before", layer=expected[index + 1].short)
    if index > 0:
        return t("where.after", layer=expected[index - 1].short)
    return t("where.first")


def compare(spec: ModelSpec, found: list[Layer], starter: ModelSpec | None = None) -> list[Difference]:
    """Every difference between the expected layers and the found ones, first one first."""
    expected = list(spec.layers)
    if starter is not None and len(found) == len(starter.layers) and all(
        same(e, f) for e, f in zip(starter.layers, found)
    ):
        return [Difference(0, t("model.starter"))]
    differences: list[Difference] = []
    for index, layer in enumerate(found):
        if layer.lookalike_of:
            differences.append(Difference(
                index + 1, t("layer.lookalike", position=index + 1, kind=layer.kind, lesson=layer.lookalike_of)))
    if differences:
        return differences
    i = j = 0
    while i < len(expected) or j < len(found):
        if i < len(expected) and j < len(found) and same(expected[i], found[j]):
            i += 1
            j += 1
            continue
        position = i + 1
        left_e, left_f = len(expected) - i, len(found) - j
        if left_f < left_e and (j >= len(found) or same(expected[i + 1], found[j])):
            found_text = t("found.layer", layer=found[j]) if j < len(found) else t("found.end")
            differences.append(Difference(position, t(
                "layer.missing", position=position, expected=expected[i], where=_context(expected, i),
                found=found_text, short=expected[i].short)))
            i += 1
            continue
        if left_f > left_e and (i >= len(expected) or same(expected[i], found[j + 1])):
            differences.append(Difference(j + 1, t(
                "layer.extra-instead", position=j + 1, found=found[j], expected=expected[i])
                if i < len(expected) else t("layer.extra", position=j + 1, found=found[j])))
            j += 1
            continue
        if (
            left_f == left_e and left_e >= 2
            and same(expected[i], found[j + 1]) and same(expected[i + 1], found[j])
        ):
            moved = expected[i] if expected[i].kind in ("Dropout", "BatchNormalization") else expected[i + 1]
            anchor = expected[i + 1] if moved is expected[i] else expected[i]
            where = t("where.before" if moved is expected[i] else "where.after", layer=anchor.short)
            differences.append(Difference(position, t(
                "layer.order", position=position, next=position + 1, moved=moved.short, where=where)))
            i += 2
            j += 2
            continue
        if i >= len(expected):
            differences.append(Difference(j + 1, t("layer.extra", position=j + 1, found=found[j])))
            j += 1
            continue
        if j >= len(found):
            differences.append(Difference(position, t(
                "layer.missing", position=position, expected=expected[i], where=_context(expected, i),
                found=t("found.end"), short=expected[i].short)))
            i += 1
            continue
        if expected[i].kind == found[j].kind:
            differences.append(Difference(position, _parameter_message(position, expected[i], found[j])))
        else:
            differences.append(Difference(position, t(
                "layer.different", position=position, expected=expected[i], where=_context(expected, i),
                found=found[j])))
        i += 1
        j += 1
    return differences


# Alignment costs: a changed parameter is the cheapest edit; a missing or extra Dense layer
# costs more than a missing or extra Dropout/BatchNormalization, so that among equally short
# alignments the one that keeps the Dense layers (the model's skeleton) on common rows wins; a
# different kind of layer in one place costs as much as one missing plus one extra layer.
_CHANGED, _GAP, _DENSE_GAP, _REPLACED = 1, 2, 3, 4


def _gap(layer: Layer) -> int:
    return _DENSE_GAP if layer.kind == "Dense" else _GAP


@dataclass(frozen=True)
class Row:
    """One row of the expected-vs-found table, aligned the way a diff aligns two sequences."""

    status: str  # "same", "changed", "replaced", "missing", "extra"
    expected_position: int | None
    expected: str
    found_position: int | None
    found: str
    note: str = ""

    @property
    def equal(self) -> bool:
        return self.status == "same"

    def to_dict(self) -> dict:
        return {"status": self.status, "expected_position": self.expected_position, "expected": self.expected,
                "found_position": self.found_position, "found": self.found, "note": self.note}


def _change_note(expected: Layer, found: Layer) -> str:
    if expected.kind == "Dense":
        notes = []
        if expected.units != found.units:
            notes.append(t("note.units", found=found.units, expected=expected.units))
        if expected.activation != found.activation:
            notes.append(t("note.activation", found=found.activation, expected=expected.activation))
        return t("note.separator").join(notes)
    if expected.kind == "Dropout":
        return t("note.rate", found=f"{found.rate:g}", expected=f"{expected.rate:g}")
    return ""


def _substitution(expected: Layer, found: Layer) -> tuple[int, str]:
    if same(expected, found):
        return 0, "same"
    if expected.kind == found.kind:
        return _CHANGED, "changed"
    return _REPLACED, "replaced"


def align(spec: ModelSpec, found: list[Layer]) -> list[Row]:
    """The two layer sequences aligned with the fewest edits (Needleman-Wunsch), so that one
    missing layer shows as one empty cell instead of shifting every row after it."""
    expected = list(spec.layers)
    n, m = len(expected), len(found)
    # cost[i][j]: fewest edits to align expected[i:] with found[j:]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            options = []
            if i < n and j < m:
                options.append(_substitution(expected[i], found[j])[0] + cost[i + 1][j + 1])
            if i < n:
                options.append(_gap(expected[i]) + cost[i + 1][j])
            if j < m:
                options.append(_gap(found[j]) + cost[i][j + 1])
            cost[i][j] = min(options)
    rows, i, j = [], 0, 0
    while i < n or j < m:
        if i < n and j < m:
            step, status = _substitution(expected[i], found[j])
            if step + cost[i + 1][j + 1] == cost[i][j]:
                note = _change_note(expected[i], found[j]) if status == "changed" else (
                    t("note.lookalike", kind=found[j].kind) if found[j].lookalike_of else "")
                rows.append(Row(status, i + 1, str(expected[i]), j + 1, str(found[j]), note))
                i, j = i + 1, j + 1
                continue
        if i < n and (j == m or _gap(expected[i]) + cost[i + 1][j] == cost[i][j]):
            rows.append(Row("missing", i + 1, str(expected[i]), None, ""))
            i += 1
        else:
            rows.append(Row("extra", None, "", j + 1, str(found[j])))
            j += 1
    return rows
