"""Run a submitted notebook in a fresh Jupyter kernel and export what the checks need.

The harness executes the *canonical* notebook (built from ``notebook_source``) with the
student's answer cells and extra cells put in, so a locked cell that a student edited or
deleted runs as released. Test cells and demonstrations are skipped: grading re-derives its
verdicts in its own process from the exported models. After each question's training cell an
export cell saves the model (``.keras``) and history; it carries a fresh nonce, so files that
student code wrote in advance are recognised as stale.

Errors stay local: a cell that raises or times out marks its question; a kernel that dies is
restarted, the setup cells re-run, and grading goes on with the next question.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import sandbox
from ..assignments import of_notebook, questions_of
from ..base.notebook_cells import NOT_GRADED_TAGS
from ..base.kinds import CodingQuestion
from ..base.i18n import t
from ..base.student_errors import described, plain, raised
from .recognise import label, released, which_notebook
from .sandbox import DEFAULT_MEMORY_LIMIT, Exposure, GraderUnavailable, kernel_manager_class, verified_data_files

DEFAULT_CELL_TIMEOUT = 300
MAX_OUTPUT_CHARS = 20_000  # per cell: a flood of prints is cut, not kept in memory


class SubmissionError(Exception):
    """The submission file cannot be read as a notebook; the message says why."""


@dataclass
class CellProblem:
    grade_id: str
    index: int  # 1-based position of the cell in the student's view of the canonical notebook
    kind: str  # "error", "timeout", "dead kernel"
    ename: str = ""
    evalue: str = ""
    traceback: str = ""  # for the instructor's JSON report: the student reads ``describe()``

    def mistake(self) -> str:
        """The id that groups a class by what stopped the cell (code words, every language alike)."""
        return {"timeout": "answer-timeout", "dead kernel": "answer-kernel-died"}.get(self.kind, raised(self.ename))

    def describe(self) -> str:
        if self.kind == "dead kernel" and self.grade_id == "kernel":
            return t("problem.kernel-gone")
        where = cell_label(self.grade_id)
        if self.kind == "timeout":
            return t("problem.timeout", where=where)
        if self.kind == "dead kernel":
            return t("problem.kernel-died-detail" if self.evalue else "problem.kernel-died", where=where,
                     detail=self.evalue)
        if self.ename in OUT_OF_MEMORY:
            shape = _memory_detail(self.evalue)
            return t("problem.out-of-memory-shape", where=where, shape=shape) if shape else t(
                "problem.out-of-memory", where=where)
        return t("problem.raised", where=where, error=described(self.ename, self.evalue))


OUT_OF_MEMORY = ("MemoryError", "ResourceExhaustedError")  # NumPy and Python; TensorFlow's allocator


def _memory_detail(evalue: str) -> str:
    """What could not be allocated, as TensorFlow or NumPy said it, without the op dump."""
    found = re.search(r"OOM when allocating tensor with shape\s*\[([\d, ]*)\]", evalue) or re.search(
        r"allocate [\d.]+ \w+ for an array with shape \(([\d, ]*)\)", evalue)
    return "×".join(part.strip() for part in found.group(1).split(",") if part.strip()) if found else ""


@dataclass
class NotebookRun:
    notebook: str
    exports: dict = field(default_factory=dict)  # question id -> export folder (verified nonce)
    problems: list = field(default_factory=list)  # CellProblem
    missing_cells: list = field(default_factory=list)  # answer grade ids with no answer cell
    changed_type: dict = field(default_factory=dict)  # answer grade id -> the type its cell was changed to
    answer_choice: dict = field(default_factory=dict)  # answer grade id -> (k, n): the k-th of n cells claiming it
    recognised_by: str = "grade id"  # how the notebook's cells were recognised (recognise.BY_*)
    free_answers: dict = field(default_factory=dict)  # question id -> text
    answers: dict = field(default_factory=dict)  # answer cell grade id -> the student's code
    seconds: float = 0.0
    executed: object = None  # the executed notebook (outputs capped)
    kernel_peak_mb: float | None = None  # the kernel's peak resident memory
    training: dict = field(default_factory=dict)  # question id -> how its model was trained
    reused: set = field(default_factory=set)  # question ids whose training came from the cache
    served: list = field(default_factory=list)  # (question id, reused?) of each training the cache served

    def problems_in(self, grade_ids) -> list:
        return [p for p in self.problems if p.grade_id in grade_ids]


def question_name(grade_id: str) -> str:
    """The question a cell belongs to, as the notebook heads it: spotify_q1_model -> 'spotify Q1'."""
    parts = grade_id.split("_")
    return f"{parts[0]} {parts[1].upper()}"


def cell_label(grade_id: str) -> str:
    """How a student recognises a cell: 'the training cell of spotify Q1 (spotify_q1_train)'."""
    parts = grade_id.split("_")
    if len(parts) >= 3 and parts[1].startswith("q"):
        question = question_name(grade_id)
        role = {"answer": "model"}.get(parts[2], parts[2])  # a question's answer cell, whatever it defines
        role = role if role in ("model", "train", "seed", "data") else "other"
        return t(f"cell.{role}", question=question, id=grade_id)
    if grade_id.endswith("_setup"):
        return t("cell.setup", id=grade_id)
    return t("cell.added", id=grade_id) if grade_id.startswith("after ") else grade_id


def answer_absent(run: NotebookRun, cell: str) -> tuple | None:
    """Why a question's answer cell did not run, in words (None: it ran): its cell changed type,
    or no cell of the notebook is its answer (and what the kit looked for)."""
    if cell in run.changed_type:
        kind = run.changed_type[cell]
        kind = {"markdown": t("cell-kind.markdown"), "raw": t("cell-kind.raw")}.get(kind, kind)
        return t("result.answer-changed-type", question=question_name(cell), kind=kind), "changed-type"
    if cell not in run.missing_cells:
        return None
    order = [c.grade_id for c in released(run.notebook)]
    at = order.index(cell) if cell in order else -1
    before = cell_label(order[at - 1]) if at > 0 else t("cell.start")
    after = cell_label(order[at + 1]) if 0 <= at < len(order) - 1 else t("cell.end")
    return t("result.answer-deleted", grade_id=cell, cell_id=cell.replace("_", "-"), before=before,
             after=after), "not-attempted"


def answer_note(run: NotebookRun, cell: str) -> str | None:
    """Which of several cells claiming an answer was graded, when there were several."""
    if cell not in run.answer_choice:
        return None
    k, n = run.answer_choice[cell]
    defines = next((c.defines for c in released(run.notebook) if c.grade_id == cell), frozenset())
    names = ", ".join(f"`{name}`" for name in sorted(defines)) or "`model`"
    return t("result.answer-chosen", ordinal=t(f"ordinal.{k}" if k <= 3 else "ordinal.n", n=k), count=n, names=names)


def read_submission(path: Path):
    """Read a notebook of any nbformat version, or raise SubmissionError with a clear reason."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SubmissionError(t("file.unreadable", file=Path(path).name, error=error)) from None
    if not raw.strip():
        raise SubmissionError(t("file.empty", file=Path(path).name))
    try:
        json.loads(raw)
    except json.JSONDecodeError as error:
        raise SubmissionError(t("file.not-json", file=Path(path).name, error=error.msg, line=error.lineno,
                                column=error.colno)) from None
    try:
        nb = nbformat.reads(raw, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise SubmissionError(t("file.not-notebook", file=Path(path).name, error=error)) from None
    if not isinstance(nb.get("cells"), list):
        raise SubmissionError(t("file.no-cells", file=Path(path).name))
    return nb


def notebook_held(path: Path) -> str | None:
    """Which of the kit's notebooks a file holds (recognise.which_notebook), None for none of
    them; SubmissionError where it cannot be read. Remembered per file version: a folder's files
    are looked at to choose them, then again to grade them."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        info = None
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size) if info else None
    if key is not None and key in _HELD:
        return _HELD[key]
    name = which_notebook(read_submission(path))
    if key is not None:
        if len(_HELD) >= HELD_KEPT:  # a worker grading a large class: bounded
            _HELD.clear()
        _HELD[key] = name
    return name


_HELD: dict = {}
HELD_KEPT = 4096


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def assemble(student, notebook: str):
    """The canonical notebook with the student's answers and extra code cells put in, in the
    order the student's notebook runs them; and what was made of the student's cells. Cells are
    recognised by recognise.label (grade id, cell id, text, place): a notebook that lost its
    metadata is assembled like one that kept it. Of the code cells that claim an answer, the
    chosen one is the answer and the others run where they stand; an answer cell that is no
    longer code never runs."""
    canonical = of_notebook(notebook).builders[notebook]()
    labels = label(student, notebook)
    roles = {c.grade_id: c.role for c in released(notebook)}
    answers, free, extras, anchor = {}, {}, {}, None
    for i, cell in enumerate(student.cells):
        gid, code = labels.of[i], cell.get("cell_type") == "code"
        if gid is not None and roles[gid] == "free":
            free.setdefault(gid, []).append(cell.get("source", ""))
        elif gid is not None and roles[gid] == "answer" and code and labels.chosen.get(gid) == i:
            answers[gid] = cell
        elif gid is None or roles[gid] == "answer" and code:  # an added cell, or a copy of an answer
            if code and cell.get("source", "").strip():
                extras.setdefault(anchor, []).append(cell.source)
            continue
        anchor = gid
    assembled, missing = [], []
    for source in extras.get(None, []):
        assembled.append(nbformat.v4.new_code_cell(source, metadata={"kit": {"role": "extra"}}))
    for cell in canonical.cells:
        gid = _grade_id(cell)
        meta = cell.metadata["nbgrader"]
        if meta.get("solution"):
            if cell.cell_type == "code":
                if gid not in answers:
                    missing.append(gid)
                source = answers[gid].source if gid in answers else ""
                assembled.append(nbformat.v4.new_code_cell(source, metadata={"kit": {"role": "answer", "grade_id": gid}}))
            else:
                if gid not in free:
                    missing.append(gid)
                text = "\n\n".join(free.get(gid, []))
                assembled.append(nbformat.v4.new_markdown_cell(text, metadata={"kit": {"role": "free", "grade_id": gid}}))
        elif cell.cell_type == "code" and not _is_test(cell) and not set(NOT_GRADED_TAGS) & set(cell.metadata.get("tags", [])):
            assembled.append(nbformat.v4.new_code_cell(cell.source, metadata={"kit": {"role": "locked", "grade_id": gid}}))
        for source in extras.get(gid, []):
            assembled.append(nbformat.v4.new_code_cell(source, metadata={"kit": {"role": "extra", "after": gid}}))
    nb = nbformat.v4.new_notebook(cells=assembled, metadata=canonical.metadata)
    return nb, missing, labels


def _reset_source() -> str:
    return "for _kit_name in ('model', 'history'):\n    globals().pop(_kit_name, None)\ndel _kit_name"


def _export_source(folder: Path, nonce: str) -> str:
    return f"""def _kit_export(folder={str(folder)!r}, nonce={nonce!r}):
    import json, os
    import keras
    os.makedirs(folder, exist_ok=True)
    status = {{"nonce": nonce, "model": None, "history": False}}
    candidate = globals().get("model")
    if "model" not in globals():
        status["model"] = "missing"
    elif candidate is None:
        status["model"] = "none"
    elif isinstance(candidate, keras.Model):
        try:
            candidate.save(os.path.join(folder, "model.keras"))
            status["model"] = "saved"
            own = {{type(layer).__name__: [v.path.split("/")[-1] for v in layer.variables]
                    for layer in candidate.layers if not type(layer).__module__.startswith("keras")}}
            with open(os.path.join(folder, "variables.json"), "w") as handle:
                json.dump(own, handle)
        except Exception as error:
            status["model"] = "unsavable"
            status["model_error"] = [type(error).__name__, str(error)[:1000]]
    else:
        status["model"] = "type:" + type(candidate).__name__
    record = getattr(globals().get("history"), "history", None)
    if isinstance(record, dict):
        try:
            with open(os.path.join(folder, "history.json"), "w") as handle:
                json.dump({{k: [float(v) for v in vs] for k, vs in record.items()}}, handle)
            status["history"] = True
        except Exception:
            pass
    with open(os.path.join(folder, "status.json"), "w") as handle:
        json.dump(status, handle)
_kit_export()
del _kit_export"""


def _make_client(nb, workdir: Path, cell_timeout: int, memory_limit: int | None, exposure):
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            _cap_outputs(outs)
            return out

    return CappedClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"the cell ran longer than {cell_timeout} s", "traceback": []},
        resources={"metadata": {"path": str(workdir)}},
        kernel_manager_class=kernel_manager_class(memory_limit, exposure),
        shutdown_kernel="immediate",
    )


def _cap_outputs(outs) -> None:
    total = 0
    for index, out in enumerate(outs):
        text = out.get("text")
        if isinstance(text, str):
            if total + len(text) > MAX_OUTPUT_CHARS:
                out["text"] = text[: max(0, MAX_OUTPUT_CHARS - total)] + "\n[... output cut by the grader ...]\n"
                del outs[index + 1:]
                return
            total += len(text)


def _error_of(cell):
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            trace = plain("\n".join(str(line) for line in out.get("traceback", []) or []))[-4000:]
            return out.get("ename", "Error"), str(out.get("evalue", ""))[:500], trace
    return None


def run_notebook(
    path: Path,
    notebook: str,
    workdir: Path,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    progress=None,
    env: dict | None = None,
    architecture_gate=None,
    training=None,
) -> NotebookRun:
    """Execute one submitted notebook; the returned run says what each question left behind.

    The story: start a sandboxed kernel, then for each cell run it (a training cell through the
    training cache), export the model, probe the answer; stop. A kernel that dies is replaced by a
    fresh one, which reruns the setup cells and goes on after the cell that killed it.

    ``architecture_gate(question_id, export_folder) -> bool`` is asked right after each answer
    cell: when the architecture is already wrong, the training cell is skipped (its val_loss is
    not graded anyway), which makes grading a wrong answer cost no training.

    ``training`` (a trainer.TrainingSession) makes training cells go through the training cache.
    """
    session = _Session.prepare(path, notebook, workdir, cell_timeout, memory_limit, progress, env,
                               architecture_gate, training)
    while session.cells_left():
        session.run_in_a_fresh_kernel()
    return session.finish()


@dataclass
class _Session:
    """One notebook being run: where it is in its cells, across the kernels it needs."""

    run: NotebookRun
    nb: object  # the assembled notebook, executed in place
    code_cells: list  # (index in nb.cells, cell)
    workdir: Path
    exports: Path  # where the kernel writes exports (inside its working folder)
    kept: Path  # where verified exports are moved, beside it: the sandboxed kernel cannot write there
    coding: dict  # question id -> CodingQuestion
    probed: dict  # answer cell grade id -> question judged from a probe's record
    cell_timeout: int
    memory_limit: int | None
    kernel_env: dict
    exposure: object
    progress: object  # the caller's progress callback (or a no-op)
    architecture_gate: object
    training: object
    started: float
    position: int = 0  # the next code cell to run
    current: int = 0  # the code cell running now
    skipped: set = field(default_factory=set)  # training cells not worth running
    dead_question: str | None = None  # the question whose cell killed the kernel: the rest of it is skipped
    student_ran: bool = False  # until a student's cell runs, every failure is the grader's own

    @classmethod
    def prepare(cls, path, notebook, workdir, cell_timeout, memory_limit, progress, env, architecture_gate, training):
        """Read and assemble the submission, note its answers, clear the export folders."""
        started = time.perf_counter()
        nb, missing, labels = assemble(read_submission(path), notebook)
        run = NotebookRun(notebook, missing_cells=missing, changed_type=labels.changed_type,
                          answer_choice={gid: (claimants.index(labels.chosen[gid]) + 1, len(claimants))
                                         for gid, claimants in labels.claimants.items() if len(claimants) > 1},
                          recognised_by=labels.how_known())
        for cell in nb.cells:
            role = cell.metadata.get("kit", {})
            if role.get("role") == "free":
                run.free_answers[role["grade_id"].removesuffix("_answer")] = cell.source
            elif role.get("role") == "answer":
                run.answers[role["grade_id"]] = cell.source
        workdir.mkdir(parents=True, exist_ok=True)
        exports, kept = workdir / ".kit-exports", workdir.parent / f".kit-kept-{workdir.name}"
        shutil.rmtree(exports, ignore_errors=True)
        shutil.rmtree(kept, ignore_errors=True)
        questions = questions_of(notebook)
        # The kernel manager keeps only the allow-listed part; solutions are switched off while grading.
        kernel_env = dict(os.environ, DROPOUT_KIT_HIDE_SOLUTIONS="1", PYTHONWARNINGS="ignore", **(env or {}))
        return cls(run=run, nb=nb, code_cells=[(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"],
                   workdir=workdir, exports=exports, kept=kept,
                   coding={q.id: q for q in questions if isinstance(q, CodingQuestion)},
                   probed={q.answer_cell: q for q in questions if hasattr(q, "probe_source")},
                   cell_timeout=cell_timeout, memory_limit=memory_limit, kernel_env=kernel_env,
                   exposure=Exposure(data_files=verified_data_files()) if sandbox.available() else None,
                   progress=progress or (lambda message: None), architecture_gate=architecture_gate,
                   training=training, started=started)

    def say(self, message: str) -> None:
        self.progress(f"{self.run.notebook}: {message}")

    def cells_left(self) -> bool:
        return self.position < len(self.code_cells)

    def run_in_a_fresh_kernel(self) -> None:
        """Start a kernel and run cells until the last, or until the kernel dies."""
        from nbclient.exceptions import DeadKernelError

        client = _make_client(self.nb, self.workdir, self.cell_timeout, self.memory_limit, self.exposure)
        kernel_started = False
        try:
            with client.setup_kernel(env=self.kernel_env, cwd=str(self.workdir), stdout=subprocess.DEVNULL,
                                     stderr=None if os.environ.get("KIT_DEBUG") else subprocess.DEVNULL):
                kernel_started = True
                if self.position > 0:
                    self._rerun_setup(client)
                while self.cells_left():
                    self._step(client)
        except GraderUnavailable:
            raise
        except DeadKernelError as error:
            _unless_the_fork_server_stopped(client, self.run.notebook)
            self._kernel_died(error)
        except Exception as error:  # noqa: BLE001 - a kernel that cannot start or talk
            _unless_the_fork_server_stopped(client, self.run.notebook)
            self._kernel_lost(error, kernel_started)

    def finish(self) -> NotebookRun:
        self.run.executed = self.nb
        self.run.seconds = time.perf_counter() - self.started
        return self.run

    def _rerun_setup(self, client) -> None:
        """After a dead kernel: the locked setup cells again, so that the next cells find their data."""
        for index, cell in self.code_cells[:self.position]:
            if cell.metadata["kit"].get("grade_id", "").endswith("_setup"):
                _run_hidden(client, cell.source, index)

    def _step(self, client) -> None:
        """One cell: skipped, or run; then what follows it (export, probe, the architecture gate)."""
        self.current = self.position
        index, cell = self.code_cells[self.position]
        kit = cell.metadata["kit"]
        grade_id, gid = kit.get("grade_id", ""), kit.get("grade_id", kit.get("after", ""))
        qid = next((q for q in self.coding if gid.startswith(q + "_")), None)
        if self._skipped(gid, grade_id):
            self.position += 1
            return
        executed, started = self._execute(client, index, cell, kit, qid)
        problem = self._problem_of(executed, index, kit, gid, started)
        self.position += 1
        self._after_cell(client, index, grade_id, qid, problem)

    def _skipped(self, gid: str, grade_id: str) -> bool:
        if self.dead_question and gid.startswith(self.dead_question + "_"):
            return True  # the rest of the question whose cell killed the kernel
        if grade_id in self.skipped:
            self.say(t("progress.skipping", cell=gid))
            return True
        return False

    def _execute(self, client, index: int, cell, kit: dict, qid: str | None):
        """Run the cell (a training cell through the training cache where it can); returns the
        executed cell and when it started."""
        grade_id = kit.get("grade_id", "")
        if grade_id.endswith("_seed"):
            _run_hidden(client, _reset_source(), index)
        watcher = self._watch_training(client, index, qid) if grade_id.endswith("_train") else None
        started = time.perf_counter()
        self.student_ran = self.student_ran or kit["role"] in ("answer", "extra")
        try:
            reused = None
            if self.training is not None and qid and grade_id == f"{qid}_train":
                reused = train_via_cache(client, cell, index, self.coding[qid], self.workdir / ".kit-training" / qid,
                                          self.training, self.run, self.say)
            if reused is None:
                client.execute_cell(cell, index)
            return (cell if reused is None else reused), started
        finally:
            if watcher:
                watcher.stop()

    def _watch_training(self, client, index: int, qid: str | None):
        """Progress for a training cell: its epochs, reported by a callback the kernel is given."""
        self.say(t("progress.training", question=qid, expected=_expected_seconds(qid)))
        watcher = _EpochWatcher(self.workdir / ".kit-progress",
                                f"{self.run.notebook}: " + t("progress.training-label", question=qid), self.progress)
        _run_hidden(client, _progress_source(watcher.path), index)
        watcher.start()
        return watcher

    def _problem_of(self, cell, index: int, kit: dict, gid: str, started: float):
        """Record what went wrong in the cell (the grader's own failure before any student code)."""
        problem = _error_of(cell)
        if problem and not self.student_ran:
            raise GraderUnavailable(f"The released {self.run.notebook} notebook failed before any student code "
                                    f"ran: {cell_label(gid)} raised {problem[0]}: {problem[1]}. No grade was "
                                    "recorded; check the kit's installation and data.")
        if problem:
            timed_out = time.perf_counter() - started >= self.cell_timeout and problem[0] in (
                "CellTimeoutError", "KeyboardInterrupt")
            label = kit.get("grade_id") or f"after {gid}"
            self.run.problems.append(CellProblem(label, index + 1, "timeout" if timed_out else "error", *problem))
        self.say(t("progress.cell", index=index + 1, count=len(self.nb.cells), cell=gid or t("progress.extra-cell"))
                 + f" {time.perf_counter() - started:.1f} s" + (f" ({problem[0]})" if problem else ""))
        return problem

    def _after_cell(self, client, index: int, grade_id: str, qid: str | None, problem) -> None:
        """Export the model after a training cell; probe a probed answer; right before a training
        cell (after the answer and every cell the student put after it), skip the training when the
        architecture is already wrong; after the last cell, the peak memory."""
        if qid and grade_id == f"{qid}_train":
            _export(client, index, self.exports / qid, self.run, qid, self.kept)
        if grade_id in self.probed and not problem:
            _probe(client, index, self.exports, self.run, self.probed[grade_id], self.cell_timeout, self.kept)
        upcoming = self.code_cells[self.position][1].metadata["kit"].get("grade_id", "") if self.cells_left() else ""
        gated = upcoming.removesuffix("_train") if upcoming.endswith("_train") else None
        if gated in self.coding and self.architecture_gate is not None:  # the model as it is trained
            _export(client, index, self.exports / gated, self.run, gated, self.kept)
            if (not self.run.problems_in({f"{gated}_model"}) and gated in self.run.exports
                    and not self.architecture_gate(gated, self.run.exports[gated])):
                self.skipped.add(upcoming)
        if not self.cells_left():
            self.run.kernel_peak_mb = _kernel_peak_mb(client, index)

    def _kernel_died(self, error) -> None:
        """The cell that killed the kernel is its question's problem; the next kernel goes on after it."""
        if not self.student_ran:
            raise GraderUnavailable(f"The kernel died before any student code of {self.run.notebook} ran ({error}): "
                                    "the grader cannot run notebooks here. No grade was recorded.") from None
        index, cell = self.code_cells[self.current]
        kit = cell.metadata["kit"]
        gid = kit.get("grade_id") or f"after {kit.get('after', '')}"
        self.run.problems.append(CellProblem(gid, index + 1, "dead kernel", "DeadKernelError", str(error)[:200]))
        self.say(t("progress.kernel-died", index=index + 1))
        self.dead_question = next((q for q in self.coding if gid.startswith(q + "_")), None)
        self.position = self.current + 1

    def _kernel_lost(self, error: Exception, kernel_started: bool) -> None:
        """A kernel that cannot start or talk: the grader's failure, unless student code ran in it."""
        if not kernel_started or not self.student_ran:
            raise GraderUnavailable(f"A kernel for {self.run.notebook} could not start ({type(error).__name__}: "
                                    f"{error}). No grade was recorded.") from None
        index = self.code_cells[min(self.position, len(self.code_cells) - 1)][0]
        self.run.problems.append(CellProblem("kernel", index + 1, "dead kernel", type(error).__name__, str(error)[:300]))
        self.position = len(self.code_cells)  # no further kernel


def _unless_the_fork_server_stopped(client, notebook: str) -> None:
    """A kernel forked from the fork server dies with it: the grader's failure, not the student's."""
    server = getattr(client.kernel_manager_class, "fork_server", None)
    if server is not None and not server.alive():
        raise GraderUnavailable(f"The kit's fork server stopped while {notebook} was being graded, and its kernel "
                                "with it. No grade was recorded; grade this submission again.")


def train_via_cache(client, cell, index: int, question, folder: Path, training, run: NotebookRun, say):
    """Run a training cell through the training cache. The cell is code before the training
    (nothing in a question's training cell; the model's construction in a demonstration), the
    released compile and fit, and code after it (plots, checks): run the code before, capture the
    state in the student's kernel, look the key up (training it in the kit's trainer on a miss),
    load the result into the kernel and run the code after. Returns the executed cell, or None
    when the whole cell must run in the student's kernel as released (none of it has run then;
    the reason is recorded)."""
    fit = question.protocol.compile_and_fit_source()
    at = training_position(cell.source, fit)
    if at is None:
        return None
    before = cell.source[:at]
    outputs = []
    if before.strip():
        ran = _run_hidden(client, before, index)
        outputs = list(ran.outputs)
        if _error_of(ran):  # the cell stops where it raised, as it would have
            return _executed(cell, outputs, ran.get("execution_count"))
    if _restore_trained(client, index, question, folder, training, run, say):
        remainder = cell.source[at + len(fit):].lstrip("\n")
    elif before.strip():
        remainder = cell.source[at:]  # the code before has run: train in the notebook from there
    else:
        return None
    replacement = nbformat.v4.new_code_cell(remainder, metadata=cell.metadata)
    client.execute_cell(replacement, index)
    return _executed(cell, outputs + list(replacement.outputs), replacement.get("execution_count"))


def training_position(source: str, fit: str) -> int | None:
    """Where the released compile-and-fit code starts a line of ``source`` (None: nowhere)."""
    at = source.find(fit)
    while at > 0 and source[at - 1] != "\n":
        at = source.find(fit, at + 1)
    return None if at < 0 else at


def _executed(cell, outputs: list, execution_count):
    """The released cell as if it had run whole: its own source, id and metadata, these outputs."""
    executed = nbformat.from_dict(dict(cell))
    executed.outputs = outputs
    executed.execution_count = execution_count
    return executed


def _restore_trained(client, index: int, question, folder: Path, training, run: NotebookRun, say) -> bool:
    """The trained state for the model in the kernel, from the cache or the trainer, loaded into
    the kernel in place of compile and fit. False (the reason recorded) when it cannot be."""
    from . import kernel_folder
    from .training_cache import ENTRY_FILES

    protocol, qid = question.protocol, question.id
    # ``folder`` is <the kernel's working folder>/<a>/<b>: student code can write there, so the
    # grader goes through it without following links (kernel_folder.py) and reads only its copy.
    base, parts = folder.parents[1], (folder.parent.name, folder.name)
    pre = training.scratch / f"captured-{secrets.token_hex(8)}"
    try:
        kernel_folder.remove(base, parts)
        _run_hidden(client, "from grader.running.training_cache import capture as _kit_capture\n"
                            f"_kit_capture(globals(), {str(folder / 'pre')!r})\ndel _kit_capture", index)
        kernel_folder.copy_out(base, (*parts, "pre"), ("state.json", "model.keras", "variables.npz"), pre)
    except OSError as error:  # something student code put in the way
        run.training[qid] = t("training.not-reusable", why=t("training.why.not-captured")) + f" ({error})"
        return False
    try:
        entry = _trained_entry(pre, question, training, run, say)
    finally:
        shutil.rmtree(pre, ignore_errors=True)
    if entry is None:
        return False
    entry, how, damaged, hit = entry
    try:
        cached = kernel_folder.copy_in({name: entry / name for name in ENTRY_FILES}, base, (*parts, "cached"))
    except OSError as error:
        run.reused.discard(qid)
        run.training[qid] = t("training.not-loaded", error=error)
        return False
    loaded = _run_hidden(client, "from grader.running.training_cache import restore as _kit_restore\n"
                                 f"_kit_restore(globals(), {str(cached)!r}, {protocol.optimizer!r}, {protocol.loss!r}, "
                                 f"{protocol.epochs})\ndel _kit_restore", index)
    if _error_of(loaded):
        run.reused.discard(qid)
        run.training[qid] = t("training.not-loaded", error=_error_of(loaded)[1])
        return False
    run.training[qid] = how + (f"; {damaged}" if damaged else "")
    run.served.append((qid, hit))
    say(f"{qid}: {run.training[qid]}")
    return True


def _trained_entry(pre: Path, question, training, run: NotebookRun, say):
    """(the entry's folder, how it was got, why an entry was discarded, whether it was a hit) for the captured state
    ``pre``: from the cache, or trained by the kit's trainer on a miss; None (the reason recorded)
    when it cannot be."""
    from .trainer import TrainerFailed, cluster_lock
    from .training_cache import key_for

    protocol, qid = question.protocol, question.id
    key, note = key_for(pre, protocol, training.fingerprint())
    if key is None:
        run.training[qid] = note
        return None
    with cluster_lock(key), training.cache.training(key):
        found = training.cache.get(key)
        if found.folder is None:
            try:
                trainer = training.trainer()
            except TrainerFailed as error:
                run.training[qid] = t("training.in-notebook", why=error)
                return None
            watcher = _EpochWatcher(trainer.workdir / "progress", t("progress.trainer", question=qid), say)
            watcher.start()
            try:
                result = trainer.train(pre, protocol, progress=trainer.workdir / "progress")
            except TrainerFailed as error:
                run.training[qid] = t("training.trainer-failed", error=error)
                return None
            finally:
                watcher.stop()
            entry = training.cache.put(key, result)
            entry, how = (entry, t("training.stored")) if entry else (result, t("training.not-stored"))
        else:
            entry, how = found.folder, t("training.reused")
            run.reused.add(qid)
    return entry, how, found.damaged, found.folder is not None


def _progress_source(path: Path) -> str:
    """Kernel code: every fit reports its epoch to a file the grader watches (numbers unchanged)."""
    return f"""import keras as _kit_keras
class _KitEpochs(_kit_keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        with open({str(path)!r}, "w") as handle:
            handle.write(f"{{epoch + 1}} {{self.params.get('epochs')}}")
if not getattr(_kit_keras.Model.fit, "_kit_progress", False):
    _kit_fit = _kit_keras.Model.fit
    def _kit_fit_with_progress(self, *args, callbacks=None, **kwargs):
        return _kit_fit(self, *args, callbacks=list(callbacks or []) + [_KitEpochs()], **kwargs)
    _kit_fit_with_progress._kit_progress = True
    _kit_keras.Model.fit = _kit_fit_with_progress"""


class _EpochWatcher:
    """Reports a training's epoch at each quarter, so long cells show progress without a flood."""

    def __init__(self, path: Path, label: str, say):
        import threading

        self.path, self.label, self.say = path, label, say
        self.template = t("progress.epoch")  # formatted in the watcher's thread, which has no language
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.path.unlink(missing_ok=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)

    def _watch(self) -> None:
        reported = 0
        while not self.done.wait(1.0):
            try:
                epoch, total = (int(x) for x in self.path.read_text().split())
            except (OSError, ValueError):
                continue
            quarter = 4 * epoch // max(total, 1)
            if 0 < quarter < 4 and quarter > reported:
                reported = quarter
                self.say(self.template.format(label=self.label, epoch=epoch, total=total))


def _kernel_peak_mb(client, index: int) -> float | None:
    cell = _run_hidden(client, "import resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)", index)
    try:
        return int(cell.outputs[0]["text"].split()[-1]) / 1024
    except (AttributeError, IndexError, KeyError, ValueError):
        return None


def _run_hidden(client, source: str, index: int):
    """Run harness code in the kernel without it taking the place of notebook cell ``index``
    (nbclient stores every executed cell at the index it is given)."""
    original = client.nb.cells[index]
    try:
        return client.execute_cell(nbformat.v4.new_code_cell(source), index, store_history=False)
    finally:
        client.nb.cells[index] = original


def _export(client, index: int, folder: Path, run: NotebookRun, qid: str, kept: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    run.exports.pop(qid, None)
    nonce = secrets.token_hex(16)
    _run_hidden(client, _export_source(folder, nonce), index)
    if _nonce_of(folder / "status.json") == nonce:
        run.exports[qid] = _keep(folder, kept)


def _keep(folder: Path, kept: Path) -> Path:
    """Move a verified export out of the student's working folder (the only one the sandboxed
    kernel may write) into ``kept``, so that no later cell can replace it."""
    target = kept / folder.name
    shutil.rmtree(target, ignore_errors=True)
    kept.mkdir(parents=True, exist_ok=True)
    shutil.move(str(folder), str(target))
    return target


def _nonce_of(path: Path) -> str | None:
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found.get("nonce") if isinstance(found, dict) else None


def _probe(client, index: int, exports: Path, run: NotebookRun, question, cell_timeout: int, kept: Path) -> None:
    """Run the question's probe after its answer cell; its record (with a fresh nonce, so that
    files written in advance are stale) is judged by the grader. A probe that raises or runs too
    long is the answer's problem: it only runs the student's definition on the check's inputs."""
    from ..base.exchange import RECORD

    folder = exports / question.id
    shutil.rmtree(folder, ignore_errors=True)
    run.exports.pop(question.id, None)
    nonce = secrets.token_hex(16)
    t0 = time.perf_counter()
    cell = _run_hidden(client, question.probe_source(folder, nonce), index)
    problem = _error_of(cell)
    if problem:
        timed_out = time.perf_counter() - t0 >= cell_timeout and problem[0] in ("CellTimeoutError", "KeyboardInterrupt")
        run.problems.append(CellProblem(question.answer_cell, index + 1, "timeout" if timed_out else "error", *problem))
        return
    if _nonce_of(folder / RECORD) == nonce:
        run.exports[question.id] = _keep(folder, kept)


def _expected_seconds(question_id: str | None) -> str:
    """'about 55 s', from the calibration's fit times on the reference machine."""
    try:
        from ..judging.reference import load

        times = [r["fit_seconds"] for v in load(question_id)["variants"] if v["question"] == question_id and v["correct"]
                 for r in v["runs"]]
        return t("progress.expected", seconds=f"{sorted(times)[len(times) // 2]:.0f}")
    except Exception:  # noqa: BLE001 - progress text only
        return t("progress.a-while")


def print_progress(message: str) -> None:
    from ..base.quiet import terminal

    print(f"  {message}", file=terminal(), flush=True)
