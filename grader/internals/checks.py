"""The under-the-hood checks: a student's inverted dropout and batch normalization, compared with
Keras' own layers on the same inputs and the same initial values.

Each check returns a ``Verdict`` whose ``mistake`` is a stable id; the classic mistakes are
recognised by running the student's code on inputs that separate them from the right answer
(a column with a tiny variance separates ``epsilon`` inside and outside the square root, a
batch of 64 the biased and the unbiased variance, ...).

Tolerances come from ``largest_differences`` run on the corpus (tests/internals_corpus.py,
tests/test_internals_checks.py measures them again): the right implementations, written with
``ops.moments``, ``ops.mean``/``ops.var``, ``rsqrt`` or ``mean(x*x) - mean(x)**2`` (which loses
float32 digits on the 1e3-scale concrete columns), differ from Keras by at most 1.7e-4 in
outputs and moving statistics and 3.7e-4 in gradients (relative); the closest wrong one by 0.057
(the unbiased variance) and 2.9 (a stop_gradient on the mean). ``TOLERANCE`` = 1e-3 and
``GRADIENT_TOLERANCE`` = 1e-2 sit between, with a margin of 6x and 27x on the right side and
57x and 290x on the wrong side.
"""
from __future__ import annotations

import ast
import inspect
import math
import textwrap

import numpy as np

from ..base.i18n import t
from ..judging.verdict import Verdict

STUB = "# YOUR CODE HERE"  # what the starter's answer cells hold

RATE = 0.3
# P(a right dropout's fraction of zeros leaves the bound) < 1e-6: |z| > 4.892 for a normal
# approximation of Binomial(n, rate), with n = 100 000 units (the normal approximation's error
# is far below that probability's scale at this n).
Z_ONE_IN_A_MILLION = 4.892
DROPOUT_SHAPE = (200, 500)
# Largest relative difference allowed from Keras' BatchNormalization (outputs, moving statistics,
# gradients), measured by grader/internals/calibrate.py: see the module docstring.
TOLERANCE = 1e-3
GRADIENT_TOLERANCE = 1e-2
MOMENTUM, EPSILON = 0.9, 1e-3
TRAINING_STEPS = 5
FORBIDDEN = {"dropout": ("Dropout", "dropout", "AlphaDropout", "GaussianDropout", "SpatialDropout1D"),
             "batchnorm": ("BatchNormalization", "batch_normalization", "normalize", "Normalization",
                           "LayerNormalization")}


# ----------------------------------------------------------------------------- helpers

def _numpy(value) -> np.ndarray:
    from keras import ops

    return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)


def _uses_forbidden(obj, names) -> str | None:
    """The name of a Keras dropout or normalization used by the student's code, if any: the
    point is to build them, not to call them. A class is read method by method (a class made
    in a notebook cell has no source file of its own; its methods do)."""
    parts = [obj] if not isinstance(obj, type) else [
        member for member in vars(obj).values() if inspect.isfunction(member)]
    for part in parts:
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(part)))
        except (OSError, TypeError, SyntaxError):
            continue
        name = _forbidden_name(tree, names)
        if name:
            return name
    return None


def _keras_sublayer(layer, kinds) -> str | None:
    """A Keras layer of a forbidden kind hidden inside the student's layer (made at run time)."""
    import keras

    classes = tuple(getattr(keras.layers, kind) for kind in kinds if hasattr(keras.layers, kind))
    for inner in layer._flatten_layers(include_self=False):
        if isinstance(inner, classes):
            return type(inner).__name__
    return None


def _fail(key: str, mistake: str, **values) -> Verdict:
    return Verdict(False, t(key, **values), mistake=mistake)


def failure(key: str, mistake: str, **values) -> dict:
    """An observation that ends in a failure, as data (it crosses from the kernel to the grader):
    the message id, the mistake id and the message's values."""
    return {"failure": {"key": key, "mistake": mistake, "values": {k: str(v) for k, v in values.items()}}}


