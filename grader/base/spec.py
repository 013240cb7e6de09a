"""Expected models as data: a question states its layers once, and the matcher compares.

A ``Layer`` is a plain description (kind plus the parameters that matter for the lesson), used
both for what a question expects and for what a student's model contains, so that the two can
be compared and printed the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    kind: str  # "Dense", "Dropout", "BatchNormalization", or the class name of anything else
    units: int | None = None
    activation: str | None = None
    rate: float | None = None
    lookalike_of: str | None = field(default=None, compare=False)  # e.g. GaussianDropout -> Dropout

    def __str__(self) -> str:
        if self.kind == "Dense":
            return f"Dense({self.units}, activation='{self.activation}')"
        if self.kind == "Dropout":
            return f"Dropout(rate={self.rate:g})"
        if self.kind == "BatchNormalization":
            return "BatchNormalization()"
        if self.kind == "Activation":
            return f"Activation('{self.activation}')"
        return f"{self.kind}()"

    @property
    def short(self) -> str:
        """The name a sentence uses: Dense(64), Dropout(0.3), BatchNormalization."""
        if self.kind == "Dense":
            return f"Dense({self.units})"
        if self.kind == "Dropout":
            return f"Dropout({self.rate:g})"
        return self.kind


def Dense(units: int, activation: str = "linear") -> Layer:
    return Layer("Dense", units=units, activation=activation)


def Dropout(rate: float) -> Layer:
    return Layer("Dropout", rate=rate)


def BatchNormalization() -> Layer:
    return Layer("BatchNormalization")


@dataclass(frozen=True)
class ModelSpec:
    layers: tuple[Layer, ...]
    input_dim: int

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers))
