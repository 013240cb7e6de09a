"""Build submissions for the end-to-end tests from the solution notebooks: change one answer
cell, add a cell, and so on. Everything is generated; nothing is committed."""
from __future__ import annotations

from pathlib import Path

import nbformat

from grader.lesson.notebook_source import NOTEBOOK_BUILDERS
from grader.lesson.questions import CONCRETE_DEMO

SPOTIFY_STARTER_Q1 = """model = keras.Sequential([
    keras.Input(shape=input_shape),
    layers.Dense(128, activation='relu'),
    layers.Dense(64, activation='relu'),
    layers.Dense(1),
])"""

SPOTIFY_STARTER_Q3 = CONCRETE_DEMO  # the concrete model without batch normalization


def solution_notebook(name: str):
    return NOTEBOOK_BUILDERS[name]()


def set_answer(nb, grade_id: str, source: str):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def add_cell_after(nb, grade_id: str, source: str):
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
            return nb
    raise KeyError(grade_id)


def write(nb, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path