def raised(error: BaseException, doing: str, shape=None, key: str = "internals.raised", mistake: str = "raised",
           **values) -> dict:
    """A failure for an exception from the student's code: its type and first line for the
    student, what the check was doing (``doing``: a message id) and on which shape, and the whole
    traceback, without colour codes, for the instructor's report."""
    import traceback

    from ..base.student_errors import described, plain

    if key == "internals.raised" and shape is not None:
        key = "internals.raised.on-shape"
    record = failure(key, mistake, error=described(type(error).__name__, str(error)), doing=doing,
                     shape=tuple(shape) if shape is not None else "", **values)
    record["failure"]["traceback"] = plain("".join(traceback.format_exception(error)))[-4000:]
    return record


def failed(observation: dict) -> Verdict:
    found = observation["failure"]
    values = {str(k): str(v) for k, v in found["values"].items()}
    if "doing" in values:  # a message id, told in the grader's language
        values["doing"] = t(values["doing"])
    verdict = _fail(str(found["key"]), str(found["mistake"]), **values)
    verdict.trace = str(found.get("traceback") or "") or None
    return verdict


def forbidden_in_source(source: str, names) -> str | None:
    """``_uses_forbidden`` for the grader, which has the answer cell's text and not its objects."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    return _forbidden_name(tree, names)


def _forbidden_name(tree, names) -> str | None:
    for node in ast.walk(tree):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
        if name in names:
            return name
    return None


def _close(a, b, tolerance: float = TOLERANCE) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tolerance * np.maximum(1.0, np.abs(b))))


def zero_fraction_bound(rate: float = RATE, units: int = DROPOUT_SHAPE[0] * DROPOUT_SHAPE[1]) -> float:
    """Half-width of the band that a right dropout's fraction of zeros leaves with P < 1e-6."""
    return Z_ONE_IN_A_MILLION * math.sqrt(rate * (1 - rate) / units)


# ----------------------------------------------------------------------------- dropout

def _dropout_inputs(seed: int = 0) -> np.ndarray:
    # Strictly positive values: a dropped unit is exactly 0, a kept one is never 0.
    return np.random.default_rng(seed).uniform(1.0, 2.0, size=DROPOUT_SHAPE).astype("float32")


def observe_dropout(run) -> dict:
    """Kernel side: ``run(x, training)`` applies the student's dropout (function or layer) to the
    check's inputs; what it returned, as arrays, for ``judge_dropout``."""
    x = _dropout_inputs()
    outputs = []
    try:
        for training in (False, True, True):
            outputs.append(run(x, training))
        if any(output is None for output in outputs):
            return failure("internals.returns-none", "returns-none")
        inference, first, second = (_numpy(output) for output in outputs)
    except Exception as error:  # noqa: BLE001 - the student's code: say what it raised
        return raised(error, "internals.doing.training" if outputs else "internals.doing.inference", x.shape)
    for output in (inference, first, second):
        if output.shape != x.shape:
            return failure("internals.shape", "shape", found=tuple(output.shape), expected=tuple(x.shape))
    return {"inference": inference, "first": first, "second": second}


def judge_dropout(observation: dict, rate: float = RATE) -> Verdict:
    """Grader side: the verdict on ``observe_dropout``'s record (numbers only, no student code)."""
    if "failure" in observation:
        return failed(observation)
    x = _dropout_inputs()
    inference, first, second = (np.asarray(observation[k], dtype=np.float64) for k in ("inference", "first", "second"))
    if inference.shape != x.shape or first.shape != x.shape or second.shape != x.shape:
        return _fail("internals.shape", "shape", found=inference.shape if inference.shape != x.shape else first.shape,
                     expected=x.shape)
    if not np.array_equal(inference, x):
        if np.allclose(inference, x * (1 - rate), rtol=1e-5):
            return _fail("internals.dropout.scaled-at-inference", "dropout-scaled-at-inference", rate=rate)
        if np.mean(inference == 0) > 0.05:
            return _fail("internals.dropout.drops-at-inference", "dropout-drops-at-inference")
        return _fail("internals.dropout.inference-changed", "dropout-inference-changed")
    dropped = first == 0
    fraction, bound = float(dropped.mean()), zero_fraction_bound(rate)
    if abs(fraction - (1 - rate)) <= bound:
        return _fail("internals.dropout.keeps-rate", "dropout-rate-kept", rate=rate, fraction=f"{fraction:.3f}")
    if abs(fraction - rate) > bound:
        return _fail("internals.dropout.fraction", "dropout-fraction", rate=rate, fraction=f"{fraction:.4f}",
                     low=f"{rate - bound:.4f}", high=f"{rate + bound:.4f}")
    kept = ~dropped
    if np.allclose(first[kept], x[kept], rtol=1e-6):
        return _fail("internals.dropout.not-inverted", "dropout-not-inverted", scale=f"{1 / (1 - rate):.4g}")
    if not np.allclose(first[kept], x[kept] / (1 - rate), rtol=1e-5):
        return _fail("internals.dropout.survivors", "dropout-survivors", scale=f"{1 / (1 - rate):.4g}")
    if np.array_equal(dropped, second == 0):
        return _fail("internals.dropout.same-mask", "dropout-same-mask")
    rows = dropped.reshape(dropped.shape[0], -1)
    if all(np.array_equal(rows[0], row) for row in rows[1:]):
        return _fail("internals.dropout.same-mask-per-row", "dropout-same-mask-per-row")
    return Verdict(True, t("internals.dropout.passed", fraction=f"{fraction:.4f}", low=f"{rate - bound:.4f}",
                           high=f"{rate + bound:.4f}"))


