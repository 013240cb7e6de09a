"""An nbgrader feedback step: the students' feedback shows what a hidden test said, never its code.

nbgrader's generate_feedback renders the autograded notebook as it is, hidden tests included
(autograde puts them back). This preprocessor, listed in nbgrader_config.py, replaces a hidden
test cell's source with a note, cuts every test cell's error outputs down to the message, and
removes the verdict tags that the test cells print for the class overview (autograde.py).
"""
import re

from nbconvert.preprocessors import Preprocessor

HIDDEN_MARK = "### BEGIN HIDDEN TESTS"
TAG_LINE = re.compile(r"\n?\[kit: mistake=.* val_loss=\S+ not_attempted=[01]\]")


class HideHiddenTests(Preprocessor):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enabled = True  # nbconvert registers extra preprocessors switched off

    def preprocess(self, nb, resources):
        """In the notebook's language: the note that replaces a hidden test's code is read too."""
        from grader.base.i18n import use
        from grader.base.notebook_cells import notebook_language

        with use(notebook_language(nb)):
            return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "text" in output:
                output["text"] = TAG_LINE.sub("", output["text"])
            if "evalue" in output:
                output["evalue"] = TAG_LINE.sub("", output["evalue"])
                output["traceback"] = [TAG_LINE.sub("", line) for line in output.get("traceback", [])]
        if cell.cell_type == "code" and HIDDEN_MARK in cell.source:
            from grader.base.i18n import t

            cell.source = "# " + t("feedback.hidden-test")
        if cell.cell_type == "code" and _is_test_cell(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":  # the message, no exception name
                    output["traceback"] = [_wrapped(output.get("evalue", ""))]
                elif isinstance(output.get("text"), str):
                    output["text"] = _wrapped(output["text"])
        return cell, resources


def _wrapped(text: str) -> str:
    """The page shows outputs as preformatted text: a long message line would scroll sideways,
    so it is cut at spaces to 80 columns, as the kit's own pages and Validate show it."""
    from grader.judging.verdict import wrapped

    return "\n".join(part for line in text.split("\n") for part in wrapped(line))


def _is_test_cell(cell) -> bool:
    """An autograder test cell (points, no answer): its traceback shows the kit's code and where the
    instructor installed it, not the student's; the message is what teaches."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")
