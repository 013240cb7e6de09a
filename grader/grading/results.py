"""Turn what a notebook run left behind into verdicts, in the grader's own process.

Nothing the student's kernel says is taken on trust: the architecture is read from the saved
model file, and the validation loss is recomputed here from the saved weights. The history the
notebook produced is only drawn in the report, and a history that disagrees with the weights is
reported as such.
"""
from __future__ import annotations

import collections
import hashlib
import json
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..judging.checks import check_architecture, check_val_loss
from ..running.harness import NotebookRun, answer_absent, answer_note
from ..base.i18n import t
from ..base.kinds import CodingQuestion, FreeResponse
from ..base.quiet import import_tensorflow
from ..base.student_errors import described
from ..judging.verdict import Verdict



@dataclass
class QuestionResult:
    question: object
    parts: dict = field(default_factory=dict)  # "architecture"/"val_loss" -> (Verdict, points)
    history: dict | None = None
    manual: bool = False
    answer: str = ""
    training: str | None = None  # how the model was trained (the training cache's account)
    reused: bool = False  # the training came from the training cache
    notes: list = field(default_factory=list)  # what the student should know beyond the verdicts

    @property
    def passed(self) -> bool:
        return all(verdict.passed for verdict, _ in self.parts.values())

    @property
    def points(self) -> int:
        return sum(points for verdict, points in self.parts.values() if verdict.passed)

    @property
    def max_points(self) -> int:
        return self.question.points

    @property
    def message(self) -> str:
        if self.manual:
            return t("result.free-response")
        failing = [verdict for verdict, _ in self.parts.values() if not verdict.passed]
        return "\n".join([v.text() for v in (failing or [v for v, _ in self.parts.values()])] + self.notes)

    def to_dict(self) -> dict:
        q = self.question
        val = self.parts.get("val_loss", (None, 0))[0]
        return {
            "id": q.id,
            "title": q.title,
            "manual": self.manual,
            "passed": None if self.manual else self.passed,
            "points": None if self.manual else self.points,
            "max_points": self.max_points,
            "message": self.message,
            "val_loss": val.val_loss if val else None,
            "threshold": val.threshold if val else None,
            "parts": {name: dict(v.to_dict(), points=p if v.passed else 0, max_points=p)
                      for name, (v, p) in self.parts.items()},
            "answer": self.answer if self.manual else None,
            "training": self.training,
            "training_reused": self.reused,
            "notes": list(self.notes),
        }


_READ = threading.local()  # per grading thread: a model is never shared between threads
READ_KEEP = 16
READ_MAX_BYTES = 64 * 2**20  # an archive larger than this is read afresh each time, never held


class _Recent(collections.OrderedDict):
    """The last READ_KEEP things kept, the least recently used dropped first; None keys are never kept."""

    def recall(self, key):
        if key is None or key not in self:
            return None
        self.move_to_end(key)
        return self[key]

    def keep(self, key, value) -> None:
        if key is not None:
            self[key] = value
            while len(self) > READ_KEEP:
                self.popitem(last=False)


def _export_digest(folder: Path, question: CodingQuestion | None) -> str | None:
    """sha256 of everything ``_load_model`` reads: every member of the archive (the date keras
    writes into metadata.json aside), the variable orders and the question (its stand-ins). None
    where the export is not one to remember (unreadable, or too large to read twice)."""
    try:
        digest = hashlib.sha256(f"{question.id if question is not None else ''}\0".encode())
        orders = folder / "variables.json"
        digest.update(orders.read_bytes() if orders.exists() else b"-")
        with zipfile.ZipFile(folder / "model.keras") as archive:
            members = sorted(archive.infolist(), key=lambda info: info.filename)
            if sum(info.file_size for info in members) > READ_MAX_BYTES:
                return None
            for info in members:
                data = archive.read(info)
                if info.filename == "metadata.json":
                    meta = json.loads(data)
                    if isinstance(meta, dict):
                        meta.pop("date_saved", None)
                    data = json.dumps(meta, sort_keys=True).encode()
                elif info.filename == "config.json":
                    data = json.dumps(_shared_ids_in_order(json.loads(data), {}), sort_keys=True).encode()
                digest.update(f"\0{info.filename}\0{len(data)}\0".encode())
                digest.update(data)
        return digest.hexdigest()
    except Exception:  # noqa: BLE001 - whatever the archive is, it is then read afresh and says so itself
        return None