def observe_dropout_function(function) -> dict:
    """``function(x, rate, training, seed_generator)``: inverted dropout written with keras.ops."""
    import keras

    if not callable(function):
        return failure("internals.not-defined", "not-attempted", name="inverted_dropout")
    used = _uses_forbidden(function, FORBIDDEN["dropout"])
    if used:
        return failure("internals.forbidden", "uses-keras-layer", name=used)
    generator = keras.random.SeedGenerator(1)
    return observe_dropout(lambda x, training: function(x, RATE, training, generator))


def judge_dropout_function(observation: dict) -> Verdict:
    return judge_dropout(observation)


def observe_dropout_layer(layer_class) -> dict:
    """``layer_class(rate, seed=...)``: a keras.layers.Layer around the student's dropout, called
    directly and inside ``model.predict``."""
    import keras

    if not isinstance(layer_class, type) or not issubclass(layer_class, keras.layers.Layer):
        return failure("internals.not-a-layer", "not-a-layer", name="MyDropout")
    used = _uses_forbidden(layer_class, FORBIDDEN["dropout"])
    if used:
        return failure("internals.forbidden", "uses-keras-layer", name=used)
    try:
        layer = layer_class(RATE, seed=1)
    except Exception as error:  # noqa: BLE001
        return raised(error, "internals.doing.create")
    observation = observe_dropout(lambda x, training: layer(x, training=training))
    if "failure" in observation:
        return observation
    x = _dropout_inputs(1)
    try:
        model = keras.Sequential([keras.Input(shape=(DROPOUT_SHAPE[1],)), layer_class(RATE, seed=2)])
        observation["predict"] = _numpy(model.predict(x, verbose=0))
    except Exception as error:  # noqa: BLE001
        observation["predict_error"] = raised(error, "internals.doing.predict", x.shape)["failure"]
    return observation


def judge_dropout_layer(observation: dict) -> Verdict:
    verdict = judge_dropout(observation)
    if not verdict.passed:
        return verdict
    if "predict_error" in observation:
        return failed({"failure": observation["predict_error"]})
    if not np.array_equal(np.asarray(observation["predict"], dtype=np.float64), _dropout_inputs(1)):
        return _fail("internals.dropout.predict", "dropout-predict-changes")
    return verdict


def check_dropout_function(function) -> Verdict:
    """In the notebook: observe and judge at once (the grader does the two apart)."""
    return judge_dropout_function(observe_dropout_function(function))


def check_dropout_layer(layer_class) -> Verdict:
    return judge_dropout_layer(observe_dropout_layer(layer_class))


# ----------------------------------------------------------------------------- batch normalization

