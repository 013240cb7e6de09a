"""Grader side of an internals answer: the probe's record (what the student's code produced on
the checks' inputs) judged against Keras' own layer in this process; the answer cell's text read
here for Keras layers used instead of built and for the untouched starter."""
from __future__ import annotations

from ..base.i18n import t
from ..base.student_errors import described
from ..judging.verdict import Verdict
from . import checks
from .checks import STUB


def grade_probed(question, run, builds_on=None):
    """``builds_on``: the question whose answer this one calls (Q2's layer calls Q1's function)."""
    from ..grading.results import QuestionResult
    from ..running.harness import answer_note

    result = QuestionResult(question, notes=[note for note in [answer_note(run, question.answer_cell)] if note])
    verdict = _verdict(question, run)
    if builds_on is not None and not verdict.passed and verdict.mistake not in (None, "not-attempted", "raised") \
            and not verdict.mistake.startswith(("raised ", "answer-")):
        verdict = _blame_first(verdict, run, builds_on)
    result.parts["check"] = (verdict, question.points)
    return result


def _blame_first(verdict: Verdict, run, first_question) -> Verdict:
    """MyDropout calls the student's inverted_dropout: when Q1's record shows the same mistake,
    the fix is in Q1, and the message says so."""
    first = _verdict(first_question, run)
    if first.mistake != verdict.mistake:
        return verdict
    return Verdict(False, t("internals.q2.from-q1", message=verdict.message), mistake=verdict.mistake)


def _verdict(question, run) -> Verdict:
    from ..base import exchange
    from ..running.harness import answer_absent

    cell = question.answer_cell
    absent = answer_absent(run, cell)
    if absent:
        return Verdict(False, absent[0], not_attempted=absent[1] == "not-attempted", mistake=absent[1])
    source = run.answers.get(cell, "")
    problems = run.problems_in({cell})
    if problems:
        return Verdict(False, t("result.answer-failed", problem=problems[0].describe()), mistake=problems[0].mistake())
    folder = run.exports.get(question.id)
    if folder is None:
        earlier = [p for p in run.problems if p.kind == "dead kernel"]
        cause = earlier[0].describe() if earlier else t("result.cells-did-not-run")
        return Verdict(False, t("internals.not-checked", cause=cause))
    try:
        record = exchange.load(folder)
    except exchange.DamagedRecord as error:
        return Verdict(False, t("internals.record-damaged", error=error), mistake="record-damaged")
    used = checks.forbidden_in_source(source, checks.FORBIDDEN["batchnorm" if "batchnorm" in question.kind else "dropout"])
    if used:
        return checks._fail("internals.forbidden", "uses-keras-layer", name=used)
    try:
        verdict = getattr(checks, f"judge_{question.kind}")(record)
    except (KeyError, TypeError, ValueError, IndexError) as error:  # a record not of the probe's shape
        return Verdict(False, t("internals.record-damaged", error=described(type(error).__name__, str(error))),
                       mistake="record-damaged")
    if not verdict.passed and (STUB in source or record.get("failure", {}).get("mistake") == "not-attempted"):
        return Verdict(False, t("internals.not-attempted", name=question.name), not_attempted=True,
                       mistake="not-attempted")
    return verdict
