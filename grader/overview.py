"""The class overview: one page per assignment for the instructor, plus CSV and JSON for an LMS.

It reads what grading left behind, from either source, into the same records:

* the kit's own results (``kit-grades/<student>.json``, written by ``python -m grader batch``);
* nbgrader's gradebook after ``nbgrader autograde`` (scores), with the autograded notebooks for
  what the checks said and the free-response answers.

and shows the score distribution, the pass rate per question, the most common mistakes grouped
by their first difference (the named mistake, or the first differing layer), the class's
val_loss over the reference band, who could not be graded or did not attempt, and every
free-response answer for reading.
"""
from __future__ import annotations

import argparse
import base64
import csv
import html
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .questions import ASSIGNMENT, CODING, QUESTIONS, FreeResponse

HTML_NAME, CSV_NAME, JSON_NAME = "kit-overview.html", "kit-overview.csv", "kit-overview.json"
# The architecture messages that mean "the student has not started this question".
NOT_ATTEMPTED = ("This is still the starter model", "`model` is None", "`model` is not defined",
                 "The answer cell of this question was deleted")
PLACEHOLDER_ANSWER = "YOUR ANSWER HERE"


@dataclass
class QuestionRecord:
    points: float | None = None  # None: free response (read by the instructor)
    max_points: float = 0
    passed: bool | None = None
    attempted: bool = True
    mistake: str | None = None  # the first line of what the architecture check said
    val_loss: float | None = None
    answer: str | None = None  # free response


@dataclass
class StudentRecord:
    student: str
    points: float = 0
    max_points: float = 0
    problems: list = field(default_factory=list)  # why a notebook (or all) could not be graded
    missing: list = field(default_factory=list)  # notebooks not handed in
    questions: dict = field(default_factory=dict)  # question id -> QuestionRecord

    ungradeable: bool = False  # nothing of it could be graded (unreadable, or the grader failed on it)

    @property
    def graded(self) -> bool:
        return not self.ungradeable and bool(self.questions)

    @property
    def attempted(self) -> bool:
        coding = {c.id for c in CODING}
        return any(q.attempted for qid, q in self.questions.items() if qid in coding)


def _first_line(message: str | None) -> str | None:
    if not message:
        return None
    line = message.strip().splitlines()[0]
    return re.sub(r"^(Incorrect|Correct): ", "", line)


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


# ---------------------------------------------------------------------------- the kit's results

def records_from_kit_grades(folder: Path) -> list[StudentRecord]:
    """One record per ``kit-grades/<student>.json`` (python -m grader batch)."""
    records = []
    for path in sorted(Path(folder).glob("*.json")):
        result = json.loads(path.read_text())
        record = StudentRecord(result.get("student", path.stem), points=result.get("points", 0),
                               max_points=result.get("max_points") or sum(q.points for q in CODING))
        if result.get("error"):
            record.problems.append(result["error"])
        notebooks = result.get("notebooks", [])
        record.ungradeable = bool(result.get("error")) or (bool(notebooks) and all(nb.get("error") for nb in notebooks)
                                                          and not all("is missing" in nb["error"] for nb in notebooks))
        for nb in notebooks:
            error = nb.get("error")
            if error and "is missing from the submission" in error:
                record.missing.append(nb["notebook"])
            elif error:
                record.problems.append(f"{nb['notebook']}.ipynb: {error}")
            if nb["notebook"] in record.missing:
                continue  # not handed in: its questions are not the class's to count
            for q in nb.get("questions", []):
                record.questions[q["id"]] = _question_from_kit(q, error)
        records.append(record)
    return records