def batchnorm_cases(seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """Batches that separate the classic mistakes: a square batch (statistics over the wrong axis),
    raw 1e3-scale columns like the concrete data, a column whose variance is far below epsilon's
    scale, a 3-D input (statistics over axis 0 alone)."""
    rng = np.random.default_rng(seed)
    concrete = np.column_stack([rng.normal(m, s, 64) for m, s in
                                ((280, 100), (970, 80), (770, 80), (180, 20), (6, 6), (75, 60), (55, 65), (45, 60))])
    tiny = np.column_stack([rng.normal(0, 1, 64), rng.normal(0, 0.03, 64), rng.normal(0.2, 0.1, 64)])
    cube = rng.normal(1, 3, size=(16, 4, 3))
    # As many examples as features, each column on its own scale: statistics taken over the
    # features axis have the right shape here (elsewhere they raise), and the wrong numbers.
    square = rng.normal(0, 1, size=(8, 8)) * np.geomspace(0.5, 20, 8) + np.linspace(-5, 5, 8)
    return [(name, array.astype("float32")) for name, array in
            (("square", square), ("tiny-variance", tiny), ("concrete-scale", concrete), ("3-d", cube))]


def training_batches():
    """(case, batches) for each case: its batch, then TRAINING_STEPS - 1 rescaled and shifted
    variants of it, the same every time (a fixed seed)."""
    rng = np.random.default_rng(7)
    for case, x in batchnorm_cases():
        yield case, [x] + [(x * rng.uniform(0.8, 1.2, size=x.shape[-1]) + rng.normal(0, 1, size=x.shape[-1]))
                           .astype("float32") for _ in range(TRAINING_STEPS - 1)]


def _keras_reference(x_batches, momentum, epsilon):
    """Keras' own layer through the protocol: outputs, statistics and gradients per step."""
    import keras

    layer = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)
    return _protocol(layer, x_batches)


def _protocol(layer, x_batches, stage: dict | None = None) -> dict:
    """Train ``layer`` for a few steps on the batches, then run it at inference; record what the
    checks compare. Gradients of sum(output * w) with respect to the input, gamma and beta.
    ``stage["doing"]`` follows what is being done (a message id), for telling where code raised."""
    import tensorflow as tf

    stage = {} if stage is None else stage
    record = {"training": []}
    stage["doing"] = "internals.doing.build"
    if not layer.built:
        layer.build(x_batches[0].shape)
    stage["doing"] = "internals.doing.training"
    weights = {_short(v.path): v for v in layer.weights}
    record["trainable"] = sorted(_short(v.path) for v in layer.trainable_weights)
    for step, x in enumerate(x_batches):
        x_var = tf.Variable(x)
        w = tf.constant(np.random.default_rng(100 + step).normal(size=x.shape).astype("float32"))
        with tf.GradientTape() as tape:
            out = layer(x_var, training=True)
            loss = tf.reduce_sum(tf.convert_to_tensor(out) * w)
        sources = [x_var] + [weights[name].value for name in ("gamma", "beta")]
        grads = tape.gradient(loss, sources)
        record["training"].append({"output": _numpy(out), "grads": [None if g is None else _numpy(g) for g in grads],
                                   "moving_mean": _numpy(weights["moving_mean"]),
                                   "moving_variance": _numpy(weights["moving_variance"])})
    before = (_numpy(weights["moving_mean"]), _numpy(weights["moving_variance"]))
    stage["doing"] = "internals.doing.inference"
    record["inference"] = _numpy(layer(x_batches[0], training=False))
    after = (_numpy(weights["moving_mean"]), _numpy(weights["moving_variance"]))
    record["updated_at_inference"] = not (np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1]))
    return record


def _short(name: str) -> str:
    return name.split("/")[-1].split(":")[0]


def _diagnose(x_batches, student: dict, momentum: float, epsilon: float) -> Verdict | None:
    """Name the classic mistake whose formula the student's numbers follow."""
    x = x_batches[0].reshape(-1, x_batches[0].shape[-1]).astype(np.float64)
    n = x.shape[0]
    mean, var = x.mean(0), x.var(0)
    out = student["training"][0]["output"].reshape(-1, x.shape[-1])
    candidates = {
        "unbiased-variance": (x - mean) / np.sqrt(x.var(0, ddof=1) + epsilon),
        "epsilon-outside-sqrt": (x - mean) / (np.sqrt(var) + epsilon),
        "no-epsilon": (x - mean) / np.sqrt(var),
        "standard-deviation-not-variance": (x - mean) / (var + epsilon),
        "moving-statistics-in-training": (x - 0.0) / np.sqrt(1.0 + epsilon),
        # per example, as layer normalization does: kept as a column, or (a square batch)
        # broadcast along the features as if they were the batch's statistics
        "features-axis": (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + epsilon),
    }
    if x.shape[0] == x.shape[1]:
        candidates["features-axis-broadcast"] = (x - x.mean(1)) / np.sqrt(x.var(1) + epsilon)
    for mistake, expected in candidates.items():
        if _close(out, expected, 1e-4):
            mistake = "features-axis" if mistake.startswith("features-axis") else mistake
            return _fail(f"internals.bn.{mistake}", f"bn-{mistake}", n=n)
    return None


