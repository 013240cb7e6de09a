"""Turn what a notebook run left behind into verdicts, in the grader's own process.

Nothing the student's kernel says is taken on trust: the architecture is read from the saved
model file, and the validation loss is recomputed here from the saved weights. The history the
notebook produced is only drawn in the report, and a history that disagrees with the weights is
reported as such.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..judging.checks import check_architecture, check_val_loss
from ..running.harness import NotebookRun
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
        return "\n".join(v.text() for v in (failing or [v for v, _ in self.parts.values()]))

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
        }


def _load_model(folder: Path, question: CodingQuestion | None = None):
    """The exported model, read safely: a layer class the student wrote is read as the Keras
    layer that stands in for it (``question.stand_ins``), never run."""
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
    result = QuestionResult(question, training=run.training.get(question.id), reused=question.id in run.reused)
    model_cell, train_cell = f"{question.id}_model", f"{question.id}_train"
    answer_problems = run.problems_in({model_cell})
    train_problems = run.problems_in({train_cell})
    folder = run.exports.get(question.id)

    def fail_both(message: str, not_attempted: bool = False, mistake: str | None = None) -> QuestionResult:
        result.parts["architecture"] = (Verdict(False, message, not_attempted=not_attempted, mistake=mistake),
                                        question.points_architecture)
        result.parts["val_loss"] = (Verdict(False, t("result.not-graded", reason=message)), question.points_val_loss)
        return result

    if model_cell in run.missing_cells:
        return fail_both(t("result.answer-deleted"), True)
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
    from ..base.training import evaluate

    val_loss = evaluate(model, question.protocol)
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
