"""Grade one submission (a folder or a notebook): run each notebook once, then judge it.

This is the engine behind ``pytest grader``, ``python -m grader`` and the batch command.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .results import QuestionResult, architecture_gate, grade_notebook
from ..running.recognise import language_by_text
from ..running.harness import (DEFAULT_CELL_TIMEOUT, DEFAULT_MEMORY_LIMIT, NotebookRun, SubmissionError,
                               notebook_held, read_submission, run_notebook)
from ..assignments import Assignment, all_assignments, by_key, default, of_notebook, questions_of
from ..base.i18n import language as current_language
from ..base.i18n import normalize, t, use
from ..base.quiet import import_tensorflow
from ..base.student_errors import plain
from ..running.sandbox import SandboxStatus, preflight
from ..running.trainer import TrainingSession
from ..running.training_cache import default_cache
from ..judging.verdict import Verdict


@dataclass
class NotebookResult:
    notebook: str
    path: str | None
    results: list  # QuestionResult
    error: str | None = None  # the whole notebook could not be graded
    missing: bool = False  # not handed in
    seconds: float = 0.0
    run: NotebookRun | None = None


@dataclass
class SubmissionReport:
    submission: str
    notebooks: list = field(default_factory=list)
    seconds: float = 0.0
    sandbox: SandboxStatus | None = None  # None: not graded yet
    language: str = "en"  # of the feedback: the notebooks' own, or the one asked for
    assignment: Assignment | None = None  # which of the kit's assignments was graded
    set_aside: list = field(default_factory=list)  # files of the folder not graded, each with why

    @property
    def results(self) -> list[QuestionResult]:
        return [r for nb in self.notebooks for r in nb.results]

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results if not r.manual)

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.results if not r.manual)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if not r.manual)

    @property
    def release(self) -> str:
        """The nbgrader assignment name of the graded release (its language's)."""
        unit = self.assignment or default()
        return unit.releases.get(self.language, unit.name)

    def to_dict(self) -> dict:
        """The report as data, its messages in the report's language."""
        with use(self.language):
            return self._as_dict()

    def _as_dict(self) -> dict:
        return {
            "assignment": self.release,
            "language": self.language,
            "submission": self.submission,
            "points": self.points,
            "max_points": self.max_points,
            "passed": self.passed,
            "seconds": round(self.seconds, 2),
            "sandbox": bool(self.sandbox and self.sandbox.active),
            "sandbox_layer": self.sandbox.layer if self.sandbox else None,
            "sandbox_detail": self.sandbox.reason if self.sandbox else None,
            "grader_peak_mb": _peak_mb(),
            "set_aside": list(self.set_aside),
            "notebooks": [
                {"notebook": nb.notebook, "path": nb.path, "error": nb.error, "missing": nb.missing,
                 "seconds": round(nb.seconds, 2),
                 "kernel_peak_mb": nb.run.kernel_peak_mb if nb.run else None,
                 "problems": [{"cell": p.index, "kind": p.kind, "exception": p.ename, "message": plain(p.evalue),
                               "traceback": p.traceback} for p in (nb.run.problems if nb.run else [])],
                 "questions": [r.to_dict() for r in nb.results]}
                for nb in self.notebooks
            ],
        }


def _import_keras_in_background():
    """The grader needs Keras to read the exported models; importing it (about 5 s) while the
    first kernel starts hides that cost behind the kernel's own start-up. While it runs, file
    descriptor 2 is silenced (see quiet.py): ``grade`` waits for it before it returns or raises,
    so that no message of the caller's is lost."""
    import threading

    def load():
        try:
            import_tensorflow()
        except ImportError:
            pass

    thread = threading.Thread(target=load, daemon=True, name="import-keras")
    thread.start()
    return thread


def _peak_mb() -> float | None:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:  # not on Windows
        return None


def identify(path: Path, unit: Assignment | None = None) -> str:
    """Which of the kit's notebooks a file is: by its cells' grade ids, else their cell ids,
    else their text (recognise.which_notebook); ``unit``: the assignment being graded, which the
    message names when the file is none of its notebooks."""
    name = notebook_held(path)
    if name is None:
        raise _foreign(path, [unit] if unit else list(all_assignments()))
    return name


def _foreign(path: Path, units: list) -> SubmissionError:
    """A file that is none of the notebooks of ``units``: the error names what was expected."""
    notebooks = [name for each in units for name in each.notebooks]
    return SubmissionError(t("submission.foreign", file=path.name, assignment=" / ".join(each.name for each in units),
                             notebooks=" / ".join(notebooks), files=", ".join(f"{n}.ipynb" for n in notebooks)))


def _folder_of(target: Path, unit: Assignment) -> Path:
    """Where a unit's notebooks are in a folder: its release subfolder, else the folder itself."""
    return next((target / name for name in unit.releases.values() if (target / name).is_dir()), target)


def assignments_in(target: Path) -> list:
    """The kit's assignments that have notebooks in a submission folder (or of a notebook file),
    whatever the files are named."""
    target = Path(target)
    if target.is_file():
        try:
            return [of_notebook(identify(target))]
        except SubmissionError:
            return []
    held, found = {}, []
    for unit in all_assignments():
        folder = _folder_of(target, unit)
        if any((folder / f"{name}.ipynb").exists() for name in unit.notebooks):
            found.append(unit)
            continue
        if folder not in held:
            held[folder] = {_held(p) for p in sorted(folder.glob("*.ipynb")) if p.is_file()}
        if held[folder] & set(unit.notebooks):
            found.append(unit)
    return found


def find_notebooks(target: Path, assignment: Assignment | None = None) -> tuple:
    """(assignment, {notebook name: path}) for a folder or a single notebook file. With no
    assignment named, the first of the kit's that the folder holds. In a folder, notebooks are
    known by what they hold, whatever their file names (see choose_notebooks)."""
    unit, found, _set_aside = find_and_choose(target, assignment)
    return unit, found


def find_and_choose(target: Path, assignment: Assignment | None = None) -> tuple:
    """find_notebooks, with a line for each file of the folder that was set aside."""
    target = Path(target)
    if not target.exists():
        raise SubmissionError(t("submission.no-such-path", path=target))
    if target.is_file():
        name = identify(target)
        unit = of_notebook(name)
        if assignment is not None and unit is not assignment:
            raise _foreign(target, [assignment])
        return unit, {name: target}, []
    candidates = [assignment] if assignment is not None else (assignments_in(target) or [default()])
    unit = candidates[0]
    folder = _folder_of(target, unit)
    found, set_aside = choose_notebooks(folder, unit)
    if not found:
        raise SubmissionError(t("submission.no-notebooks", path=target, folder=folder))
    return unit, found, set_aside


def choose_notebooks(folder: Path, unit: Assignment) -> tuple[dict, list]:
    """{notebook name: file} of ``unit`` in ``folder``, and a line for each file set aside.

    A file named exactly ``<notebook>.ipynb`` is taken for that notebook. Any other ``.ipynb``
    is known by its cells ("Copy of spotify.ipynb", "spotify (1).ipynb", Kaggle's
    "exercise-dropout-and-batch-normalization.ipynb"). Where two files hold the same notebook,
    the one named exactly wins, else the first by file name; the other is named, never dropped
    in silence."""
    found = {name: folder / f"{name}.ipynb" for name in unit.notebooks if (folder / f"{name}.ipynb").is_file()}
    taken = set(found.values())
    set_aside = []
    for path in sorted(p for p in folder.glob("*.ipynb") if p.is_file() and p not in taken):
        name = _held(path)
        if name is None or name not in unit.notebooks:
            continue  # not one of this assignment's notebooks: the student's own
        if name in found:
            set_aside.append(t("submission.duplicate", file=path.name, kept=found[name].name, notebook=name))
        else:
            found[name] = path
    return found, set_aside


def _held(path: Path) -> str | None:
    """Which of the kit's notebooks a file holds, or None (unreadable, or none of them)."""
    try:
        return notebook_held(path)
    except SubmissionError:
        return None


def failed_results(notebook: str, message: str) -> list[QuestionResult]:
    """Every question of ``notebook`` failed with ``message`` (a notebook that could not be graded)."""
    from ..base.kinds import CodingQuestion, FreeResponse

    results = []
    for q in questions_of(notebook):
        result = QuestionResult(q, manual=isinstance(q, FreeResponse))
        if isinstance(q, CodingQuestion):
            result.parts["architecture"] = (Verdict(False, message), q.points_architecture)
            result.parts["val_loss"] = (Verdict(False, t("result.not-graded", reason=message)), q.points_val_loss)
        elif not result.manual:
            result.parts["check"] = (Verdict(False, message), q.points)
        results.append(result)
    return results


def grade(target, notebooks=None, cell_timeout: int = DEFAULT_CELL_TIMEOUT,
          memory_limit: int | None = DEFAULT_MEMORY_LIMIT, progress=None, workdir: Path | None = None,
          expect_all: bool = True, cache="default", lang: str | None = None,
          assignment: str | None = None, on_notebook=None) -> SubmissionReport:
    """Grade a submission folder or notebook. A notebook that cannot run fails only its questions.

    ``cache``: the training cache ("default": DROPOUT_KIT_TRAINING_CACHE or the user cache
    folder; None: every model trains in its notebook). ``lang``: the language of the feedback
    (default: the language the notebooks were released in). ``assignment``: which of the kit's
    assignments to grade in a folder that holds several (default: the first it holds).
    ``on_notebook``: called with the report so far each time a notebook is graded (a platform
    that may end the run writes what is finished)."""
    started = time.perf_counter()
    if cache == "default":
        cache = default_cache()
    with use(lang):  # messages before the notebooks are read: the asked or ambient language
        unit, found, set_aside = find_and_choose(Path(target), by_key(assignment) if assignment else None)
        language = normalize(lang) or submission_language(found) or current_language()
    if set_aside:  # said in the notebooks' language, known only now (which file holds what is remembered)
        with use(language):
            set_aside = find_and_choose(Path(target), by_key(assignment) if assignment else None)[2]
    loading = _import_keras_in_background()  # after the look for notebooks: a usage error is told at once
    try:
        with use(language):
            return _grade(target, found, language, notebooks or unit.notebooks, cell_timeout, memory_limit,
                          progress, workdir, expect_all, started, cache, unit, set_aside, on_notebook)
    finally:
        loading.join()


def submission_language(found: dict) -> str | None:
    """The language the submitted notebooks were released in (the first that says)."""
    from ..base.notebook_cells import notebook_language

    for name in found:
        try:
            nb = read_submission(found[name])
        except SubmissionError:
            continue
        lang = notebook_language(nb) or language_by_text(nb)  # its metadata, else its text
        if lang:
            return lang
    return None


def _grade(target, found, language, notebooks, cell_timeout, memory_limit, progress, workdir, expect_all, started,
           cache, unit, set_aside, on_notebook) -> SubmissionReport:
    from ..base.data import manifest, locate

    for name in manifest():  # verify (or download) the data here: the sandboxed kernel cannot
        locate(name)
    report = SubmissionReport(str(target), sandbox=preflight(memory_limit), language=language)  # GraderUnavailable
    report.assignment, report.set_aside = unit, set_aside
    names = [n for n in notebooks if n in found or expect_all and Path(target).is_dir()]
    with tempfile.TemporaryDirectory(prefix="kit-grade-") as scratch, contextlib.ExitStack() as cleanup:
        training = None
        # Unsandboxed, student code could write the cache and poison other students' grades: no cache.
        if cache is not None and report.sandbox.active:
            training = TrainingSession(cache, dict(os.environ), Path(scratch), memory_limit)
            cleanup.callback(training.close)
            training.start()
        for name in names:
            t0 = time.perf_counter()
            if name not in found:
                missing = t("submission.missing", notebook=name)
                report.notebooks.append(NotebookResult(name, None, failed_results(name, missing), error=missing,
                                                       missing=True))
                if on_notebook is not None:
                    on_notebook(report)
                continue
            folder = Path(workdir or scratch) / name
            try:
                if identify(found[name], of_notebook(name)) != name:
                    raise SubmissionError(t("submission.other-notebook", file=found[name].name, notebook=name))
                run = run_notebook(found[name], name, folder, cell_timeout=cell_timeout,
                                   memory_limit=memory_limit, progress=progress,
                                   architecture_gate=architecture_gate, training=training)
            except SubmissionError as error:
                report.notebooks.append(NotebookResult(name, str(found[name]), failed_results(name, str(error)), error=str(error),
                                                       seconds=time.perf_counter() - t0))
            else:
                report.notebooks.append(NotebookResult(name, str(found[name]), grade_notebook(run),
                                                       seconds=time.perf_counter() - t0, run=run))
            if on_notebook is not None:
                on_notebook(report)
    report.seconds = time.perf_counter() - started
    return report
