"""The real nbgrader CLI in a temporary course folder: autograde, feedback, export."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader.base.i18n import t, use
from grader.commands.cli import nbgrader_env
from grader.lesson.questions import CODING
from gradebook import scores, scores_of
from internals_corpus import FUNCTIONS, code_of
from submissions import set_answer

pytestmark = pytest.mark.slow
ASSIGNMENT = "dropout-batchnorm"
ASSIGNMENT_ZH = "dropout-batchnorm-zh"
INTERNALS = "dropout-batchnorm-internals"
# nbgrader processes the course autogrades with: two, whatever the machine (the default, one more
# than the CPUs, would put three beside the suite's other worker on two cores)
SUITE_PROCESSES = 2
FULL = sum(q.points_architecture + q.points_val_loss for q in CODING)


def nbgrader(course, *args, check=True, env=None):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=dict(nbgrader_env(), **(env or {})),
                            capture_output=True, text=True, timeout=1800)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


COURSE_ID = "dl101"
EXCHANGES = {}  # course folder -> its Exchange (the students and what nbgrader told them)


class Exchange:
    """nbgrader's file-system exchange as on a JupyterHub: the instructor's course folder, and each
    student in a home of their own (their own HOME, USER and working folder, the course's
    nbgrader_config.py installed there as a hub installs it), all through the real nbgrader CLI."""

    def __init__(self, base, course, config):
        self.root, self.course, self.config = base / "exchange", course, config
        self.root.mkdir()
        self.logs = {}

    def flags(self):
        return [f"--course={COURSE_ID}", f"--Exchange.root={self.root}"]

    def instructor(self, *args):
        return nbgrader(self.course, *args, *self.flags())

    def home(self, student):
        home = self.root.parent / "home" / student
        if not home.exists():
            home.mkdir(parents=True)
            shutil.copy(self.config, home / "nbgrader_config.py")
        return home

    def student(self, student, *args, check=True):
        """A student's command. A hub runs each student as their own OS user, whose name nbgrader
        takes; here every student is this process's user, so the exchange is told the name."""
        env = dict(nbgrader_env(), HOME=str(self.home(student)), USER=student, LOGNAME=student)
        named = [f"--student={student}"] if args[0] in ("submit", "fetch_feedback") else []
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args, *named, *self.flags()], cwd=self.home(student),
                                env=env, capture_output=True, text=True, timeout=1800)
        self.logs.setdefault(student, []).append((args, result.stdout + result.stderr))
        if check:
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result

    def answer(self, student, assignment, source_folder, notebooks, mark):
        """The student fills in the fetched notebooks: the answer cells of ``source_folder``'s, and
        a free response that carries ``mark`` (to find where this student's work went)."""
        for name in notebooks:
            path = self.home(student) / assignment / f"{name}.ipynb"
            nb = nbformat.read(path, as_version=4)
            answers = {c.metadata["nbgrader"]["grade_id"]: "\n".join(
                           line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line
                           and "### END SOLUTION" not in line)
                       for c in nbformat.read(source_folder / f"{name}.ipynb", as_version=4).cells
                       if c.metadata.get("nbgrader", {}).get("solution")}
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in answers:
                    cell.source = answers[gid] + (f"\n\n{mark}" if cell.cell_type == "markdown" else "")
            nbformat.write(nb, path)


FAST_AND_COLD = {}  # course folder -> carol's graded cells, autograded through the fast path, then cold


