"""The registry of the kit's assignments, each a unit of its own: its notebooks (generated from its
questions), its nbgrader releases per language, its questions and how they are graded. The
machinery (harness, sandbox, grading, reports, pytest, batch) asks this registry and knows no
assignment by name. This module imports only base/; it finds the entries at run time.

Every other module of this package defines ``ASSIGNMENT`` (an ``Assignment``) and is one entry:
adding a module here (and its release folders to pyproject.toml's package data) adds an assignment.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..base.resources import PACKAGE, REPOSITORY


@dataclass(frozen=True)
class Assignment:
    key: str  # what --assignment takes: "lesson", "internals"
    releases: dict  # language -> nbgrader assignment name (one release per language)
    builders: dict  # notebook name -> function that writes its canonical (solution) notebook
    questions: tuple  # every question, in notebook order (CodingQuestion, FreeResponse, probed)
    write_solutions: Callable  # repository root -> paths written under solutions/
    description: str = ""  # one line for --help
    calibration: str = ""  # module whose main(argv) re-measures the assignment's reference
    reference: Path | None = None  # its calibrated val_loss bands (judging/reference.py reads them)
    order: int = 100  # listing order (the lesson first)

    @property
    def notebooks(self) -> tuple:
        return tuple(self.builders)

    def suffix(self, separator: str = "-") -> str:
        """What tells this assignment's files from the default one's: "" for the default (the
        registry's first: kit-grades/, exercises/), else "-internals" (kit-grades-internals/)."""
        return "" if self.key == default().key else separator + self.key

    @property
    def name(self) -> str:
        return self.releases["en"]

    def questions_of(self, notebook: str) -> list:
        return [q for q in self.questions if q.notebook == notebook]

    def package_folder(self, lang: str) -> str:
        """Where the wheel carries the student notebooks of ``lang`` (grader/<folder>/)."""
        return ("exercises" + self.suffix("_")
                + ("" if lang == "en" else "_" + lang.split("_")[0]))

    def exercise_notebooks(self, lang: str = "en") -> dict:
        """Notebook name -> path of the student notebooks shipped with the kit, in ``lang``: in
        the wheel (grader/<package_folder>/) or, in a clone, exercises/<release>/."""
        inside = PACKAGE / self.package_folder(lang)
        found = inside if inside.is_dir() else REPOSITORY / "exercises" / self.releases[lang]
        if not found.is_dir():
            raise FileNotFoundError(f"The kit's notebooks of {self.releases[lang]} are missing: neither {inside} nor "
                                    f"{found} exists. Reinstall the kit (pip install dropout-batchnorm-kit, or pip "
                                    "install . in a clone).")
        return {path.stem: path for path in sorted(found.glob("*.ipynb"))}


@lru_cache(maxsize=1)
def _registry() -> tuple:
    found = []
    for module in pkgutil.iter_modules(__path__):
        unit = getattr(importlib.import_module(f"{__name__}.{module.name}"), "ASSIGNMENT", None)
        if isinstance(unit, Assignment):
            found.append(unit)
    return tuple(sorted(found, key=lambda unit: (unit.order, unit.key)))


def all_assignments() -> tuple:
    return _registry()


def default() -> Assignment:
    """The assignment a command grades when none is named and none is recognised: the first."""
    return _registry()[0]


def add_option(parser, default_key: str | None) -> None:
    """The --assignment option of every command, listing the registry's assignments."""
    units = all_assignments()
    parser.add_argument("--assignment", choices=[u.key for u in units], default=default_key,
                        help="; ".join(f"{u.key}: {u.description}" for u in units)
                        + (f" (default: {default_key})" if default_key else
                           " (default: the first whose notebooks the folder holds)"))


def keys() -> tuple:
    return tuple(unit.key for unit in _registry())


def by_key(key: str) -> Assignment:
    for unit in _registry():
        if unit.key == key:
            return unit
    raise KeyError(f"no assignment {key!r}: the kit has {', '.join(keys())}")


def of_release(name: str) -> Assignment | None:
    """The assignment of an nbgrader release name (dropout-batchnorm-zh -> the lesson)."""
    return next((unit for unit in _registry() if name in unit.releases.values()), None)


def of_notebook(notebook: str) -> Assignment:
    for unit in _registry():
        if notebook in unit.builders:
            return unit
    raise KeyError(notebook)


def questions_of(notebook: str) -> list:
    return of_notebook(notebook).questions_of(notebook)


def question(question_id: str):
    for unit in _registry():
        for q in unit.questions:
            if q.id == question_id:
                return q
    raise KeyError(question_id)


def release_names() -> list:
    return [name for unit in _registry() for name in unit.releases.values()]
