"""Notebooks already in students' hands keep working after the package was laid out anew.

tests/released-before-the-move/ holds two notebooks exactly as the kit wrote them before its
modules moved into subpackages (``git show a1c885b:solutions/…``: the wine notebook and the
internals notebook, answered). Between them they import every public name a released notebook
uses: ``grader.wine``, ``grader.autograde``, ``grader.data``, ``grader.plots``, ``grader.quiet``,
``grader.i18n`` and ``grader.internals``' checks. Each runs top to bottom in a real kernel, as a
student or nbgrader runs it, and is graded by the command, with the verdicts it had then."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow
RELEASED = Path(__file__).resolve().parent / "released-before-the-move"


@pytest.mark.parametrize("name", ["wine", "internals"])
def test_an_old_notebook_runs_top_to_bottom_and_every_test_cell_passes(name, tmp_path):
    nb = nbformat.read(RELEASED / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o.get("ename"), o.get("evalue"))
              for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert tests and all(any("Correct" in o.get("text", "") for o in c.outputs) for c in tests)


def test_an_old_notebook_gets_the_verdicts_it_had(tmp_path):
    """The internals notebook, graded by the command (the lesson's answers are graded by many tests)."""
    name, points = "internals", 10
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.ipynb").write_bytes((RELEASED / f"{name}.ipynb").read_bytes())
    result = subprocess.run([sys.executable, "-m", "grader", str(folder / f"{name}.ipynb"), "--json",
                             str(tmp_path / "r.json"), "--quiet"], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text())
    coding = [q for nb in report["notebooks"] for q in nb["questions"] if not q["manual"]]
    assert coding and all(q["passed"] for q in coding) and report["points"] == report["max_points"] == points
