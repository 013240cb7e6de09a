"""Every question of the assignment, in one place: expected model, starter, solution, hint,
training protocol and points. The notebooks, the checks, the calibration and the autograder
all read these objects, so a question is defined exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .i18n import t
from .spec import BatchNormalization, Dense, Dropout, ModelSpec

ASSIGNMENT = "dropout-batchnorm"
# One nbgrader assignment per language, generated from the same questions (python -m grader build).
ASSIGNMENTS = {"en": ASSIGNMENT, "zh_CN": "dropout-batchnorm-zh"}
LANGUAGE_OF = {name: lang for lang, name in ASSIGNMENTS.items()}
SEED = 0


@dataclass(frozen=True)
class Protocol:
    """How a model is trained: the same for the notebook cell, the calibration and grading."""

    data: str  # key of grader.data.SPLITS
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


def _blocks(*layers, times: int):
    return [layer for _ in range(times) for layer in layers]


WINE_PROTOCOL = Protocol("wine", "adam", "mae", batch_size=256, epochs=100)
SPOTIFY_PROTOCOL = Protocol("spotify", "adam", "mae", batch_size=512, epochs=50)
CONCRETE_PROTOCOL = Protocol("concrete", "sgd", "mae", batch_size=64, epochs=100)

WINE_Q1 = CodingQuestion(
    notebook="wine",
    key="q1",
    title="wine Q1 dropout and batch normalization",
    expected=ModelSpec(
        _blocks(Dense(1024, "relu"), Dropout(0.3), BatchNormalization(), times=3) + [Dense(1)],
        input_dim=11,
    ),
    starter=ModelSpec(_blocks(Dense(1024, "relu"), times=3) + [Dense(1)], input_dim=11),
    solution="""\
model = keras.Sequential([
    keras.Input(shape=(11,)),
    layers.Dense(1024, activation='relu'),
    ### BEGIN SOLUTION
    layers.Dropout(0.3),
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(1024, activation='relu'),
    ### BEGIN SOLUTION
    layers.Dropout(0.3),
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(1024, activation='relu'),
    ### BEGIN SOLUTION
    layers.Dropout(0.3),
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(1),
])""",
    protocol=WINE_PROTOCOL,
)

WINE_Q2 = FreeResponse(
    notebook="wine",
    key="q2",
    title="wine Q2 what did each layer do",
)

SPOTIFY_Q1 = CodingQuestion(
    notebook="spotify",
    key="q1",
    title="spotify Q1 dropout",
    expected=ModelSpec(
        [Dense(128, "relu"), Dropout(0.3), Dense(64, "relu"), Dropout(0.3), Dense(1)], input_dim=18
    ),
    starter=ModelSpec([Dense(128, "relu"), Dense(64, "relu"), Dense(1)], input_dim=18),
    solution="""\
model = keras.Sequential([
    keras.Input(shape=input_shape),
    layers.Dense(128, activation='relu'),
    ### BEGIN SOLUTION
    layers.Dropout(0.3),
    ### END SOLUTION
    layers.Dense(64, activation='relu'),
    ### BEGIN SOLUTION
    layers.Dropout(0.3),
    ### END SOLUTION
    layers.Dense(1),
])""",
    protocol=SPOTIFY_PROTOCOL,
)

SPOTIFY_Q2 = FreeResponse(
    notebook="spotify",
    key="q2",
    title="spotify Q2 did dropout reduce overfitting",
)

SPOTIFY_Q3 = CodingQuestion(
    notebook="spotify",
    key="q3",
    title="spotify Q3 batch normalization",
    expected=ModelSpec(
        _blocks(BatchNormalization(), Dense(512, "relu"), times=3) + [BatchNormalization(), Dense(1)],
        input_dim=8,
    ),
    starter=ModelSpec(_blocks(Dense(512, "relu"), times=3) + [Dense(1)], input_dim=8),
    solution="""\
model = keras.Sequential([
    keras.Input(shape=input_shape),
    ### BEGIN SOLUTION
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    layers.BatchNormalization(),
    ### END SOLUTION
    layers.Dense(1),
])""",
    protocol=CONCRETE_PROTOCOL,
)

SPOTIFY_Q4 = FreeResponse(
    notebook="spotify",
    key="q4",
    title="spotify Q4 did batch normalization help",
)

QUESTIONS = [WINE_Q1, WINE_Q2, SPOTIFY_Q1, SPOTIFY_Q2, SPOTIFY_Q3, SPOTIFY_Q4]
CODING = [q for q in QUESTIONS if isinstance(q, CodingQuestion)]
NOTEBOOKS = ("wine", "spotify")
BY_ID = {q.id: q for q in QUESTIONS}


def questions_of(notebook: str) -> list:
    return [q for q in QUESTIONS if q.notebook == notebook]


# The concrete model without batch normalization: the spotify notebook's demonstration that
# plain SGD on raw concrete data diverges. Calibrated too, to show that the val_loss check fails it.
CONCRETE_DEMO = """\
model = keras.Sequential([
    keras.Input(shape=input_shape),
    layers.Dense(512, activation='relu'),
    layers.Dense(512, activation='relu'),
    layers.Dense(512, activation='relu'),
    layers.Dense(1),
])"""


@dataclass(frozen=True)
class Variant:
    """A known answer (right or wrong) that the calibration trains to measure the val_loss band."""

    question: CodingQuestion
    name: str
    code: str
    correct: bool
    note: str = ""
    seeds: tuple = field(default=(0, 1, 2))


def _without(code: str, text: str) -> str:
    return "\n".join(line for line in code.splitlines() if line.strip() != text)


CALIBRATION_VARIANTS = [
    Variant(WINE_Q1, "solution", WINE_Q1.solution_code, True, seeds=tuple(range(10))),
    Variant(SPOTIFY_Q1, "solution", SPOTIFY_Q1.solution_code, True, seeds=tuple(range(10))),
    Variant(SPOTIFY_Q3, "solution", SPOTIFY_Q3.solution_code, True, seeds=tuple(range(10))),
    Variant(WINE_Q1, "no batch normalization", _without(WINE_Q1.solution_code, "layers.BatchNormalization(),"), False),
    Variant(WINE_Q1, "no dropout", _without(WINE_Q1.solution_code, "layers.Dropout(0.3),"), False,
            note="reaches a LOWER val_loss than the solution: only the architecture check catches it"),
    Variant(SPOTIFY_Q1, "no dropout", _without(SPOTIFY_Q1.solution_code, "layers.Dropout(0.3),"), False),
    Variant(SPOTIFY_Q3, "no batch normalization", CONCRETE_DEMO, False),
]


# The calibrated runs drawn beside a student's curves, so that the free-response questions can be
# answered by looking: (calibration variant, legend label). Trained once, by the calibration.
# The labels are catalog ids (plot.comparison.<question>.<variant>).
COMPARISONS = {
    "wine_q1": ("no dropout", "no batch normalization"),
    "spotify_q1": ("no dropout",),
    "spotify_q3": ("no batch normalization",),
}


def comparison_label(question_id: str, variant: str) -> str:
    return t(f"plot.comparison.{question_id}.{variant.replace(' ', '-')}")
