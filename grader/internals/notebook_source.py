"""The internals notebook, written as code: ``python -m grader build`` writes it, in both
languages, to solutions/dropout-batchnorm-internals{,-zh}/ and nbgrader makes the releases.
The same cell conventions as the first assignment (grader/notebook_source.py)."""
from __future__ import annotations

from ..i18n import t
from ..notebook_source import _language_line, _notebook, _quiet_tf, code, markdown
from ..notebook_source import write_solutions as write_releases
from .questions import ASSIGNMENTS, NOTEBOOK, QUESTIONS, Question


def _question(q: Question) -> list:
    return [
        markdown(f"{q.id}_prompt", t(f"internals.nb.{q.key}")),
        code(f"{q.id}_answer", q.solution, solution=True, locked=False),
        code(f"{q.id}_check", f"checks.{q.key}.check({q.name})\n# checks.{q.key}.hint()\n# checks.{q.key}.solution()"),
        code(f"{q.id}_test", f"from grader.internals.autograde import assert_answer\nassert_answer({q.key!r}, {q.name})",
             grade=True, locked=True, points=q.points),
    ]


def internals_notebook():
    setup = _language_line() + _quiet_tf() + """
import keras
from keras import ops

from grader.internals import notebook as checks"""
    cells = [markdown(f"{NOTEBOOK}_intro", t("internals.nb.intro")), code(f"{NOTEBOOK}_setup", setup)]
    for question in QUESTIONS:
        cells.extend(_question(question))
    cells.append(markdown(f"{NOTEBOOK}_end", t("internals.nb.end")))
    return _notebook(cells)


def write_solutions(root) -> list:
    return write_releases(root, ASSIGNMENTS, {NOTEBOOK: internals_notebook})
