"""The kinds of question an assignment is made of, as data: a ``CodingQuestion`` (a Keras model
judged by its layers and the val_loss it reaches, trained by a ``Protocol``), a ``FreeResponse``
(read by the instructor), and the ``Variant``s a calibration trains. An assignment's own
questions are instances of these (lesson/questions.py); a question judged from a probe's record
defines its own kind (internals/questions.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .i18n import t
from .spec import ModelSpec

SEED = 0  # the seed every notebook's locked seed cell sets


@dataclass(frozen=True)
class Protocol:
    """How a model is trained: the same for the notebook cell, the calibration and grading."""

    data: str  # key of grader.base.data.SPLITS
    optimizer: str
    loss: str
    batch_size: int
    epochs: int

    def compile_and_fit_source(self, model: str = "model") -> str:
        return (
            f"{model}.compile(optimizer='{self.optimizer}', loss='{self.loss}')\n"
            f"history = {model}.fit(\n"
            f"    X_train, y_train,\n"
            f"    validation_data=(X_valid, y_valid),\n"
            f"    batch_size={self.batch_size},\n"
            f"    epochs={self.epochs},\n"
            f"    verbose=0,\n"
            f")"
        )


@dataclass(frozen=True)
class CodingQuestion:
    notebook: str
    key: str  # "q1"
    title: str  # what pytest and the report call it
    expected: ModelSpec
    starter: ModelSpec
    solution: str  # the answer cell, with ### BEGIN/END SOLUTION around what the student adds
    protocol: Protocol
    points_architecture: int = 3
    points_val_loss: int = 2
    variable: str = "model"
    # The student's own layer classes the model may hold -> the Keras layer that stands in for
    # each when the grader reads the saved model (grader/stand_ins.py).
    stand_ins: tuple = ()
    # The message id for a history that disagrees with the weights, when that means something
    # else than an edited history (a stand-in computes differently from the student's layer).
    history_mismatch: str = ""
    # The question whose calibrated runs (reference.json) judge this one's val_loss, when it is
    # the same model trained the same way (internals Q4 is spotify Q3 with the student's layers).
    judged_as: str = ""
    # The calibration's wrong variants whose runs are drawn beside a student's curves, so that the
    # free-response questions can be answered by looking (legend: plot.comparison.<id>.<variant>).
    comparisons: tuple = ()
    # The message ids for a training that diverged, and for a stand-in missing one of the
    # student's weights (the question's own words where it has them).
    diverged: str = "val.diverged"
    weight_missing: str = ""

    @property
    def band_id(self) -> str:
        return self.judged_as or self.id

    @property
    def grade_cells(self) -> dict:
        """Part of the verdict -> nbgrader grade cell that holds its points."""
        return {"architecture": f"{self.id}_architecture", "val_loss": f"{self.id}_val_loss"}

    @property
    def id(self) -> str:
        return f"{self.notebook}_{self.key}"

    @property
    def points(self) -> int:
        return self.points_architecture + self.points_val_loss

    @property
    def heading(self) -> str:
        """The question's name in the language in force ('spotify Q1 dropout'); ``title`` is the
        stable English name that test ids use."""
        return t(f"title.{self.id}")

    @property
    def hint(self) -> str:
        return t(f"hint.{self.id}")

    @property
    def solution_code(self) -> str:
        """The solution without nbgrader's markers: what ``.solution()`` shows and what runs."""
        return "\n".join(
            line for line in self.solution.splitlines()
            if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
        )


@dataclass(frozen=True)
class FreeResponse:
    notebook: str
    key: str
    title: str
    points: int = 1

    @property
    def id(self) -> str:
        return f"{self.notebook}_{self.key}"

    @property
    def heading(self) -> str:
        return t(f"title.{self.id}")

    @property
    def prompt(self) -> str:
        return t(f"prompt.{self.id}")

    @property
    def model_answer(self) -> str:
        return t(f"answer.{self.id}")


@dataclass(frozen=True)
class Variant:
    """A known answer (right or wrong) that the calibration trains to measure the val_loss band."""

    question: CodingQuestion
    name: str
    code: str
    correct: bool
    note: str = ""
    seeds: tuple = field(default=(0, 1, 2))
