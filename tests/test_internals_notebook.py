"""The internals notebook in a real kernel: the solutions pass every check, the released starter
is told it has not started. (That the notebooks are what their definitions build is
tests/test_notebooks_generated.py's.)"""
import re

import nbformat
import pytest
from nbclient import NotebookClient

from grader.internals.questions import ASSIGNMENTS, NOTEBOOK, QUESTIONS

pytestmark = pytest.mark.slow


def _run(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def _said(cell) -> str:
    return "".join(o.get("text", "") or o.get("evalue", "") or "".join(o.get("data", {}).get("text/html", ""))
                   for o in cell.get("outputs", []))


def test_the_chinese_solutions_pass_every_test_cell(root, tmp_path):
    """Every test cell passes (Q4 trains the concrete model with the student's own layers: its
    val_loss lands in the band of the Keras-layer model) and every check answers in Chinese.
    (The English solutions: tests/test_nbgrader.py autogrades them to full marks.)"""
    solved = _run(root / "solutions" / ASSIGNMENTS["zh_CN"] / f"{NOTEBOOK}.ipynb", tmp_path)
    for grade_id, cell in solved.items():
        if grade_id and cell.metadata.get("nbgrader", {}).get("grade"):
            assert not [o for o in cell.outputs if o.output_type == "error"], (grade_id, _said(cell))
    for grade_id in [f"{question.id}_check" for question in QUESTIONS] + ["internals_q4_train"]:
        assert _heads(solved[grade_id]) == ["✓ 正确"], (grade_id, _said(solved[grade_id]))


def _heads(cell) -> list[str]:
    """The verdict heads a cell displayed (✓ 正确, ✗ 不正确, ...), as the verdict renders them."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))
    return re.findall(r'<b style="color:#[0-9a-f]{6}">([✓✗] [^<]+)</b>', html)


def test_the_release_is_told_it_has_not_started(root, tmp_path):
    released = _run(root / "exercises" / ASSIGNMENTS["en"] / f"{NOTEBOOK}.ipynb", tmp_path)
    for question in QUESTIONS:
        errors = [o for o in released[f"{question.id}_test"].outputs if o.output_type == "error"]
        assert errors and "still the starter code" in errors[0].evalue, _said(released[f"{question.id}_test"])
    errors = [o for o in released["internals_q4_architecture"].outputs if o.output_type == "error"]
    assert errors and "still the starter model" in errors[0].evalue
