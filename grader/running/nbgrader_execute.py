"""nbgrader's Execute step with the kit's contained kernels, checked at run time, and the kit's
fast path: kernels forked from the warm fork server, trainings served by the training cache.

nbgrader's Execute sets its own kernel manager class when it is created, and the class that
``nbgrader_config.py`` names takes effect only because nbconvert configures the step again
afterwards: an upgrade that changed that order would start every student's kernel uncontained,
silently. This step names the kit's class itself, and before each kernel starts it checks that
the manager really is the kit's and that a sandbox layer runs (the preflight, once per process),
so that the CLI and formgrader's Autograde button both stop before any grade is written.

The fast path changes how a notebook's cells run, never what nbgrader writes: nbgrader still
runs every cell in order in the student's kernel, in the student's autograded folder, and writes
the gradebook, the autograded notebook and the feedback itself. What differs is where a kernel
comes from (forked, where the sandbox is bubblewrap: the fork server is told to serve the course's
autograded folder) and what a training cell does: its released compile-and-fit is replaced by the
result the kit's trainer produced for exactly the same state (harness.train_via_cache, as
``python -m grader`` and batch do), so a class of the same answers costs one training per
distinct training, not one per student. Student code never reads or writes the cache: it lives
outside the sandbox, and only the trainer, which runs the kit's code alone, produces entries.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from nbgrader.preprocessors import Execute

from . import sandbox
from ..assignments import all_assignments
from ..base.kinds import CodingQuestion
from .harness import NotebookRun, train_via_cache, training_position

TRAINING_FOLDER = ".kit-training"  # in the autograded folder while the notebook runs, removed after


def require_contained(manager, roots: tuple = ()) -> None:
    """Raise GraderUnavailable unless ``manager`` starts the kit's contained kernels, and they run
    (a kernel started as the students' are, from the same fork server: ``roots``)."""
    expected = sandbox.NbgraderKernelManager
    if not isinstance(manager, expected):
        raise sandbox.GraderUnavailable(
            f"nbgrader would start a kernel with {type(manager).__module__}.{type(manager).__name__}, not the kit's "
            f"contained kernel manager (grader.sandbox.NbgraderKernelManager): student code would run with your rights. "
            "No grade was written. Check nbgrader_config.py and the nbgrader version.")
    sandbox.preflight(manager=expected, roots=tuple(roots))


def training_question(cell) -> CodingQuestion | None:
    """The question whose released training a code cell runs (its training cell, or a
    demonstration that trains with the same protocol), by the cell's nbgrader grade id and source."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    if cell.get("cell_type") != "code" or not grade_id:
        return None
    for unit in all_assignments():
        for question in unit.questions:
            if (isinstance(question, CodingQuestion) and grade_id.startswith(question.notebook + "_")
                    and training_position(cell.source, question.protocol.compile_and_fit_source()) is not None):
                return question
    return None


def autograded_root(folder: Path, resources: dict) -> Path:
    """The folder that holds every student's autograded folder (``autograded/`` in nbgrader's
    layout ``autograded/<student>/<assignment>``), else ``folder`` itself."""
    told = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
    if folder.parts[-2:] == (str(told.get("student", "")), str(told.get("assignment", ""))):
        return folder.parents[1]
    return folder


def submitted_folder(folder: Path, resources: dict) -> Path:
    """The student's folder in nbgrader's ``submitted/`` (autograde copies only the notebooks it
    grades into ``autograded/``), else ``folder`` itself."""
    told = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
    root = autograded_root(folder, resources)
    if root == folder:
        return folder
    submitted = root.parent / "submitted" / str(told.get("student", "")) / str(told.get("assignment", ""))
    return submitted if submitted.is_dir() else folder


_TOLD: set = set()  # (folder, file) already told in this process: one line per file, not per notebook


def renamed_notebooks(folder: Path) -> list[str]:
    """Lines for the files of a student's folder that hold one of the kit's notebooks under
    another name: nbgrader grades only ``<notebook>.ipynb``, so the instructor is told, never
    left to find a zero."""
    from ..assignments import of_notebook
    from .harness import SubmissionError, notebook_held

    lines = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            name = notebook_held(path)
        except SubmissionError:
            continue
        if name is None or path.name == f"{name}.ipynb" or (folder, path.name) in _TOLD:
            continue
        _TOLD.add((folder, path.name))
        graded = "is graded instead" if (folder / f"{name}.ipynb").exists() else "is missing, so it gets no points"
        lines.append(f"the kit: {path.name} in {folder.parent.name}'s {folder.name} holds the {name} notebook, but "
                     f"nbgrader grades only {name}.ipynb, which {graded}. Rename the file in submitted/ and "
                     f"autograde again, or grade the class with `python -m grader batch` (it finds notebooks by "
                     f"their cells; assignment {of_notebook(name).name}).")
    return lines


class _Trainings:
    """One notebook's training session: the cache, and a trainer started only on a miss."""

    def __init__(self, cache, workdir: Path):
        from .trainer import TrainingSession

        self.scratch = Path(tempfile.mkdtemp(prefix="kit-nbgrader-"))
        self.session = TrainingSession(cache, dict(os.environ), self.scratch)
        self.folder = workdir / TRAINING_FOLDER
        self.run = NotebookRun("nbgrader")
        self.said: set = set()
        self.trainings = 0  # training cells met

    def close(self) -> None:
        self.session.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _training_cache():
    """The training cache where it is safe (a sandbox layer runs) and not turned off."""
    from .training_cache import default_cache

    return default_cache() if sandbox.status().active else None