def _momentum_mistake(x_batches, student: dict, momentum: float) -> Verdict | None:
    flat = x_batches[0].reshape(-1, x_batches[0].shape[-1]).astype(np.float64)
    mm = momentum * flat.mean(0)  # one step from zero with the weights swapped
    if _close(student["training"][0]["moving_mean"], mm, 1e-4):
        return _fail("internals.bn.momentum-reversed", "bn-momentum-reversed", momentum=momentum)
    return None


def observe_batchnorm_layer(layer_class, momentum: float = MOMENTUM, epsilon: float = EPSILON) -> dict:
    """Kernel side: the student's layer through the protocol on every case of ``training_batches``
    (outputs, moving statistics, gradients, trainable weights), case by case; a case where the
    student's code fails ends the record with that failure."""
    import keras

    if not isinstance(layer_class, type) or not issubclass(layer_class, keras.layers.Layer):
        return failure("internals.not-a-layer", "not-a-layer", name="MyBatchNormalization")
    used = _uses_forbidden(layer_class, FORBIDDEN["batchnorm"])
    if used:
        return failure("internals.forbidden", "uses-keras-layer", name=used)
    cases, every_case = [], list(training_batches())
    for case, batches in every_case:
        x, stage = batches[0], {"doing": "internals.doing.create"}
        try:
            layer = layer_class(momentum=momentum, epsilon=epsilon)
            stage["doing"] = "internals.doing.build"
            layer.build(x.shape)
            inner = _keras_sublayer(layer, ("BatchNormalization", "LayerNormalization", "Normalization"))
            if inner:
                return dict(failure("internals.forbidden", "uses-keras-layer", name=inner), cases=cases)
            record = _protocol(layer, batches, stage)
        except KeyError as missing:
            return dict(failure("internals.bn.weight-missing", "bn-weight-missing", name=str(missing).strip("'")),
                        cases=cases)
        except Exception as error:  # noqa: BLE001 - the student's code: say what it raised
            if x.ndim == 3 and len(cases) == len(every_case) - 1:  # every 2-D batch went through
                return dict(raised(error, stage["doing"], x.shape, key="internals.bn.fails-on-3d",
                                   mistake="bn-fails-on-3d"), cases=cases)
            return dict(raised(error, stage["doing"], x.shape), cases=cases)
        shapes = [step["output"].shape for step in record["training"]] + [record["inference"].shape]
        wrong = next((shape for shape in shapes if shape != x.shape), None)
        if wrong is not None:
            return dict(failure("internals.shape", "shape", found=tuple(wrong), expected=tuple(x.shape)), cases=cases)
        cases.append(dict(record, case=case))
    return {"cases": cases}


def judge_batchnorm_layer(observation: dict, momentum: float = MOMENTUM, epsilon: float = EPSILON) -> Verdict:
    """Grader side: each observed case against keras.layers.BatchNormalization through the same
    protocol on the same batches, computed here."""
    batches_of = dict(training_batches())
    for record in observation.get("cases", []):
        batches = batches_of[record["case"]]
        verdict = _compare(record["case"], batches, _keras_reference(batches, momentum, epsilon), record, momentum,
                           epsilon)
        if verdict is not None:
            return verdict
    if "failure" in observation:
        return failed(observation)
    if len(observation.get("cases", [])) != len(batches_of):  # the probe records every case or a failure
        raise ValueError(f"the record has {len(observation.get('cases', []))} of {len(batches_of)} cases")
    return Verdict(True, t("internals.bn.passed", cases=len(batches_of), steps=TRAINING_STEPS,
                           tolerance=f"{TOLERANCE:g}"))


