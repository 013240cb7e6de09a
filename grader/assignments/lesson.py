"""The lesson: the wine and spotify notebooks (add Dropout and BatchNormalization to Keras models).
Its questions are in grader/questions.py, its notebooks in grader/notebook_source.py."""
from ..notebook_source import NOTEBOOK_BUILDERS, write_solutions
from ..questions import ASSIGNMENTS, QUESTIONS
from . import Assignment

ASSIGNMENT = Assignment(
    key="lesson", releases=ASSIGNMENTS, builders=NOTEBOOK_BUILDERS, questions=tuple(QUESTIONS),
    write_solutions=write_solutions, order=0, calibration="grader.calibrate",
    description="wine and spotify, add Dropout and BatchNormalization to Keras models")
