"""Every question of the assignment, in one place: expected model, starter, solution, hint,
training protocol and points. The notebooks, the checks, the calibration and the autograder
all read these objects, so a question is defined exactly once.
"""
from __future__ import annotations

from ..base.kinds import SEED, CodingQuestion, FreeResponse, Protocol, Variant
from ..base.spec import BatchNormalization, Dense, Dropout, ModelSpec

ASSIGNMENT = "dropout-batchnorm"
# One nbgrader assignment per language, generated from the same questions (python -m grader build).
ASSIGNMENTS = {"en": ASSIGNMENT, "zh_CN": "dropout-batchnorm-zh"}
LANGUAGE_OF = {name: lang for lang, name in ASSIGNMENTS.items()}


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
    comparisons=("no dropout", "no batch normalization"),
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
    comparisons=("no dropout",),
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
    comparisons=("no batch normalization",),
    diverged="val.diverged.concrete",  # plain SGD on the raw concrete data: batch normalization is the cure
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