class ContainedExecute(Execute):
    """Execute, whose kernels are the kit's, checked before each one starts, forked where they
    can be, and whose training cells go through the training cache."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = sandbox.NbgraderKernelManager
        super().__init__(*args, **kwargs)
        self._roots: tuple = ()
        self._trainings: _Trainings | None = None
        self._manager = None
        self._whose = "notebook"

    def preprocess(self, nb, resources=None, km=None):
        folder = Path(((resources or {}).get("metadata") or {}).get("path") or os.getcwd()).resolve()
        told = (resources or {}).get("nbgrader", {}) if isinstance(resources, dict) else {}
        # the line names its notebook: a class autograded by several processes interleaves their logs
        self._whose = f"{told.get('student', folder.parent.name)}/{told.get('notebook', 'notebook')}.ipynb"
        self._roots = (str(autograded_root(folder, resources or {})),)
        cache = _training_cache()
        self._trainings = _Trainings(cache, folder) if cache is not None else None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.log.info("%s", self._summary())
            for line in renamed_notebooks(submitted_folder(folder, resources or {})):
                self.log.warning("%s", line)
            if self._trainings is not None:
                self._trainings.close()
                self._trainings = None

    def _summary(self) -> str:
        """One line per notebook: how its kernel started and where its trainings came from (and
        why a training could not be served, unless that was said as it happened)."""
        kernel = "forked from the kit's warm process" if getattr(self._manager, "forked", False) else "started cold"
        if self._trainings is None:
            return f"the kit: {self._whose}: kernel {kernel}; trainings in the notebook (no training cache here)"
        run = self._trainings.run
        unsaid = [f"{qid}: {note}" for qid, note in run.training.items() if f"{qid}: {note}" not in self._trainings.said]
        reused = sum(1 for _, hit in run.served if hit)
        return (f"the kit: {self._whose}: kernel {kernel}; {len(run.served)} of {self._trainings.trainings} trainings served by the "
                f"training cache ({reused} reused, {len(run.served) - reused} trained by the kit)"
                + "".join(f"; {line}" for line in unsaid))

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        require_contained(manager, self._roots)
        manager.fork_roots = self._roots
        self._manager = manager  # nbclient lets go of it when the kernel ends
        return manager

    def preprocess_cell(self, cell, resources, index):
        question = training_question(cell) if self._trainings is not None else None
        if question is not None:
            self._check_assign_resources(resources)
            trainings = self._trainings
            executed = train_via_cache(self, cell, index, question, trainings.folder / f"{index}-{question.id}",
                                        trainings.session, trainings.run, self._say)
            trainings.trainings += 1
            if executed is not None:
                self.nb.cells[index] = executed
                return executed, self.resources
        return super().preprocess_cell(cell, resources, index)

    def _say(self, message: str) -> None:
        self._trainings.said.add(message)
        self.log.info("%s", message)
