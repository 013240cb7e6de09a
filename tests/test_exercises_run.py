"""The student notebooks, exactly as shipped, run in a real kernel up to the first answer cell."""
import nbformat
import pytest
from nbclient import NotebookClient


@pytest.mark.parametrize("name", ["wine", "spotify"])
def test_shipped_exercise_runs_up_to_its_first_answer(exercises, tmp_path, name):
    nb = nbformat.read(exercises / f"{name}.ipynb", as_version=4)
    first_answer = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells = nb.cells[:first_answer]
    assert any(c.cell_type == "code" for c in nb.cells)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"], "TensorFlow noise reached the student"
    assert "training" in "".join(o.get("text", "") for o in outputs)
