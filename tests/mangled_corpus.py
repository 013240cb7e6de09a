"""Notebooks as editors, browsers and habits leave them, built from the solutions and the starters.

Each case is a submission folder (``{file name: notebook}``) with the spotify notebook changed one
way, and what grading it must give: spotify's points, each question's verdict and words its
message must contain. Notebook metadata follows each editor's documented format (Colab's
``colab``/cell ``id`` metadata and nbformat 4.0 files, VS Code's ``vscode`` interpreter hash,
JupyterLab's ``language_info``, Kaggle's ``kaggle`` block and download name)."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
RELEASES = {"en": "dropout-batchnorm", "zh": "dropout-batchnorm-zh"}
STARTER_WORDS = {"en": "starter", "zh": "起始"}
SET_ASIDE_WORDS = {"en": "was not graded", "zh": "没有评分"}  # the file set aside, in the notebooks' language


@dataclass
class Case:
    name: str
    files: dict  # file name -> notebook (NotebookNode) or raw text
    points: int  # spotify's points (of 10)
    passed: dict  # question id -> passed?
    words: dict = field(default_factory=dict)  # question id -> words its message contains; "report" -> the summary's


def solution(lang: str):
    return nbformat.read(ROOT / "solutions" / RELEASES[lang] / "spotify.ipynb", as_version=4)


def starter(lang: str):
    return nbformat.read(ROOT / "exercises" / RELEASES[lang] / "spotify.ipynb", as_version=4)


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id: str) -> int:
    return next(i for i, cell in enumerate(nb.cells) if _gid(cell) == grade_id)


def _stable_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def without_metadata(nb, keep_ids: bool):
    """An editor that keeps only the source: no cell metadata, ids kept or dropped (nbformat 4.4)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata = {}
        if not keep_ids:
            cell.pop("id", None)
    if not keep_ids:
        nb.nbformat_minor = 4
    return nb


