"""Train a model exactly as the notebooks do (the question's protocol, seeded), in this process.

Used by the calibration and by the kit's own tests; the notebooks' training cells are generated
from the same ``Protocol`` so that the numbers agree.
"""
from __future__ import annotations

import collections
import hashlib
import math
import time
from dataclasses import dataclass

from .kinds import SEED, Protocol


@dataclass
class TrainingRun:
    history: dict
    seconds: float
    model: object

    @property
    def min_val_loss(self) -> float:
        values = [v for v in self.history["val_loss"] if math.isfinite(v)]
        return min(values) if values else float("nan")

    @property
    def final_val_loss(self) -> float:
        return self.history["val_loss"][-1]


def build(code: str, input_dim: int):
    """Run answer-cell code (it assigns ``model``) with the names a notebook provides."""
    import keras
    from keras import layers

    namespace = {"keras": keras, "layers": layers, "input_shape": [input_dim]}
    exec(compile(code, "<answer>", "exec"), namespace)
    return namespace["model"]


def train(code: str, input_dim: int, protocol: Protocol, seed: int = SEED) -> TrainingRun:
    import keras

    from .data import splits

    X_train, X_valid, y_train, y_valid = splits(protocol.data)
    keras.utils.set_random_seed(seed)
    model = build(code, input_dim)
    model.compile(optimizer=protocol.optimizer, loss=protocol.loss)
    start = time.perf_counter()
    history = model.fit(
        X_train, y_train,
        validation_data=(X_valid, y_valid),
        batch_size=protocol.batch_size,
        epochs=protocol.epochs,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    return TrainingRun({k: [float(v) for v in vs] for k, vs in history.history.items()}, seconds, model)


def evaluate(model, protocol: Protocol) -> float:
    """The validation loss of trained weights, recomputed here (what the grader trusts).
    Remembered in this process for the same architecture, weights and protocol: a class hands
    in the same cached training again and again, and the loss of the same weights on the same
    data is the same number."""
    from .data import splits

    key = _evaluation_key(model, protocol)
    if key is not None and key in _EVALUATED:
        _EVALUATED.move_to_end(key)
        return _EVALUATED[key]
    parts = splits(protocol.data)
    if not getattr(model, "compiled", False) or model.loss is None:
        model.compile(optimizer=protocol.optimizer, loss=protocol.loss)
    value = float(model.evaluate(parts.X_valid, parts.y_valid, batch_size=protocol.batch_size, verbose=0))
    if key is not None:
        _EVALUATED[key] = value
        while len(_EVALUATED) > 64:
            _EVALUATED.popitem(last=False)
    return value


_EVALUATED: "collections.OrderedDict[str, float]" = collections.OrderedDict()


def _evaluation_key(model, protocol: Protocol) -> str | None:
    """A digest of everything the loss depends on, for a model read without a compiled loss of
    its own (the grader's reading of an export); None where a student's compile could matter."""
    if getattr(model, "compiled", False):
        return None
    try:
        import numpy as np

        digest = hashlib.sha256(repr(protocol).encode())
        digest.update(model.to_json().encode())
        for weight in model.weights:
            value = np.asarray(weight.numpy())
            digest.update(f"{weight.path}|{value.dtype}|{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest()
    except Exception:  # noqa: BLE001 - a model that cannot be described: evaluated every time
        return None
