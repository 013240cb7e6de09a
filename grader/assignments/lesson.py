"""The lesson: the wine and spotify notebooks (add Dropout and BatchNormalization to Keras models).
Its questions, notebooks, checks and calibration are in grader/lesson/."""
from ..lesson.calibrate import REFERENCE_PATH
from ..lesson.notebook_source import NOTEBOOK_BUILDERS, write_solutions
from ..lesson.questions import ASSIGNMENTS, QUESTIONS
from . import Assignment

ASSIGNMENT = Assignment(
    key="lesson", releases=ASSIGNMENTS, builders=NOTEBOOK_BUILDERS, questions=tuple(QUESTIONS),
    write_solutions=write_solutions, order=0, calibration="grader.lesson.calibrate", reference=REFERENCE_PATH,
    description="wine and spotify, add Dropout and BatchNormalization to Keras models")
