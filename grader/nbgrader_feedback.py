"""An nbgrader feedback step: the students' feedback shows what a hidden test said, never its code.

nbgrader's generate_feedback renders the autograded notebook as it is, hidden tests included
(autograde puts them back). This preprocessor, listed in nbgrader_config.py, replaces a hidden
test cell's source with a note and cuts its error outputs down to the message.
"""
from nbconvert.preprocessors import Preprocessor

HIDDEN_MARK = "### BEGIN HIDDEN TESTS"


class HideHiddenTests(Preprocessor):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enabled = True  # nbconvert registers extra preprocessors switched off

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_MARK in cell.source:
            cell.source = "# Hidden test: the validation-loss check (its code is not shown)."
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