def colab(nb, name: str):
    """'Save a copy in Drive', then download: Colab's notebook metadata, its own cell ids in the
    cell metadata, nbformat 4.0, nbgrader's metadata gone."""
    nb = without_metadata(nb, keep_ids=False)
    nb.nbformat_minor = 0
    nb.metadata = {"colab": {"provenance": [], "name": name}, "kernelspec": {"name": "python3", "display_name": "Python 3"},
                   "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {"id": _stable_id(f"colab{i}")}
        if cell.cell_type == "code":
            cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
    return nb


def kaggle(nb):
    """Kaggle's download: its notebook metadata, execution times in each code cell."""
    nb = copy.deepcopy(nb)
    nb.metadata["kaggle"] = {"accelerator": "none", "dataSources": [], "isInternetEnabled": True,
                             "language": "python", "sourceType": "notebook", "isGpuEnabled": False}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.metadata["execution"] = {"iopub.status.busy": "2026-11-30T10:00:00.000000Z"}
            cell.metadata["trusted"] = True
    return nb


def jupyterlab(nb):
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                    "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                    "pygments_lexer": "ipython3", "version": "3.12.3"}
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    return nb


def vscode(nb):
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = {"display_name": ".venv", "language": "python", "name": "python3"}
    nb.metadata["vscode"] = {"interpreter": {"hash": _stable_id("venv") * 5 + "abcd"}}
    return nb


def without_ids(nb, minor: int):
    """Cells without ids, as nbformat 4.``minor`` (before 4.5) wrote them."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat_minor = minor
    return nb


def nbformat_40(nb):
    return without_ids(nb, 0)


def answer_copied(nb, lang: str):
    """The starter kept above, a copy (Jupyter's copy keeps the metadata, new id) filled in below."""
    nb = copy.deepcopy(nb)
    at = _index(nb, "spotify_q1_model")
    starter_cell = copy.deepcopy(starter(lang).cells[_index(starter(lang), "spotify_q1_model")])
    starter_cell["id"] = _stable_id("kept starter")
    nb.cells.insert(at, starter_cell)
    return nb


def answer_typed_below_the_starter(nb, lang: str):
    """The starter cell kept as released, the answer typed into a new cell below it (no metadata)."""
    nb = copy.deepcopy(nb)
    at = _index(nb, "spotify_q1_model")
    typed = nbformat.v4.new_code_cell(nb.cells[at].source)
    nb.cells[at] = copy.deepcopy(starter(lang).cells[_index(starter(lang), "spotify_q1_model")])
    nb.cells.insert(at + 1, typed)
    return nb


def answer_copied_filled_above(nb, lang: str):
    """The filled answer above, an unchanged starter copy below it: run top to bottom, the starter
    is the model the notebook trains."""
    nb = copy.deepcopy(nb)
    at = _index(nb, "spotify_q1_model")
    starter_cell = copy.deepcopy(starter(lang).cells[_index(starter(lang), "spotify_q1_model")])
    starter_cell["id"] = _stable_id("starter below")
    nb.cells.insert(at + 1, starter_cell)
    return nb


def to_markdown(nb, grade_id: str):
    """A stray keystroke (M) turned an answer cell into Markdown."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, grade_id)]
    nb.cells[_index(nb, grade_id)] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata, id=cell.get("id"))
    return nb


def cells_inserted(nb):
    """Cells of the student's own between the released ones: code and notes."""
    nb = copy.deepcopy(nb)
    for grade_id, cell in [("spotify_q3_train", nbformat.v4.new_code_cell("print(history.history['val_loss'][-1])")),
                           ("spotify_q1_model", nbformat.v4.new_code_cell("model.summary()")),
                           ("spotify_q1_model", nbformat.v4.new_markdown_cell("My notes: dropout after each Dense.")),
                           ("spotify_q1_seed", nbformat.v4.new_code_cell("print('building the model')"))]:
        nb.cells.insert(_index(nb, grade_id) + 1, cell)
    return nb


def deleted(nb, grade_id: str):
    nb = copy.deepcopy(nb)
    del nb.cells[_index(nb, grade_id)]
    return nb


def cases(lang: str) -> list[Case]:
    sol, start = solution(lang), starter(lang)
    both = {"spotify_q1": True, "spotify_q3": True}
    return [
        Case("Colab's copy", {"Copy of spotify.ipynb": colab(sol, "Copy of spotify.ipynb")}, 10, both,
             {"report": ["Copy of spotify.ipynb"]}),
        Case("a second browser download", {"spotify (1).ipynb": sol}, 10, both, {"report": ["spotify (1).ipynb"]}),
        Case("Kaggle's download", {"exercise-dropout-and-batch-normalization.ipynb": kaggle(sol)}, 10, both,
             {"report": ["exercise-dropout-and-batch-normalization.ipynb"]}),
        Case("metadata dropped, ids kept", {"spotify.ipynb": without_metadata(sol, keep_ids=True)}, 10, both),
        Case("metadata and ids dropped", {"spotify.ipynb": without_metadata(sol, keep_ids=False)}, 10, both),
        Case("the answer copied, the starter kept above", {"spotify.ipynb": answer_copied(sol, lang)}, 10, both,
             {"spotify_q1": ["2"]}),
        Case("the answer typed into a new cell below the starter", {"spotify.ipynb": answer_typed_below_the_starter(sol, lang)},
             10, both, {"spotify_q1": ["2"]}),
        Case("the answer filled above, a starter copy below", {"spotify.ipynb": answer_copied_filled_above(sol, lang)},
             5, {"spotify_q1": False, "spotify_q3": True}, {"spotify_q1": [STARTER_WORDS[lang]]}),
        Case("the answer turned Markdown", {"spotify.ipynb": to_markdown(sol, "spotify_q1_model")}, 5,
             {"spotify_q1": False, "spotify_q3": True}, {"spotify_q1": ["Markdown", "Y"]}),
        Case("the answer turned Markdown, metadata dropped",
             {"spotify.ipynb": without_metadata(to_markdown(sol, "spotify_q3_model"), keep_ids=False)}, 5,
             {"spotify_q1": True, "spotify_q3": False}, {"spotify_q3": ["Markdown"]}),
        Case("JupyterLab", {"spotify.ipynb": jupyterlab(sol)}, 10, both),
        Case("VS Code", {"spotify.ipynb": vscode(sol)}, 10, both),
        Case("cells inserted between the released cells", {"spotify.ipynb": cells_inserted(sol)}, 10, both),
        Case("the answer cell deleted", {"spotify.ipynb": deleted(sol, "spotify_q1_model")}, 5,
             {"spotify_q1": False, "spotify_q3": True}, {"spotify_q1": ["spotify_q1_model", "spotify-q1-model"]}),
        Case("two notebooks claim spotify", {"spotify.ipynb": sol, "spotify (1).ipynb": start}, 10, both,
             {"report": ["spotify (1).ipynb", "spotify.ipynb", SET_ASIDE_WORDS[lang]]}),
        Case("nbformat 4.0", {"spotify.ipynb": nbformat_40(sol)}, 10, both),
        Case("the starter, metadata dropped", {"spotify (2).ipynb": without_metadata(start, keep_ids=False)}, 0,
             {"spotify_q1": False, "spotify_q3": False}, {"spotify_q1": [STARTER_WORDS[lang]]}),
    ]


def write_case(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in case.files.items():
        text = nb if isinstance(nb, str) else json.dumps(nb, indent=1, ensure_ascii=False)  # as the editor left it
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def ids_dropped_42(nb):
    return without_ids(nb, 2)


def checks_deleted(nb):
    """The student deleted the check cells and nbgrader's grade cells under each answer."""
    nb = copy.deepcopy(nb)
    nb.cells = [cell for cell in nb.cells
                if not (_gid(cell) or "").endswith(("_check", "_architecture", "_val_loss"))]
    return nb


def concrete_moved_up(nb):
    """The concrete block (Q3 and Q4) cut and pasted above the Spotify block (Q1 and Q2)."""
    nb = copy.deepcopy(nb)
    start, end = _index(nb, "spotify_q3_intro"), _index(nb, "spotify_q4_answer") + 1
    block = nb.cells[start:end]
    del nb.cells[start:end]
    at = _index(nb, "spotify_q1_prompt")
    nb.cells[at:at] = block
    return nb


def own_kernelspec(nb):
    """Saved on the student's machine: a kernel of their own virtual environment."""
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = {"display_name": "Python (dl-course)", "language": "python", "name": "dl-course"}
    return nb


def pip_and_magics(nb):
    """A `!pip install` cell and IPython magics added by the student."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(_index(nb, "spotify_setup"), nbformat.v4.new_code_cell("!pip install --quiet pandas\n%matplotlib inline"))
    nb.cells.insert(_index(nb, "spotify_q1_seed"), nbformat.v4.new_code_cell("%time input_shape"))
    return nb


def tf_keras(nb):
    """The answers spelled through TensorFlow: ``tf.keras.Sequential``, ``tf.keras.layers``."""
    nb = copy.deepcopy(nb)
    for grade_id in ("spotify_q1_model", "spotify_q3_model"):
        cell = nb.cells[_index(nb, grade_id)]
        cell.source = "import tensorflow as tf\n" + cell.source.replace("keras.", "tf.keras.").replace(
            "layers.", "tf.keras.layers.").replace("tf.keras.tf.keras.layers.", "tf.keras.layers.")
    return nb


def big_output(nb, megabytes: int = 20):
    """A saved output of ``megabytes`` MB (a printout left in the notebook)."""
    nb = copy.deepcopy(nb)
    cell = nb.cells[_index(nb, "spotify_q1_train")]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.1234 " * (megabytes * 1024 * 1024 // 7))]
    cell.execution_count = 9
    return nb


def kept_right(lang: str) -> list[Case]:
    """Changes that never made a right answer wrong, each alone (the benchmark's rows); the suite
    grades them all at once (``all_kept_right``)."""
    sol = solution(lang)
    both = {"spotify_q1": True, "spotify_q3": True}
    return [Case(name, {"spotify.ipynb": change(sol)}, 10, both)
            for name, change in (("cells without ids, nbformat 4.2", ids_dropped_42),
                                 ("check and grade cells deleted", checks_deleted),
                                 ("the concrete block moved above the Spotify block", concrete_moved_up),
                                 ("a kernelspec from the student's machine", own_kernelspec),
                                 ("a !pip install cell and magics", pip_and_magics),
                                 ("the tf.keras spelling", tf_keras),
                                 ("a saved output of 20 MB", big_output))]


def all_kept_right(lang: str) -> Case:
    """Every change of ``kept_right`` in one notebook: the suite's case (one grading, not seven).
    Its check cells are deleted, so the students' own checks have nothing to say about it."""
    nb = solution(lang)
    for change in (tf_keras, pip_and_magics, concrete_moved_up, own_kernelspec, big_output, checks_deleted,
                   ids_dropped_42):
        nb = change(nb)
    return Case("every change that keeps a right answer right", {"spotify.ipynb": nb}, 10,
                {"spotify_q1": True, "spotify_q3": True})