def _shared_ids_in_order(value, seen: dict):
    """A model configuration with its shared objects numbered in the order they appear: keras
    writes them as Python object ids, which differ between two kernels saving the same model.
    Everything else, the names included, stays: what a student named is theirs."""
    if isinstance(value, dict):
        return {k: (seen.setdefault(repr(v), len(seen)) if k == "shared_object_id" else _shared_ids_in_order(v, seen))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_shared_ids_in_order(v, seen) for v in value]
    return value


def _load_model(folder: Path, question: CodingQuestion | None = None):
    """The exported model, read safely: a layer class the student wrote is read as the Keras
    layer that stands in for it (``question.stand_ins``), never run. Remembered in this thread by
    the digest of what it is read from: a class hands in the same answers again and again, and
    reading one model six times per submission was a grading process's largest cost on a
    cache hit. The digest and the model come from one private copy of the files, which a kernel
    still running cannot change between the two."""
    with tempfile.TemporaryDirectory(prefix="kit-read-") as private:
        private = Path(private)
        if not all(_bounded_copy(folder / name, private / name, READ_MAX_BYTES)
                   for name in ("model.keras", "variables.json")):
            return _read_model(folder, question)  # too large to hold: read where it is, never remembered
        digest = _export_digest(private, question)
        read = _READ.__dict__.setdefault("models", _Recent())
        model = read.recall(digest)
        if model is None:
            model = _read_model(private, question)
    read.keep(digest, model)
    return model


def _evaluate_read(model, protocol) -> float:
    """``evaluate``, remembered for a model this thread read and keeps (its weights never change
    here): evaluating compiles it, after which ``evaluate`` could no longer tell its weights apart
    from a student's compiled model and would compute the loss again."""
    from ..base.training import evaluate

    digest = next((d for d, kept in _READ.__dict__.get("models", {}).items() if kept is model), None)
    values = _READ.__dict__.setdefault("values", _Recent())
    key = (digest, repr(protocol)) if digest is not None else None
    value = values.recall(key)
    if value is None:
        value = evaluate(model, protocol)
        values.keep(key, value)
    return value


def _bounded_copy(source: Path, target: Path, limit: int) -> bool:
    """Copy at most ``limit`` bytes; False when the file is larger. A missing file is left missing."""
    try:
        with open(source, "rb") as reader:
            data = reader.read(limit + 1)
    except FileNotFoundError:
        return True
    if len(data) > limit:
        return False
    target.write_bytes(data)
    return True


def _read_model(folder: Path, question: CodingQuestion | None):
    keras = import_tensorflow()
    custom = {}
    if question is not None and question.stand_ins:
        from ..judging.stand_ins import custom_objects

        try:
            orders = json.loads((folder / "variables.json").read_text())
        except (OSError, ValueError):
            orders = {}
        custom = custom_objects(dict(question.stand_ins), orders if isinstance(orders, dict) else {})
    return keras.saving.load_model(folder / "model.keras", custom_objects=custom, compile=False, safe_mode=True)


def _status(folder: Path) -> dict:
    return json.loads((folder / "status.json").read_text())


def architecture_gate(question_id: str, folder: Path) -> bool:
    """For the harness: is the freshly built model's architecture right (worth training)?"""
    from ..assignments import question

    try:
        if _status(folder).get("model") != "saved":
            return False
        return check_architecture(question(question_id), _load_model(folder, question(question_id))).passed
    except Exception:  # noqa: BLE001 - unreadable: grading will say why
        return False