def graded_cells(course, student: str) -> dict:
    """(notebook, grade id) -> (score, what the cell printed) of every graded cell of ``student``
    (streams joined: where the kernel split a line into two messages is timing, not content)."""
    found = {}
    graded = {(nb, gid): auto for (s, nb, gid), (auto, _, _) in scores(course).items() if s == student}
    for path in sorted((course / "autograded" / student / ASSIGNMENT).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if (path.stem, gid) in graded and cell.cell_type == "code":
                printed = "".join(out.get("text", "") if out.get("output_type") == "stream" else
                                  f"{out.get('ename')}: {out.get('evalue')}" for out in cell.get("outputs", []))
                found[(path.stem, gid)] = (graded[(path.stem, gid)], printed)
    return found


def submit(course, student, notebooks: dict):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def course(tmp_path_factory, root, exercises):
    """Four students, autograded, with feedback and a CSV export, and a fifth who took the Chinese
    release (about 8 minutes)."""
    course = tmp_path_factory.mktemp("course")
    for folder in ("solutions", "exercises"):
        shutil.copytree(root / folder, course / folder)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    with open(course / "nbgrader_config.py", "a") as config:  # the suite's worker has one of the two cores
        config.write(f"\nc.ParallelAutograde.workers = {SUITE_PROCESSES}\n")
    release = {n: nbformat.read(exercises / f"{n}.ipynb", as_version=4) for n in ("wine", "spotify")}
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    # alice (English) and li (Chinese) take the course through the exchange; the others hand in by hand.
    exchange = Exchange(course.parent, course, root / "nbgrader_config.py")
    nbgrader(course, "generate_assignment", ASSIGNMENT_ZH, "--force")
    for student, assignment, notebooks in (("alice", ASSIGNMENT, ("wine", "spotify")), ("li", ASSIGNMENT_ZH, ("spotify",))):
        if student == "alice":
            exchange.instructor("release_assignment", ASSIGNMENT)
            exchange.instructor("release_assignment", ASSIGNMENT_ZH)
        exchange.student(student, "fetch_assignment", assignment)
        if student == "li":  # the Validate button before she starts: it says at once what is missing
            exchange.student(student, "validate", f"{assignment}/spotify.ipynb")
        exchange.answer(student, assignment, root / "solutions" / assignment, notebooks, f"MARK-{student}")
        if student == "alice":  # and once the answers are in (wine: one model to train)
            exchange.student(student, "validate", f"{assignment}/wine.ipynb")
        for name in {"wine", "spotify"} - set(notebooks):  # li hands in only what she worked on
            (exchange.home(student) / assignment / f"{name}.ipynb").unlink()
        exchange.student(student, "submit", assignment)
    exchange.instructor("collect", ASSIGNMENT)
    exchange.instructor("collect", ASSIGNMENT_ZH)
    submit(course, "bob", release)
    # carol: spotify with one wrong answer (dropout rate 0.7); she also cut a locked training cell to
    # one epoch and deleted a locked check cell.
    carol = nbformat.read(root / "solutions" / ASSIGNMENT / "spotify.ipynb", as_version=4)
    answer = next(c for c in carol.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q1_model")
    set_answer(carol, "spotify_q1_model", answer.source.replace("Dropout(0.3)", "Dropout(0.7)"))
    set_answer(carol, "spotify_q3_train", "model.compile(optimizer='sgd', loss='mae')\n"
               "history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), epochs=1, verbose=0)")
    carol.cells = [c for c in carol.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "spotify_q1_check"]
    submit(course, "carol", {"spotify": carol})
    # and her wine as Colab saved it: another name, no nbgrader metadata (nbgrader grades only wine.ipynb)
    colab_wine = nbformat.read(root / "solutions" / ASSIGNMENT / "wine.ipynb", as_version=4)
    for cell in colab_wine.cells:
        cell.metadata = {}
    nbformat.write(colab_wine, course / "submitted" / "carol" / ASSIGNMENT / "Copy of wine.ipynb")
    # erin's answer kills the kernel (os._exit): nbgrader reports her submission as failed.
    erin = nbformat.read(root / "solutions" / ASSIGNMENT / "spotify.ipynb", as_version=4)
    set_answer(erin, "spotify_q1_model", "import os\nos._exit(1)")
    submit(course, "erin", {"spotify": erin})
    course_log = nbgrader(course, "autograde", ASSIGNMENT, "--create", check=False)
    (course / "autograde.log").write_text(course_log.stdout + course_log.stderr)
    # carol again with the training cache off, every cell run in her kernel as plain nbgrader runs
    # it: what the fast path wrote must be what the cold run writes.
    FAST_AND_COLD[course] = [graded_cells(course, "carol")]
    cold = nbgrader(course, "autograde", ASSIGNMENT, "--student=carol", "--force",
                    env={"DROPOUT_KIT_TRAINING_CACHE": "off"})
    FAST_AND_COLD[course].append(graded_cells(course, "carol"))
    (course / "autograde-cold.log").write_text(cold.stdout + cold.stderr)
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    # li took the Chinese release of the same lesson (a mixed class): her spotify solutions.
    zh_log = nbgrader(course, "autograde", ASSIGNMENT_ZH, "--create")
    (course / "autograde-zh.log").write_text(zh_log.stdout + zh_log.stderr)
    nbgrader(course, "generate_feedback", ASSIGNMENT_ZH)
    for assignment, student in ((ASSIGNMENT, "alice"), (ASSIGNMENT_ZH, "li")):
        # the students who came through the exchange (the others handed in by hand have no exchange secret)
        exchange.instructor("release_feedback", assignment, f"--student={student}")
        exchange.student(student, "fetch_feedback", assignment)
    EXCHANGES[course] = exchange
    # The second assignment, under the hood: zoe hands in the solutions, yan the release with only
    # Q1 answered, wrongly (dropout not inverted).
    nbgrader(course, "generate_assignment", INTERNALS, "--force")
    for student, source in (("zoe", "solutions"), ("yan", "exercises")):
        folder = course / "submitted" / student / INTERNALS
        folder.mkdir(parents=True)
        shutil.copy(root / source / INTERNALS / "internals.ipynb", folder / "internals.ipynb")
    yan = nbformat.read(course / "submitted" / "yan" / INTERNALS / "internals.ipynb", as_version=4)
    set_answer(yan, "internals_q1_answer", code_of(FUNCTIONS, "dropout not inverted"))
    nbformat.write(yan, course / "submitted" / "yan" / INTERNALS / "internals.ipynb")
    nbgrader(course, "autograde", INTERNALS, "--create")
    nbgrader(course, "generate_feedback", INTERNALS)
    nbgrader(course, "export")
    return course


def autograded(course, student: str, notebook: str | None = None) -> float:
    return sum(auto or 0 for (s, nb, _), (auto, _, _) in scores(course).items()
               if s == student and (notebook is None or nb == notebook))


def test_solutions_get_full_marks_on_every_autograded_cell(course):
    cells = {k: v for k, v in scores(course).items() if k[0] == "alice" and not k[2].endswith("_answer")}
    assert len(cells) == 2 * len(CODING)
    assert all(auto == top for auto, _, top in cells.values()), cells
    assert autograded(course, "alice") == FULL


def test_untouched_release_gets_zero(course):
    assert autograded(course, "bob") == 0
    assert (course / "autograded" / "bob" / ASSIGNMENT / "wine.ipynb").exists()


def test_one_wrong_answer_loses_exactly_that_questions_points(course):
    carol = {k[2]: v[0] for k, v in scores(course).items() if k[0] == "carol" and k[1] == "spotify"}
    assert carol["spotify_q1_architecture"] == 0 and carol["spotify_q1_val_loss"] == 0
    assert carol["spotify_q3_architecture"] == 3 and carol["spotify_q3_val_loss"] == 2
    assert autograded(course, "carol", "spotify") == autograded(course, "alice", "spotify") - 5


def test_edited_locked_cell_is_restored_and_others_unaffected(course):
    """nbgrader overwrites locked cells from the release: carol's 1-epoch edit has no effect (Q3 keeps
    its full marks), her deleted check cell costs nothing, and the other students are untouched."""
    graded = nbformat.read(course / "autograded" / "carol" / ASSIGNMENT / "spotify.ipynb", as_version=4)
    train = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q3_train")
    assert "epochs=100" in train.source
    carol = {k[2]: v[0] for k, v in scores(course).items() if k[0] == "carol"}
    assert carol["spotify_q3_val_loss"] == 2
    assert autograded(course, "alice") == FULL and autograded(course, "bob") == 0


def test_autograde_forks_kernels_and_serves_trainings_as_a_cold_run_would(course):
    """The kit's fast path under nbgrader: kernels forked (where the sandbox is bubblewrap), the
    trainings of answers seen before reused, and carol's grades and test outputs (one wrong
    answer, one right) the same as when every cell ran in her kernel."""
    from grader.running import sandbox

    said = kit_summaries((course / "autograde.log").read_text())
    assert set(said) == {("alice", "spotify"), ("alice", "wine"), ("bob", "spotify"), ("bob", "wine"),
                         ("carol", "spotify"), ("erin", "spotify")}, said
    forked = sandbox.status().layer == "bubblewrap"
    assert all(("forked from the kit's warm process" in line) == forked for line in said.values()), said
    if sandbox.status().active:  # the cache is used only where student code is contained
        # carol's Q1 (dropout 0.7) is hers alone; the demonstration and Q3 are alice's (the two
        # processes deal alice and carol to the same one, alice first)
        assert "3 of 3 trainings served by the training cache (2 reused, 1 trained" in said[("carol", "spotify")], said
        li = kit_summaries((course / "autograde-zh.log").read_text())[("li", "spotify")]
        assert "3 of 3 trainings served by the training cache (3 reused" in li, li  # the same trainings in Chinese
    fast, cold = FAST_AND_COLD[course]
    assert fast == cold and len(fast) == 4, (fast, cold)  # spotify: two questions, architecture and val_loss
    cold_said = kit_summaries((course / "autograde-cold.log").read_text())
    assert "trainings in the notebook (no training cache here)" in cold_said[("carol", "spotify")], cold_said


def test_the_class_is_autograded_by_several_nbgrader_processes(course):
    """The command shares the class among the nbgrader processes it is told to use, each notebook
    autograded once, by nbgrader's own code, into the one gradebook; the process whose student's
    kernel died is named."""
    log = (course / "autograde.log").read_text()
    # alice, bob, carol and erin (li took the Chinese release)
    assert f"autograding 4 submissions in {SUITE_PROCESSES} nbgrader processes at once" in log, log[-3000:]
    assert "the nbgrader process that autograded" in log and "erin" in log.split("the nbgrader process that")[-1]
    assert len(kit_summaries(log)) == 6  # and each notebook once (kit_summaries checks it)
    assert autograded(course, "bob") == 0 and autograded(course, "alice") == FULL


def kit_summaries(log: str) -> dict:
    """(student, notebook) -> the kit's line about how that notebook's kernel and trainings ran."""
    import re

    found = {}
    for line in log.splitlines():
        if m := re.search(r"the kit: (.+?)/([^/]+?)\.ipynb: kernel", line):
            assert (m.group(1), m.group(2)) not in found, line  # each notebook autograded once
            found[(m.group(1), m.group(2))] = line
    return found


def test_a_notebook_under_another_name_is_named_in_the_log(course):
    """nbgrader grades only wine.ipynb: carol's "Copy of wine.ipynb" is named, with what to do."""
    log = (course / "autograde.log").read_text()
    assert ("Copy of wine.ipynb in carol's dropout-batchnorm holds the wine notebook, but nbgrader grades only "
            "wine.ipynb, which is missing") in log, log[-3000:]
    assert log.count("Copy of wine.ipynb in carol's") == 1
    assert autograded(course, "carol", "wine") == 0


def test_a_kernel_killing_submission_fails_alone(course):
    """nbgrader cannot grade erin (her kernel dies) and says so; everyone else is graded in full."""
    log = (course / "autograde.log").read_text()
    assert "Kernel died while waiting for execute reply" in log
    assert "There was an error processing assignment" in log and "submitted/erin/" in log
    assert autograded(course, "erin") == 0
    assert autograded(course, "alice") == FULL and autograded(course, "carol", "spotify") == 5


def _long_verdict_lines(page: str) -> list:
    """The lines of the kit's verdicts (Correct/Incorrect: ..., in either language) in a page's
    text wider than 80 terminal columns."""
    import html
    import re

    from grader.judging.verdict import _width

    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    verdicts = [line for line in text.splitlines() if re.match(r"\s*(Correct|Incorrect|正确|不正确)[:：]", line)]
    assert verdicts, "no verdict in the page"
    return [line for line in verdicts if _width(line) > 80]


def test_feedback_has_no_hidden_tests(course):
    feedback = sorted((course / "feedback").rglob("*.html"))
    assert len(feedback) >= 2 + 2 + 1  # alice, bob, carol (and erin's, if nbgrader wrote one)
    for page in feedback:
        text = page.read_text()
        assert "assert_val_loss" not in text and "HIDDEN TESTS" not in text
        assert "[kit: " not in text  # the verdict tags are for the class overview only
        assert "most recent call last" not in text  # a test cell shows its message, not the kit's traceback
        assert not _long_verdict_lines(text), page  # wrapped: no sideways scrolling
    bob = (course / "feedback" / "bob" / ASSIGNMENT / "wine.html").read_text()
    assert "The architecture is not the expected one" in bob  # what the hidden test said is kept


def test_csv_export_has_one_row_per_student_with_the_right_scores(course):
    with open(course / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle) if row["assignment"] == ASSIGNMENT}
    assert {"alice", "bob", "carol"} <= set(rows)
    assert float(rows.get("erin", {"raw_score": 0})["raw_score"]) == 0
    assert float(rows["alice"]["raw_score"]) == FULL
    assert float(rows["bob"]["raw_score"]) == 0
    assert float(rows["carol"]["raw_score"]) == autograded(course, "alice", "spotify") - 5 == 5


def test_tensorflow_noise_never_costs_points(course):
    """No test cell of a right answer wrote to stderr (nbgrader would have zeroed it)."""
    graded = nbformat.read(course / "autograded" / "alice" / ASSIGNMENT / "wine.ipynb", as_version=4)
    for cell in graded.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert not [o for o in cell.get("outputs", []) if o.get("name") == "stderr"], cell.source


def test_class_overview_from_the_gradebook(course):
    """`python -m grader overview` after `nbgrader autograde`: scores from the gradebook, what the
    checks said and the free-response answers from the autograded notebooks."""
    result = subprocess.run([sys.executable, "-m", "grader", "overview", str(course), "--from", "gradebook"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((course / "kit-overview.json").read_text())
    assert data["scores"]["alice"] == FULL and data["scores"]["bob"] == 0 and data["scores"]["carol"] == 5
    assert data["ungradeable"] == ["erin"] and data["not_attempted"] == ["bob"]
    q1 = data["questions"]["spotify_q1"]
    assert [(group["mistake"], group["students"]) for group in q1["mistakes"]] == [("dropout-rate", ["carol"])]
    assert 0 < data["questions"]["spotify_q1"]["val_losses"]["alice"] <= q1["band"]["threshold"]
    answers = {a["student"] for a in data["questions"]["spotify_q4"]["answers"]}
    assert answers == {"alice", "carol", "li"} and data["questions"]["spotify_q4"]["unanswered"] == ["bob"]
    page = (course / "kit-overview.html").read_text()
    assert "erin" in page and "nbgrader could not autograde it" in page


def test_a_chinese_submission_is_autograded_in_chinese(course):
    """nbgrader autogrades the Chinese release like the English one; its checks speak Chinese."""
    li = {k[2]: v[0] for k, v in scores_of(course, ASSIGNMENT_ZH).items() if k[0] == "li"}
    assert li and all(li[f"{q.id}_{part}"] == getattr(q, f"points_{part}")
                      for q in CODING if q.notebook == "spotify" for part in ("architecture", "val_loss"))
    graded = nbformat.read(course / "autograded" / "li" / ASSIGNMENT_ZH / "spotify.ipynb", as_version=4)
    architecture = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q1_architecture")
    assert "正确：模型有预期的 5 层，顺序正确。" in "".join(o.get("text", "") for o in architecture.outputs)
    feedback = (course / "feedback" / "li" / ASSIGNMENT_ZH / "spotify.html").read_text()
    assert "正确：" in feedback and "assert_val_loss" not in feedback and "隐藏测试" in feedback
    result = subprocess.run([sys.executable, "-m", "grader", "overview", str(course), "--from", "gradebook",
                             "--lang", "zh_CN"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((course / "kit-overview.json").read_text())
    assert data["language"] == "zh_CN" and data["languages"] == {"en": 4, "zh_CN": 1}
    assert data["scores"]["li"] == 10 and data["questions"]["spotify_q1"]["title"] == "spotify Q1 暂退层"
    assert "班级概览" in (course / "kit-overview.html").read_text()


def test_the_internals_assignment_is_autograded(course):
    """Under the hood: the solutions get every point, the release none, each check says why."""
    from grader.internals.questions import QUESTIONS, SWAP_IN

    cells = scores_of(course, INTERNALS)
    zoe = {k[2]: v[0] for k, v in cells.items() if k[0] == "zoe"}
    yan = {k[2]: v[0] for k, v in cells.items() if k[0] == "yan"}
    full = {f"{q.id}_test": q.points for q in QUESTIONS}
    full.update({f"{SWAP_IN.id}_architecture": SWAP_IN.points_architecture,
                 f"{SWAP_IN.id}_val_loss": SWAP_IN.points_val_loss})
    assert zoe == full  # Q4: the concrete model trained with zoe's own layers lands in the Keras band
    assert yan == {cell: 0 for cell in full}
    graded = nbformat.read(course / "autograded" / "yan" / INTERNALS / "internals.ipynb", as_version=4)
    test = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "internals_q3_test")
    assert "MyBatchNormalization` is still the starter code" in test.outputs[-1]["evalue"]


def test_the_internals_overview_from_the_gradebook_names_mistakes_and_who_did_not_attempt(course):
    """The internals test cells tag their verdicts under autograde, as the lesson's do: the overview
    read from nbgrader names yan's Q1 mistake and counts her Q2-Q4 as not attempted."""
    result = subprocess.run([sys.executable, "-m", "grader", "overview", str(course), "--from", "gradebook",
                             "--assignment", "internals"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((course / "kit-overview-internals.json").read_text())
    q1, q2, q3, q4 = data["questions"].values()
    assert q1["mistakes"] == [{"mistake": "dropout-not-inverted", "title": q1["mistakes"][0]["title"], "students": ["yan"]}]
    assert [(q["passed"], q["attempted"], q["students"]) for q in (q1, q2, q3, q4)] == [(1, 2, 2)] + [(1, 1, 2)] * 3
    page = (course / "feedback" / "yan" / INTERNALS / "internals.html").read_text()
    assert "[kit: " not in page and "The kept units are unchanged" in page  # the tags are for the overview only


KERNEL_LEFTOVERS = (".cache", ".ipython", ".config", ".local", ".keras", ".matplotlib")


def test_through_the_exchange_each_student_gets_only_their_own_feedback_in_their_language(course):
    exchange = EXCHANGES[course]
    for student, assignment, notebooks, lang in (("alice", ASSIGNMENT, {"wine", "spotify"}, "en"),
                                                 ("li", ASSIGNMENT_ZH, {"spotify"}, "zh_CN")):
        with use(lang):
            verdict_word = t("verdict.correct", message="|").split("|")[0]  # "Correct: " / "正确："
        home = exchange.home(student)
        pages = sorted((home / assignment / "feedback").rglob("*.html"))
        assert {page.stem for page in pages} == notebooks, pages
        for page in pages:
            text = page.read_text(encoding="utf-8")
            assert f"MARK-{student}" in text and verdict_word in text, page
        other = "li" if student == "alice" else "alice"
        for path in home.rglob("*"):
            if path.is_file():
                assert f"MARK-{other}" not in path.read_text(encoding="utf-8", errors="replace"), path
    assert autograded(course, "alice") == FULL
    li = scores_of(course, ASSIGNMENT_ZH)
    assert sum(auto for (s, _, gid), (auto, _, _) in li.items() if s == "li" and not gid.endswith("_answer")) == 10


def test_no_kernel_home_cache_is_left_for_release_feedback_to_hand_out(course):
    exchange = EXCHANGES[course]
    folders = [course / "autograded", course / "feedback", exchange.root,
               *(exchange.home(s) / a / "feedback" for s, a in (("alice", ASSIGNMENT), ("li", ASSIGNMENT_ZH)))]
    leftovers = [path for folder in folders for path in folder.rglob("*") if path.name in KERNEL_LEFTOVERS]
    assert not leftovers, leftovers


def test_validate_told_the_students_at_once_without_the_kits_code(course):
    """li before answering (the starter, in Chinese, in seconds), alice after (her wine passes)."""
    exchange = EXCHANGES[course]
    said = {student: [out for args, out in logs if args[0] == "validate"] for student, logs in exchange.logs.items()}
    assert said["alice"] and said["li"]
    for student, outputs in said.items():
        for out in outputs:
            assert "Traceback" not in out and "[kit:" not in out and "site-packages" not in out, out[-2000:]
    assert "Success! Your notebook passes all the tests." in said["alice"][0], said["alice"][0][-2000:]
    with use("zh_CN"):
        starter = t("model.starter")
    assert "VALIDATION FAILED" in said["li"][0] and starter[:20] in said["li"][0], said["li"][0][-2000:]


FORMGRADER_AUTOGRADE = """import json
from traitlets.config.loader import PyFileConfigLoader
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(CourseDirectory(root=".", config=config), config=config)
print(json.dumps(api.autograde("dropout-batchnorm", "alice", force=True, create=True)))"""


def test_formgraders_autograde_button_takes_the_same_fast_path(course):
    """formgrader's Autograde button (its API call, as formgrader makes it) on alice again: her
    kernels forked, every training reused, her grades unchanged."""
    from grader.running import sandbox

    button = subprocess.run([sys.executable, "-c", FORMGRADER_AUTOGRADE], cwd=course, env=nbgrader_env(),
                            capture_output=True, text=True, timeout=900)
    answer = json.loads(button.stdout.strip().splitlines()[-1])
    assert answer["success"] is True, answer
    said = [line for line in answer["log"].splitlines() if ": kernel " in line and "the kit: alice/" in line]
    assert len(said) == 2, answer["log"][-3000:]  # wine and spotify
    if sandbox.status().layer == "bubblewrap":
        assert all("forked from the kit's warm process" in line for line in said), said
    if sandbox.status().active:
        for served in ("3 of 3 trainings served by the training cache (3 reused, 0 trained",  # spotify
                       "1 of 1 trainings served by the training cache (1 reused, 0 trained"):  # wine
            assert sum(served in line for line in said) == 1, said
    assert autograded(course, "alice") == FULL
