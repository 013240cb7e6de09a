"""Where the kit's shipped files are: inside the installed package (a wheel: ``pip install .``,
JupyterHub images, Colab) or at the repository root (a clone, ``pip install -e .``).

pyproject.toml maps ``datasets/`` to ``grader/datasets/`` and each release folder
``exercises/dropout-batchnorm[-internals][-zh]/`` to ``grader/exercises[_internals][_zh]/`` in the
wheel; a clone keeps them where instructors edit them.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # grader/
REPOSITORY = PACKAGE.parent
# name inside the package -> folder in the repository
SHIPPED = {"datasets": "datasets"}
# (each assignment's student notebooks: Assignment.exercise_notebooks, one folder per language)


def shipped(folder: str) -> Path:
    """The folder of shipped files named ``folder`` ("datasets")."""
    inside = PACKAGE / folder
    if inside.is_dir():
        return inside
    in_clone = REPOSITORY / SHIPPED[folder]
    if in_clone.is_dir():
        return in_clone
    raise FileNotFoundError(f"The kit's {folder} are missing: neither {inside} nor {in_clone} exists. "
                            "Reinstall the kit (pip install dropout-batchnorm-kit, or pip install . in a clone).")


def manifest_path() -> Path:
    return shipped("datasets") / "manifest.json"
