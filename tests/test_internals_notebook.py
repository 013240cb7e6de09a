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


@pytest.mark.parametrize("lang", sorted(ASSIGNMENTS))
def test_the_solutions_pass_and_the_release_is_not_attempted(root, tmp_path, lang):
    solved = _run(root / "solutions" / ASSIGNMENTS[lang] / f"{NOTEBOOK}.ipynb", tmp_path)
    released = _run(root / "exercises" / ASSIGNMENTS[lang] / f"{NOTEBOOK}.ipynb", tmp_path)
    for question in QUESTIONS:
        test, check = solved[f"{question.id}_test"], solved[f"{question.id}_check"]
        assert not [o for o in test.outputs if o.output_type == "error"], _said(test)
        assert ("Correct" if lang == "en" else "正确") in _said(check)
        starter = released[f"{question.id}_test"]
        errors = [o for o in starter.outputs if o.output_type == "error"]
        assert errors and ("still the starter code" if lang == "en" else "仍是起始代码") in errors[0].evalue, _said(starter)
