"""Under the hood: build inverted dropout and batch normalization with keras.ops, checked against
Keras' own layers (grader/internals/)."""
from ..internals.notebook_source import internals_notebook, write_solutions
from ..internals.questions import ASSIGNMENTS, NOTEBOOK, QUESTIONS, SWAP_IN
from . import Assignment

ASSIGNMENT = Assignment(
    key="internals", releases=ASSIGNMENTS, builders={NOTEBOOK: internals_notebook},
    questions=(*QUESTIONS, SWAP_IN), write_solutions=write_solutions, order=10,
    calibration="grader.internals.calibrate",
    description="build dropout and batch normalization yourself, checked against Keras")
