"""What ``python -m grader batch`` leaves for nbgrader's formgrader, as ``nbgrader autograde`` would:
``autograded/<student>/<assignment>/<notebook>.ipynb``, the student's notebook with the locked and
test cells as released (hidden tests included) and each test cell showing the kit's verdict for
its part, so that the instructor reads the verdicts beside the free responses they grade by hand.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from ..assignments import of_release
from ..base.i18n import use
from ..judging.verdict import wrapped
from ..running.recognise import label


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _verdict_output(part: dict) -> dict:
    message = part.get("message") or ""
    if part.get("passed"):
        return nbformat.v4.new_output("stream", name="stdout", text=message + "\n")
    lines = [piece for line in message.splitlines() for piece in wrapped(line)]
    return nbformat.v4.new_output("error", ename="CheckFailed", evalue=message, traceback=lines)


def graded_notebook(submitted: Path | None, notebook: dict, assignment: str, language: str):
    """The autograded notebook of one graded notebook (``notebook``: its part of the kit's report).
    A notebook that could not be read is the release with no answers, each test cell saying why."""
    unit = of_release(assignment)
    with use(language):
        canonical = unit.builders[notebook["notebook"]]()
    parts = {}
    for question in notebook.get("questions", []):
        q = next((each for each in unit.questions if each.id == question["id"]), None)
        for name, part in (question.get("parts") or {}).items():
            cell = getattr(q, "grade_cells", {}).get(name) if q else None
            if cell:
                parts[cell] = part
    try:
        nb = nbformat.read(submitted, as_version=4) if submitted else None
    except Exception:  # noqa: BLE001 - unreadable: the verdicts say why
        nb = None
    released = {_grade_id(cell): cell for cell in canonical.cells if _grade_id(cell)}
    if nb is not None:  # cells that lost nbgrader's metadata get it back, as recognised when graded
        labels = label(nb, notebook["notebook"])
        present = {_grade_id(cell) for cell in nb.cells} - {None}
        for index, (cell, gid) in enumerate(zip(nb.cells, labels.of)):
            if (gid in released and gid not in present and cell.cell_type == released[gid].cell_type
                    and labels.chosen.get(gid, index) == index):  # each grade id once: nbgrader's rule
                cell.setdefault("metadata", {})["nbgrader"] = dict(released[gid].metadata["nbgrader"])
                present.add(gid)
    if nb is None:
        nb = nbformat.v4.new_notebook(cells=[cell for cell in canonical.cells], metadata=canonical.metadata)
        for cell in nb.cells:
            if cell.metadata["nbgrader"].get("solution"):
                cell.source = ""
    for cell in nb.cells:
        gid = _grade_id(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if gid in released and meta.get("locked"):
            cell.source = released[gid].source  # as nbgrader restores locked cells (hidden tests too)
        if cell.cell_type == "code":
            cell.outputs = [_verdict_output(parts[gid])] if gid in parts else cell.get("outputs", [])
    return nb


def write_autograded(course: Path, result: dict) -> list:
    """autograded/<student>/<assignment>/: each notebook of the result; the paths written."""
    written = []
    folder = Path(course) / "autograded" / result["student"] / result["assignment"]
    for notebook in result.get("notebooks", []):
        if notebook.get("missing"):
            continue
        nb = graded_notebook(Path(notebook["path"]) if notebook.get("path") else None, notebook,
                             result["assignment"], result.get("language", "en"))
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{notebook['notebook']}.ipynb.partial"
        nbformat.write(nb, partial)
        partial.replace(folder / f"{notebook['notebook']}.ipynb")
        written.append(folder / f"{notebook['notebook']}.ipynb")
    return written