def grade_coding(question: CodingQuestion, run: NotebookRun) -> QuestionResult:
    result = QuestionResult(question, training=run.training.get(question.id), reused=question.id in run.reused,
                            notes=[note for note in [answer_note(run, f"{question.id}_model")] if note])
    model_cell, train_cell = f"{question.id}_model", f"{question.id}_train"
    answer_problems = run.problems_in({model_cell})
    train_problems = run.problems_in({train_cell})
    folder = run.exports.get(question.id)

    def fail_both(message: str, not_attempted: bool = False, mistake: str | None = None) -> QuestionResult:
        result.parts["architecture"] = (Verdict(False, message, not_attempted=not_attempted, mistake=mistake),
                                        question.points_architecture)
        result.parts["val_loss"] = (Verdict(False, t("result.not-graded", reason=message)), question.points_val_loss)
        return result

    absent = answer_absent(run, model_cell)
    if absent:
        return fail_both(absent[0], absent[1] == "not-attempted", mistake=absent[1])
    if answer_problems:
        return fail_both(t("result.answer-failed", problem=answer_problems[0].describe()),
                         mistake=answer_problems[0].mistake())
    own = [p for p in run.problems if question.id in p.grade_id]  # its cells, and cells added after them
    dead = [p for p in own if p.kind == "dead kernel"]
    if dead:
        return fail_both(t("result.not-graded", reason=dead[0].describe()))
    if folder is None:
        cause = (own or run.problems)[0].describe() if run.problems else t("result.cells-did-not-run")
        return fail_both(t("result.stopped-before", cause=cause))
    status = _status(folder)
    if status.get("model") != "saved":
        model_state = status.get("model")
        if model_state in (None, "missing"):
            message = t("model.undefined")
        elif model_state == "none":
            message = t("model.none")
        elif model_state.startswith("type:"):
            message = t("model.not-keras", type=model_state[5:])
        else:  # the kernel's record of the exception: [type, message], whatever the student made of it
            error = status.get("model_error")
            error = error if isinstance(error, list) and len(error) == 2 else ["", ""]
            message = t("model.unsaved", state=described(str(error[0]), str(error[1])))
        return fail_both(message, model_state in (None, "missing", "none"))
    try:
        model = _load_model(folder, question)
    except KeyError as missing:  # a stand-in lacks one of the student's weights
        return fail_both(t(question.weight_missing or "model.not-standard", name=str(missing).strip("'"),
                           error=described("KeyError", str(missing))))
    except Exception as error:  # noqa: BLE001 - custom or unsafe layers
        return fail_both(t("model.not-standard", error=described(type(error).__name__, str(error))))
    architecture = check_architecture(question, model)
    result.parts["architecture"] = (architecture, question.points_architecture)
    history = None
    if (folder / "history.json").exists():
        history = json.loads((folder / "history.json").read_text())
    result.history = history
    if not architecture.passed:
        result.parts["val_loss"] = (Verdict(False, t("result.architecture-first")), question.points_val_loss)
        return result
    if history is None and not train_problems:
        result.parts["val_loss"] = (Verdict(False, t("result.training-did-not-run")), question.points_val_loss)
        return result
    if train_problems:
        result.parts["val_loss"] = (Verdict(False, t("result.training-failed", problem=train_problems[0].describe())),
                                    question.points_val_loss)
        return result
    val_loss = _evaluate_read(model, question.protocol)
    verdict = check_val_loss(question, val_loss, history)
    if verdict.mistake == "history-changed" and question.history_mismatch:
        verdict = Verdict(False, t(question.history_mismatch, history=f"{history['val_loss'][-1]:.4f}",
                                   weights=f"{val_loss:.4f}"), val_loss=val_loss, threshold=verdict.threshold,
                          mistake="stand-in-differs")
    result.parts["val_loss"] = (verdict, question.points_val_loss)
    return result


def grade_notebook(run: NotebookRun) -> list[QuestionResult]:
    """Every question of the notebook: free responses are kept for the instructor, model questions
    judged from their exports here, and any other kind judges itself (``question.grade(run)``)."""
    from ..assignments import questions_of

    results = []
    for question in questions_of(run.notebook):
        if isinstance(question, FreeResponse):
            results.append(QuestionResult(question, manual=True, answer=run.free_answers.get(question.id, "")))
        elif isinstance(question, CodingQuestion):
            results.append(grade_coding(question, run))
        else:
            results.append(question.grade(run))
    return results
