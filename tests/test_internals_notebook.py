"""The internals notebook in a real kernel: the solutions pass every check, the released starter
is told it has not started, in both languages; the notebooks are what their definitions build."""
import nbformat
import pytest
from nbclient import NotebookClient

from grader.i18n import use
from grader.internals.notebook_source import internals_notebook
from grader.internals.questions import ASSIGNMENTS, NOTEBOOK, QUESTIONS

pytestmark = pytest.mark.slow


def cells(nb):
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells]


@pytest.mark.parametrize("lang", sorted(ASSIGNMENTS))
def test_solutions_match_their_definition(root, lang):
    committed = nbformat.read(root / "solutions" / ASSIGNMENTS[lang] / f"{NOTEBOOK}.ipynb", as_version=4)
    with use(lang):
        assert cells(committed) == cells(internals_notebook()), "run `python -m grader build`"


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
    for question in QUESTIONS:
        assert "正确" in _said(solved[f"{question.id}_check"])
    assert "正确" in _said(solved["internals_q4_train"])


def test_the_release_is_told_it_has_not_started(root, tmp_path):
    released = _run(root / "exercises" / ASSIGNMENTS["en"] / f"{NOTEBOOK}.ipynb", tmp_path)
    for question in QUESTIONS:
        errors = [o for o in released[f"{question.id}_test"].outputs if o.output_type == "error"]
        assert errors and "still the starter code" in errors[0].evalue, _said(released[f"{question.id}_test"])
    errors = [o for o in released["internals_q4_architecture"].outputs if o.output_type == "error"]
    assert errors and "still the starter model" in errors[0].evalue
