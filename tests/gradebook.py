"""Read grades back from an nbgrader gradebook, through nbgrader's own API."""
from pathlib import Path

ASSIGNMENT = "dropout-batchnorm"


def scores(course: Path) -> dict:
    """(student, notebook, grade cell) -> (auto score, manual score, max score)."""
    return scores_of(course, ASSIGNMENT)


def scores_of(course: Path, assignment: str) -> dict:
    """The same, for one assignment of the course (the English or the Chinese release)."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    found[(submission.student.id, notebook.name, grade.name)] = (
                        grade.auto_score, grade.manual_score, grade.max_score)
    return found
