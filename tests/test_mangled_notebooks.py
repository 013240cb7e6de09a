"""The notebook the student really has: renamed by Colab, a browser or Kaggle, saved by editors
that drop metadata, with answer cells copied, deleted or turned into Markdown (mangled_corpus.py),
graded by the command, batch and `pytest grader` on the real solutions and starters; trainings
come from the suite's training cache. The check cells of the student's own notebook, run top to
bottom, agree with the grader's verdicts."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from grader.commands.cli import grade_command
from grader.running import sandbox
from grader.running.recognise import label, normalized, released
from mangled_corpus import ROOT, all_kept_right, cases, solution, starter, write_case

pytestmark = pytest.mark.skipif(not sandbox.available(), reason="end-to-end grading needs the sandbox here")
LANGS = ("en", "zh")


def corpus(lang: str) -> list:
    """The mangled cases, and one notebook with every change that must keep a right answer right."""
    return cases(lang) + [all_kept_right(lang)]


CASES = [(lang, case.name) for lang in LANGS for case in corpus(lang)]


def _case(lang: str, name: str):
    return next(case for case in corpus(lang) if case.name == name)


def spotify_of(report: dict) -> dict:
    return next(nb for nb in report["notebooks"] if nb["notebook"] == "spotify")


@pytest.mark.parametrize("lang,name", CASES, ids=[f"{lang}: {name}" for lang, name in CASES])
def test_each_mangled_notebook_gets_its_grade_and_words_from_the_command(lang, name, tmp_path, capsys):
    case = _case(lang, name)
    folder = write_case(case, tmp_path / "submission")
    out = tmp_path / "report.json"
    code = grade_command([str(folder), "--json", str(out), "--quiet"])
    said = capsys.readouterr().out
    assert code in (0, 1), said
    report = json.loads(out.read_text())
    assert report["language"].startswith(lang), report["language"]  # known by its text when metadata is gone
    spotify = spotify_of(report)
    questions = {q["id"]: q for q in spotify["questions"] if not q["manual"]}
    assert sum(q["points"] for q in questions.values()) == case.points, {q: v["message"] for q, v in questions.items()}
    for qid, passed in case.passed.items():
        assert questions[qid]["passed"] is passed, (qid, questions[qid]["message"])
    for key, words in case.words.items():
        text = said if key == "report" else questions[key]["message"]
        for word in words:
            assert word in text, (key, word, text)
    graded_from = os.path.basename(spotify["path"])
    if graded_from != "spotify.ipynb":  # a file of another name: the command says which it took
        assert graded_from in said
    if "spotify.ipynb" not in case.files and len(case.files) == 1:
        assert graded_from == next(iter(case.files))


def test_the_free_responses_survive_a_notebook_without_metadata():
    nb = solution("en")
    for cell in nb.cells:
        cell.metadata = {}
        cell.pop("id", None)
    labels = label(nb, "spotify")
    free = [normalized(c.source) for c, gid in zip(nb.cells, labels.of) if gid == "spotify_q2_answer"]
    assert free and all(text and "YOUR ANSWER" not in text for text in free), free
    assert labels.how_known() == "text"


def test_a_copied_answer_cell_is_chosen_as_the_notebook_runs_it():
    sol = solution("en")
    start = starter("en")
    answer = next(c for c in sol.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q1_model")
    starter_cell = next(c for c in start.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q1_model")
    at = sol.cells.index(answer)
    sol.cells.insert(at + 1, nbformat.from_dict(dict(starter_cell)))  # a starter below the filled answer
    labels = label(sol, "spotify")
    assert labels.claimants["spotify_q1_model"] == [at, at + 1]
    assert labels.chosen["spotify_q1_model"] == at + 1  # run top to bottom, the starter is the model trained
    assert {c.grade_id for c in released("spotify")} >= {"spotify_q1_model", "spotify_q3_model"}


@pytest.fixture(scope="module")
def class_of_mangled(tmp_path_factory):
    """A course whose students handed in mangled notebooks, graded by batch."""
    course = tmp_path_factory.mktemp("mangled-course")
    students = {"colab": "Colab's copy", "markdown": "the answer turned Markdown",
                "twice": "two notebooks claim spotify"}
    for student, name in students.items():
        write_case(_case("en", name), course / "submitted" / student / "dropout-batchnorm")
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(course), "--workers", "2"],
                          capture_output=True, text=True, timeout=900)
    return course, students, done


def test_batch_grades_mangled_notebooks_as_the_command_does_and_says_which_file(class_of_mangled):
    course, students, done = class_of_mangled
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    from grader.commands.batch import results_folder
    from grader.assignments import default

    for student, name in students.items():
        case = _case("en", name)
        result = json.loads((course / results_folder(default()) / f"{student}.json").read_text())
        spotify = spotify_of(result)
        assert sum(q["points"] or 0 for q in spotify["questions"] if not q["manual"]) == case.points, student
    assert "colab: spotify.ipynb was graded from Copy of spotify.ipynb" in done.stdout
    assert "twice: spotify (1).ipynb was not graded" in done.stdout
    autograded = nbformat.read(course / "autograded" / "colab" / "dropout-batchnorm" / "spotify.ipynb", as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in autograded.cells]
    assert "spotify_q1_architecture" in ids and len(set(filter(None, ids))) == len(list(filter(None, ids)))


def test_pytest_grader_grades_renamed_notebooks_without_metadata(tmp_path):
    """`pytest --pyargs grader` in a student's folder holding Colab's copy and a wine saved as wine_final.ipynb."""
    folder = tmp_path / "my-notebooks"
    write_case(_case("en", "Colab's copy"), folder)
    wine = nbformat.read(ROOT / "solutions" / "dropout-batchnorm" / "wine.ipynb", as_version=4)
    for cell in wine.cells:
        cell.metadata = {}
    (folder / "wine_final.ipynb").write_text(json.dumps(wine), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "grader", "-p", "no:cacheprovider",
                           "--json", str(tmp_path / "r.json")], cwd=folder, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["points"] == report["max_points"] == 15
    assert {os.path.basename(nb["path"]) for nb in report["notebooks"]} == {"Copy of spotify.ipynb", "wine_final.ipynb"}


def _graded_file(case) -> str:
    return "spotify.ipynb" if "spotify.ipynb" in case.files else sorted(case.files)[0]


def _own_checks(client, nb) -> dict:
    """Run ``nb`` top to bottom in ``client``'s kernel, its trainings left out (the checks read
    the architecture only): question -> did its check cell say correct?"""
    reset = nbformat.v4.new_code_cell("get_ipython().run_line_magic('reset', '-f')")
    client.nb = nbformat.v4.new_notebook(cells=[reset])
    client.execute_cell(reset, 0)
    client.nb = nb
    said = {}
    for index, cell in enumerate(nb.cells):
        source = cell.get("source", "")
        if cell.get("cell_type") != "code" or ".fit(" in source or "check_training" in source or "pip" in source:
            continue
        cell.outputs = []
        try:
            client.execute_cell(cell, index)
        except Exception:  # noqa: BLE001 - a failing cell is what the student sees: its check shows no ✓
            pass
        for qid in ("q1", "q3"):
            if f"checks.{qid}.check(model)" in source:
                shown = "".join(str(out.get("data", {}).get("text/html", "")) for out in cell.outputs)
                said[f"spotify_{qid}"] = "border-left:4px solid #1a7f37" in shown  # the verdict's own colour: correct
    return said


@pytest.mark.parametrize("lang", LANGS)
def test_the_students_own_checks_agree_with_the_grader_on_every_case(lang, tmp_path):
    """Each case's notebook, as the student has it, run top to bottom in one kernel (its namespace
    reset between notebooks): the check cell under each answer says what the grader says."""
    from nbclient import NotebookClient

    corpus = cases(lang)
    client = NotebookClient(nbformat.v4.new_notebook(), timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    disagreements = {}
    with client.setup_kernel():
        for case in corpus:
            nb = nbformat.from_dict(json.loads(json.dumps(case.files[_graded_file(case)])))
            own = _own_checks(client, nb)
            for qid, passed in case.passed.items():
                if own.get(qid, False) is not passed:
                    disagreements[(case.name, qid)] = (own.get(qid), passed)
    assert not disagreements, disagreements


@pytest.mark.parametrize("release,name", [("dropout-batchnorm", "wine"), ("dropout-batchnorm-zh", "spotify"),
                                          ("dropout-batchnorm-internals", "internals"),
                                          ("dropout-batchnorm-internals-zh", "internals")])
def test_every_notebook_is_known_by_its_text_alone_in_each_language(release, name):
    from grader.running.recognise import language_by_text, which_notebook

    for folder in ("solutions", "exercises"):
        nb = nbformat.read(ROOT / folder / release / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            cell.metadata = {}
            cell.pop("id", None)
        nb.metadata = {}
        assert which_notebook(nb) == name, (folder, release)
        assert language_by_text(nb) == ("zh_CN" if release.endswith("-zh") else "en"), (folder, release)


def test_what_is_not_the_kits_is_not_taken_for_it():
    from grader.running.recognise import builds, which_notebook

    stranger = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import keras\nmodel = 1"),
                                               nbformat.v4.new_markdown_cell("# My notes")])
    assert which_notebook(stranger) is None
    assert builds("model = keras.Sequential()", frozenset({"model"}))
    assert builds("model.add(layers.Dropout(0.3))", frozenset({"model"}))
    assert not builds("model.summary()", frozenset({"model"}))
    assert not builds("model = 1\n" + "#" * 300_000, frozenset({"model"}))  # never parsed: too large
    assert not builds("model = (", frozenset({"model"}))  # a syntax error builds nothing
