"""Notebooks are code: solutions/ is what the question definitions build (one release per
language, from the same definitions), exercises/ is what `nbgrader generate_assignment` makes of
solutions/, and the student copies ship clean."""
import io
import shutil
import subprocess
import sys
import tokenize

import nbformat
import pytest

from grader.commands.cli import nbgrader_env
from grader.i18n import use
from grader.base.notebook_cells import notebook_language
from grader.lesson.notebook_source import NOTEBOOK_BUILDERS
from grader.internals.notebook_source import internals_notebook
from grader.internals.questions import ASSIGNMENTS as INTERNALS
from grader.lesson.questions import ASSIGNMENTS

NAMES = sorted(NOTEBOOK_BUILDERS)
BUILDERS = {**NOTEBOOK_BUILDERS, "internals": internals_notebook}
RELEASES = ([(lang, assignment, name) for lang, assignment in ASSIGNMENTS.items() for name in NAMES]
            + [(lang, assignment, "internals") for lang, assignment in INTERNALS.items()])
IDS = [f"{assignment}/{name}" for _, assignment, name in RELEASES]


def cells(nb):
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells]


@pytest.mark.parametrize("lang,assignment,name", RELEASES, ids=IDS)
def test_solutions_match_their_definition(root, lang, assignment, name):
    committed = nbformat.read(root / "solutions" / assignment / f"{name}.ipynb", as_version=4)
    with use(lang):
        built = BUILDERS[name]()
    assert cells(committed) == cells(built), (
        f"solutions/{assignment}/{name}.ipynb drifted from its definition: run `python -m grader build`")
    assert notebook_language(committed) == lang


@pytest.fixture(scope="module")
def generated(tmp_path_factory, root):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(root / "solutions", course / "solutions")
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment in [*ASSIGNMENTS.values(), *INTERNALS.values()]:
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                        "--db", f"sqlite:///{course}/gradebook.db"], cwd=course, env=nbgrader_env(),
                       check=True, capture_output=True)
    return course / "exercises"


@pytest.mark.parametrize("lang,assignment,name", RELEASES, ids=IDS)
def test_exercises_are_what_nbgrader_generates(generated, root, lang, assignment, name):
    fresh = nbformat.read(generated / assignment / f"{name}.ipynb", as_version=4)
    committed = nbformat.read(root / "exercises" / assignment / f"{name}.ipynb", as_version=4)
    assert cells(committed) == cells(fresh), f"exercises/{assignment}/{name}.ipynb drifted: run `python -m grader build`"


@pytest.mark.parametrize("lang,assignment,name", RELEASES, ids=IDS)
def test_exercises_ship_clean_without_answers_or_hidden_tests(root, lang, assignment, name):
    nb = nbformat.read(root / "exercises" / assignment / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "assert_val_loss" not in text
    assert "layers.Dropout(" not in "\n".join(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    assert text.count("# YOUR CODE HERE") >= 2
    assert "ops.moments" not in text and "SeedGenerator(seed)" not in text  # the internals' answers


def _code_without_words(source: str) -> list:
    """A code cell's tokens with its comments dropped and its string literals (the words a
    student reads: printed text, plot titles, the language's name) blanked out."""
    words = (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
    return [(tok.type, "" if tok.type in words else tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)]


def test_the_chinese_release_is_the_english_one_in_other_words(root):
    """Same cells, same grade ids, same code, same points: only the words differ (markdown,
    comments and string literals; an f-string's expressions are code and stay the same)."""
    for name in NAMES:
        en = nbformat.read(root / "exercises" / ASSIGNMENTS["en"] / f"{name}.ipynb", as_version=4)
        zh = nbformat.read(root / "exercises" / ASSIGNMENTS["zh_CN"] / f"{name}.ipynb", as_version=4)
        assert [(c.cell_type, c.metadata.get("nbgrader")) for c in en.cells if c.cell_type == "markdown"] != []
        assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in en.cells] == \
               [c.metadata.get("nbgrader", {}).get("grade_id") for c in zh.cells]
        assert [c.metadata.get("nbgrader", {}).get("points") for c in en.cells] == \
               [c.metadata.get("nbgrader", {}).get("points") for c in zh.cells]
        code_en = [c for c in en.cells if c.cell_type == "code"]
        code_zh = [c for c in zh.cells if c.cell_type == "code"]
        assert len(code_en) == len(code_zh) > 0
        for a, b in zip(code_en, code_zh):
            assert _code_without_words(a.source) == _code_without_words(b.source), a.metadata.get("nbgrader")
        assert sum(a.source != b.source for a, b in zip(code_en, code_zh)) > 0  # the words did change
        markdown_zh = "\n".join(c.source for c in zh.cells if c.cell_type == "markdown")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in markdown_zh)