def check_batchnorm_layer(layer_class, momentum: float = MOMENTUM, epsilon: float = EPSILON) -> Verdict:
    """``layer_class(momentum=..., epsilon=...)`` against keras.layers.BatchNormalization, on every
    case of ``batchnorm_cases``: training outputs, moving statistics after a few steps, inference
    outputs, gradients with respect to the input, gamma and beta, and which weights train."""
    return judge_batchnorm_layer(observe_batchnorm_layer(layer_class, momentum, epsilon), momentum, epsilon)


def _compare(case, batches, reference, student, momentum, epsilon) -> Verdict | None:
    if student["trainable"] != reference["trainable"]:
        missing = sorted(set(reference["trainable"]) - set(student["trainable"]))
        extra = sorted(set(student["trainable"]) - set(reference["trainable"]))
        if missing:
            return _fail("internals.bn.not-trainable", "bn-gamma-beta-not-trainable", names=", ".join(missing))
        return _fail("internals.bn.statistics-trainable", "bn-statistics-trainable", names=", ".join(extra))
    first, expected = student["training"][0], reference["training"][0]
    if not _close(first["output"], expected["output"]):
        return _diagnose(batches, student, momentum, epsilon) or _fail(
            "internals.bn.training-output", "bn-training-output", case=case,
            difference=f"{_difference(first['output'], expected['output']):.3g}")
    if not _close(first["moving_mean"], expected["moving_mean"]) or not _close(
            first["moving_variance"], expected["moving_variance"]):
        if np.array_equal(first["moving_mean"], np.zeros_like(first["moving_mean"])):
            return _fail("internals.bn.statistics-not-updated", "bn-statistics-not-updated")
        return _momentum_mistake(batches, student, momentum) or _fail(
            "internals.bn.statistics", "bn-moving-statistics", case=case, momentum=momentum)
    unused = [name for name, grad in zip(("gamma", "beta"), first["grads"][1:]) if grad is None]
    if unused and first["grads"][0] is not None:  # the output is differentiable, but not in these
        return _fail("internals.bn.unused", "bn-gamma-beta-unused", names=t("list.and").join(unused))
    for step, (mine, theirs) in enumerate(zip(student["training"], reference["training"]), 1):
        if not (_close(mine["moving_mean"], theirs["moving_mean"]) and _close(mine["moving_variance"], theirs["moving_variance"])):
            return _fail("internals.bn.statistics", "bn-moving-statistics", case=case, momentum=momentum)
        for name, mine_g, theirs_g in zip(("x", "gamma", "beta"), mine["grads"], theirs["grads"]):
            if mine_g is None or not _close(mine_g, theirs_g, GRADIENT_TOLERANCE):
                return _fail("internals.bn.gradient", "bn-gradient", name=name, case=case)
    if student["updated_at_inference"]:
        return _fail("internals.bn.updated-at-inference", "bn-statistics-updated-at-inference")
    if not _close(student["inference"], reference["inference"]):
        batch = batches[0].reshape(-1, batches[0].shape[-1]).astype(np.float64)
        batch_normalized = (batch - batch.mean(0)) / np.sqrt(batch.var(0) + epsilon)
        if _close(student["inference"].reshape(batch.shape), batch_normalized, 1e-4):
            return _fail("internals.bn.batch-statistics-at-inference", "bn-batch-statistics-at-inference")
        return _fail("internals.bn.inference-output", "bn-inference-output", case=case,
                     difference=f"{_difference(student['inference'], reference['inference']):.3g}")
    return None


def largest_differences(layer_class, momentum: float = MOMENTUM, epsilon: float = EPSILON) -> tuple[float, float]:
    """(values, gradients): the largest relative differences from Keras' layer over every case
    and step of the protocol (outputs, moving statistics; gradients), for calibrating tolerances."""
    values = gradients = 0.0
    for _, batches in training_batches():
        reference = _keras_reference(batches, momentum, epsilon)
        student = _protocol(layer_class(momentum=momentum, epsilon=epsilon), batches)
        values = max(values, _difference(student["inference"], reference["inference"]))
        for mine, theirs in zip(student["training"], reference["training"]):
            values = max(values, *(_difference(mine[k], theirs[k]) for k in ("output", "moving_mean", "moving_variance")))
            gradients = max(gradients, *(float("inf") if g is None else _difference(g, h)
                                         for g, h in zip(mine["grads"], theirs["grads"])))
    return values, gradients


def _difference(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))