def _question_from_kit(q: dict, notebook_error: str | None) -> QuestionRecord:
    if q.get("manual"):
        text = _answer_text(q.get("answer"))
        return QuestionRecord(max_points=q.get("max_points", 0), answer=text or None, attempted=bool(text))
    parts = q.get("parts") or {}
    architecture = parts.get("architecture", {})
    message = architecture.get("message") or q.get("message")
    attempted = not notebook_error and not architecture.get("not_attempted") and not (
        message and message.startswith(NOT_ATTEMPTED))
    val = parts.get("val_loss", {})
    return QuestionRecord(
        points=q.get("points", 0), max_points=q.get("max_points", 0), passed=q.get("passed"), attempted=attempted,
        mistake=None if architecture.get("passed") else _first_line(message),
        val_loss=_float(val.get("val_loss")) if val.get("val_loss") is not None else None)


def _answer_text(answer: str | None) -> str:
    text = "\n".join(line for line in (answer or "").splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")).strip()
    return "" if text == PLACEHOLDER_ANSWER else text


# ---------------------------------------------------------------------------- nbgrader's gradebook

def records_from_gradebook(course: Path, db_url: str | None = None) -> list[StudentRecord]:
    """Scores from nbgrader's gradebook; messages and answers from the autograded notebooks."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    course = Path(course)
    records = []
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in sorted(s.id for s in gradebook.students):
            record = StudentRecord(student, max_points=sum(q.points for q in CODING))
            records.append(record)
            try:
                submission = gradebook.find_submission(ASSIGNMENT, student)
            except MissingEntry:
                record.missing.extend(_notebook_names())
                record.ungradeable = True
                continue
            scores = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[grade.name] = (grade.score, grade.max_score)
            for name in _notebook_names():
                submitted = course / "submitted" / student / ASSIGNMENT / f"{name}.ipynb"
                autograded = course / "autograded" / student / ASSIGNMENT / f"{name}.ipynb"
                if not submitted.exists():
                    record.missing.append(name)
                    continue
                if not autograded.exists():
                    record.problems.append(f"{name}.ipynb: nbgrader could not autograde it (see its log)")
                    continue
                try:
                    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
                             for c in nbformat.read(autograded, as_version=4).cells}
                except Exception as error:  # noqa: BLE001 - an unreadable autograded file
                    record.problems.append(f"{name}.ipynb: unreadable after autograding ({error})")
                    continue
                for question in (q for q in QUESTIONS if q.notebook == name):
                    record.questions[question.id] = _question_from_notebook(question, cells, scores)
            record.points = sum(q.points or 0 for q in record.questions.values())
            record.ungradeable = bool(record.problems) and not record.questions
    return records


def _notebook_names() -> list[str]:
    return sorted({q.notebook for q in QUESTIONS})


def _cell_text(cell) -> str:
    """What a test cell said: its error message, else what it printed."""
    if cell is None:
        return ""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', '')}: {output.get('evalue', '')}".removeprefix("AssertionError: ")
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _question_from_notebook(question, cells: dict, scores: dict) -> QuestionRecord:
    if isinstance(question, FreeResponse):
        cell = cells.get(f"{question.id}_answer")
        text = _answer_text(cell.source if cell is not None else "")
        return QuestionRecord(max_points=question.points, answer=text or None, attempted=bool(text))
    points = sum((scores.get(f"{question.id}_{part}", (0, 0))[0] or 0) for part in ("architecture", "val_loss"))
    architecture = _cell_text(cells.get(f"{question.id}_architecture"))
    val = _cell_text(cells.get(f"{question.id}_val_loss"))
    passed = points == question.points
    found = re.search(r"(?:lowest val_loss|lowest val_loss was|final weights give val_loss) (\d+\.\d+)", val)
    return QuestionRecord(
        points=points, max_points=question.points, passed=passed,
        attempted=bool(architecture) and not _first_line(architecture).startswith(NOT_ATTEMPTED),
        mistake=None if architecture.startswith("Correct") or not architecture else _first_line(architecture),
        val_loss=float(found.group(1)) if found else None)


# ---------------------------------------------------------------------------- the summary

def summarize(records: list[StudentRecord]) -> dict:
    """Everything the page shows, as data (the JSON file)."""
    from .reference import band

    graded = [r for r in records if r.graded]
    questions = {}
    for q in QUESTIONS:
        entries = [(r.student, r.questions[q.id]) for r in graded if q.id in r.questions]
        if isinstance(q, FreeResponse):
            questions[q.id] = {"title": q.title, "prompt": q.prompt, "manual": True,
                               "answers": [{"student": s, "answer": e.answer} for s, e in entries if e.answer],
                               "unanswered": [s for s, e in entries if not e.answer]}
            continue
        mistakes = defaultdict(list)
        for student, entry in entries:
            if entry.mistake and entry.attempted:
                mistakes[entry.mistake].append(student)
        reference = band(q.id)
        questions[q.id] = {
            "title": q.title, "manual": False, "students": len(entries),
            "passed": sum(bool(e.passed) for _, e in entries),
            "attempted": sum(e.attempted for _, e in entries),
            "mistakes": [{"mistake": m, "students": sorted(s)} for m, s in
                         sorted(mistakes.items(), key=lambda item: (-len(item[1]), item[0]))],
            "val_losses": {s: e.val_loss for s, e in entries if e.val_loss is not None},
            "band": {"low": reference.low, "high": reference.high, "threshold": reference.threshold},
        }
    scores = [r.points for r in graded]
    return {
        "assignment": ASSIGNMENT,
        "students": len(records),
        "graded": len(graded),
        "max_points": max((r.max_points for r in records), default=0),
        "scores": {r.student: r.points for r in graded},
        "mean": statistics.fmean(scores) if scores else None,
        "median": statistics.median(scores) if scores else None,
        "ungradeable": sorted(r.student for r in records if r.ungradeable),
        "problems": {r.student: r.problems for r in records if r.problems},
        "not_attempted": sorted(r.student for r in graded if not r.attempted),
        "missing_notebooks": {r.student: r.missing for r in records if r.missing},
        "questions": questions,
        "records": [_record_dict(r) for r in records],
    }


def _record_dict(record: StudentRecord) -> dict:
    return {"student": record.student, "points": record.points, "max_points": record.max_points,
            "graded": record.graded, "attempted": record.attempted, "problems": record.problems,
            "missing": record.missing, "questions": {k: asdict(v) for k, v in record.questions.items()}}


# ---------------------------------------------------------------------------- writing

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1000px;margin:2em auto;color:#1f2328;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
.bar{display:inline-block;height:.9em;background:#2f6f9f;vertical-align:middle}.bar.empty{background:#d0d7de}
.num{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#57606a}
blockquote{margin:.3em 0 .8em;padding:.3em .8em;border-left:4px solid #d0d7de;white-space:pre-wrap}
details{margin:.2em 0}summary{cursor:pointer}
@media print{body{max-width:none;margin:0}details{display:block}details>*{display:block}summary{list-style:none}
h2{break-after:avoid}table,img,blockquote{break-inside:avoid}}
"""


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode()


def _score_figure(summary: dict) -> str | None:
    scores = list(summary["scores"].values())
    if not scores:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = int(summary["max_points"] or max(scores))
    counts = Counter(int(round(s)) for s in scores)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar(range(top + 1), [counts.get(i, 0) for i in range(top + 1)], color="#2f6f9f")
    ax.set_xlabel(f"autograded points (out of {top})")
    ax.set_ylabel("students")
    ax.set_xticks(range(top + 1))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Score distribution")
    png = _png(fig)
    plt.close(fig)
    return png


def _val_loss_figure(summary: dict) -> str | None:
    coding = [(qid, q) for qid, q in summary["questions"].items() if not q["manual"] and q["val_losses"]]
    if not coding:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(coding), figsize=(3.4 * len(coding), 3.2), squeeze=False)
    for ax, (qid, q) in zip(axes[0], coding):
        values = [v for v in q["val_losses"].values() if v == v]
        diverged = len(q["val_losses"]) - len(values)
        band = q["band"]
        # A far-off answer would flatten the band: values above the cap sit on it, as triangles.
        cap = 3 * band["threshold"] - 2 * band["low"]
        inside, above = [v for v in values if v <= cap], [v for v in values if v > cap]
        ax.axhspan(band["low"], band["high"], color="#d62728", alpha=0.15, label="the solution's runs")
        ax.axhline(band["threshold"], color="#8c8c8c", linestyle="-.", label="threshold")
        jitter = [0.1 * ((i * 7) % 11 - 5) / 5 for i in range(len(values))]  # spread, reproducibly
        ax.scatter(jitter[:len(inside)], inside, color="#1a1a1a", s=18, zorder=3, label="students")
        if above:
            ax.scatter(jitter[len(inside):], [cap] * len(above), marker="^", color="#1a1a1a", s=30, zorder=3,
                       label="students above the plot")
        span = f"{min(above):.4g}" + (f" to {max(above):.4g}" if len(above) > 1 else "") if above else ""
        notes = ([f"{len(above)} above the plot: {span}"] if above else []) + (
            [f"{diverged} diverged (NaN)"] if diverged else [])
        ax.set_xlim(-0.6, 0.6)
        ax.set_xticks([])
        ax.set_title(q["title"], fontsize=9)
        if notes:
            ax.set_xlabel("; ".join(notes), fontsize=8)
    axes[0][0].set_ylabel("lowest val_loss")
    fig.subplots_adjust(wspace=0.45)
    axes[0][0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small", frameon=False)
    png = _png(fig)
    plt.close(fig)
    return png


def to_html(summary: dict, title: str | None = None) -> str:
    e = html.escape
    title = title or f"Class overview: {summary['assignment']}"
    body = [f"<h1>{e(title)}</h1>",
            f"<p>{summary['students']} students, {summary['graded']} graded"
            + (f"; mean score {summary['mean']:.1f}, median {summary['median']:g} of {summary['max_points']:g} "
               "autograded points" if summary["graded"] else "") + ".</p>"]
    score_png = _score_figure(summary)
    if score_png:
        body.append(f'<img alt="histogram of the autograded scores" src="data:image/png;base64,{score_png}">')
        counts = Counter(summary["scores"].values())
        body.append("<details><summary>Scores as a table</summary><table><tr><th>points</th><th>students</th></tr>"
                    + "".join(f'<tr><td class="num">{p:g}</td><td class="num">{n}</td></tr>'
                              for p, n in sorted(counts.items())) + "</table></details>")
    body.append("<h2>Pass rate per question</h2><table><tr><th>question</th><th>passed</th><th></th>"
                "<th>attempted</th></tr>")
    for q in summary["questions"].values():
        if q["manual"]:
            continue
        if not q["students"]:
            body.append(f'<tr><td>{e(q["title"])}</td><td colspan="3" class="muted">not handed in by anyone</td></tr>')
            continue
        share = q["passed"] / q["students"]
        body.append(f'<tr><td>{e(q["title"])}</td><td class="num">{q["passed"]} of {q["students"]} '
                    f'({100 * share:.0f}%)</td><td><span class="bar" style="width:{int(150 * share)}px"></span>'
                    f'<span class="bar empty" style="width:{150 - int(150 * share)}px"></span></td>'
                    f'<td class="num">{q["attempted"]}</td></tr>')
    body.append("</table>")
    body.append("<h2>Most common mistakes</h2>")
    for q in summary["questions"].values():
        if q["manual"] or not q["mistakes"]:
            continue
        body.append(f"<h3>{e(q['title'])}</h3><table><tr><th>students</th><th>mistake (what the check said first)</th></tr>")
        for group in q["mistakes"]:
            names = ", ".join(group["students"])
            body.append(f'<tr><td class="num">{len(group["students"])}</td><td>{e(group["mistake"])}'
                        f'<details><summary class="muted">who</summary>{e(names)}</details></td></tr>')
        body.append("</table>")
    val_png = _val_loss_figure(summary)
    if val_png:
        body.append("<h2>Validation loss</h2>"
                    f'<img alt="each student\'s lowest val_loss per question, over the band of the solution\'s runs" '
                    f'src="data:image/png;base64,{val_png}">')
    body.append("<h2>Not graded, not attempted</h2>")
    lists = [("Could not be graded, in full or in part", {
                 s: ("nothing graded: " if s in summary["ungradeable"] else "") + "; ".join(p)
                 for s, p in summary["problems"].items()}),
             ("Did not attempt the coding questions", {s: "" for s in summary["not_attempted"]}),
             ("Notebooks not handed in", {s: ", ".join(f"{n}.ipynb" for n in m)
                                          for s, m in summary["missing_notebooks"].items()})]
    for heading, students in lists:
        body.append(f"<h3>{heading} ({len(students)})</h3>")
        body.append("<ul>" + "".join(f"<li><b>{e(s)}</b>{': ' + e(why) if why else ''}</li>"
                                     for s, why in sorted(students.items())) + "</ul>" if students else
                    '<p class="muted">none</p>')
    body.append("<h2>Free-response answers</h2>")
    for q in summary["questions"].values():
        if not q["manual"]:
            continue
        body.append(f"<h3>{e(q['title'])}</h3><p class='muted'>{e(q['prompt'])}</p>")
        body.extend(f"<p><b>{e(a['student'])}</b></p><blockquote>{e(a['answer'])}</blockquote>" for a in q["answers"])
        if q["unanswered"]:
            body.append(f"<p class='muted'>No answer: {e(', '.join(q['unanswered']))}</p>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")


def write_overview(records: list[StudentRecord], folder: Path) -> dict:
    """Write the page, the CSV (one row per student) and the JSON; return the summary."""
    folder = Path(folder)
    summary = summarize(records)
    from .report import _clean

    (folder / HTML_NAME).write_text(to_html(summary))
    (folder / JSON_NAME).write_text(json.dumps(_clean(summary), indent=1, allow_nan=False) + "\n")
    coding = [q.id for q in CODING]
    with open(folder / CSV_NAME, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "status", "points", "max_points",
                         *(f"{q}_{c}" for q in coding for c in ("points", "mistake", "val_loss"))])
        for r in sorted(records, key=lambda r: r.student):
            status = ("not graded" if r.ungradeable else "not attempted" if not r.attempted
                      else "graded")
            row = [r.student, status, r.points, r.max_points]
            for q in coding:
                entry = r.questions.get(q)
                row += [entry.points if entry else "", (entry.mistake or "") if entry else "",
                        "" if not entry or entry.val_loss is None else f"{entry.val_loss:.4f}"]
            writer.writerow(row)
    return summary


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader overview",
                                     description="Write the class overview (HTML, CSV, JSON) of a graded course.")
    parser.add_argument("course", type=Path, help="the nbgrader course folder")
    parser.add_argument("--from", dest="source", choices=("auto", "kit", "gradebook"), default="auto",
                        help="kit: the results of `python -m grader batch`; gradebook: nbgrader's gradebook "
                             "and autograded notebooks; auto (default): the kit's results if there are any")
    parser.add_argument("--db", help="nbgrader gradebook URL (default sqlite:///COURSE/gradebook.db)")
    args = parser.parse_args(argv)
    from .batch import RESULTS_FOLDER

    course = args.course.resolve()
    kit = course / RESULTS_FOLDER
    source = args.source if args.source != "auto" else ("kit" if any(kit.glob("*.json")) else "gradebook")
    if source == "gradebook" and not (args.db or (course / "gradebook.db").exists()):
        print(f"error: no grades in {course}: run `python -m grader batch` or `nbgrader autograde` first.")
        return 2
    records = records_from_kit_grades(kit) if source == "kit" else records_from_gradebook(course, args.db)
    summary = write_overview(records, course)
    print(f"{summary['students']} students ({source}): {course / HTML_NAME}, {course / CSV_NAME}, {course / JSON_NAME}")
    return 0
