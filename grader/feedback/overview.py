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

from .fonts import font_css, html_lang
from ..base.i18n import language, t, use
from ..judging.mistakes import title as mistake_title
from ..base.kinds import FreeResponse

HTML_NAME, CSV_NAME, JSON_NAME = "kit-overview.html", "kit-overview.csv", "kit-overview.json"
RESULTS_FOLDER = "kit-grades"


def _unit(unit=None):
    """The assignment an overview is about (default: the registry's default one)."""
    from ..assignments import default

    return unit or default()


def results_folder(unit) -> str:
    """Where batch keeps one JSON result per student: kit-grades/, or kit-grades-<key>/ for an
    assignment other than the default (overview reads it back)."""
    return RESULTS_FOLDER + unit.suffix()


def file_names(unit=None) -> tuple:
    """(page, CSV, JSON): kit-overview.*, or kit-overview-<key>.* for an assignment other than the default."""
    suffix = _unit(unit).suffix()
    return tuple(name.replace("kit-overview", "kit-overview" + suffix) for name in (HTML_NAME, CSV_NAME, JSON_NAME))


def _graded_points(unit) -> int:
    return sum(q.points for q in _unit(unit).questions if not isinstance(q, FreeResponse))
PLACEHOLDER_ANSWER = "YOUR ANSWER HERE"
TAG = re.compile(r"\[kit: mistake=(.*) val_loss=(\S+) not_attempted=([01])\]")


@dataclass
class QuestionRecord:
    points: float | None = None  # None: free response (read by the instructor)
    max_points: float = 0
    passed: bool | None = None
    attempted: bool = True
    mistake: str | None = None  # the mistake's id (mistakes.py), or the first differing layer
    val_loss: float | None = None
    answer: str | None = None  # free response


@dataclass
class StudentRecord:
    student: str
    language: str | None = "en"  # of the notebooks handed in (None: nothing handed in)
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
        return any(q.attempted for q in self.questions.values() if q.points is not None)


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


# ---------------------------------------------------------------------------- the kit's results

def records_from_kit_grades(folder: Path, unit=None) -> list[StudentRecord]:
    """One record per ``kit-grades/<student>.json`` (python -m grader batch)."""
    records = []
    for path in sorted(Path(folder).glob("*.json")):
        result = json.loads(path.read_text())
        record = StudentRecord(result.get("student", path.stem), language=result.get("language", "en"),
                               points=result.get("points", 0),
                               max_points=result.get("max_points") or _graded_points(unit))
        if result.get("error"):
            record.problems.append(result["error"])
        notebooks = result.get("notebooks", [])
        record.ungradeable = bool(result.get("error")) or (bool(notebooks) and all(nb.get("error") for nb in notebooks)
                                                          and not all(nb.get("missing") for nb in notebooks))
        for nb in notebooks:
            error = nb.get("error")
            if nb.get("missing"):
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
    if "check" in parts:  # a question judged by one check (the internals' Q1-Q3)
        check = parts["check"]
        return QuestionRecord(points=q.get("points", 0), max_points=q.get("max_points", 0), passed=q.get("passed"),
                              attempted=not notebook_error and not check.get("not_attempted"),
                              mistake=None if check.get("passed") else check.get("mistake"))
    architecture, val = parts.get("architecture", {}), parts.get("val_loss", {})
    attempted = not notebook_error and not architecture.get("not_attempted")
    mistake = architecture.get("mistake") if not architecture.get("passed") else (
        val.get("mistake") if not val.get("passed") else None)
    return QuestionRecord(
        points=q.get("points", 0), max_points=q.get("max_points", 0), passed=q.get("passed"), attempted=attempted,
        mistake=mistake, val_loss=_float(val.get("val_loss")) if val.get("val_loss") is not None else None)


def _answer_text(answer: str | None) -> str:
    text = "\n".join(line for line in (answer or "").splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")).strip()
    return "" if text == PLACEHOLDER_ANSWER else text


# ---------------------------------------------------------------------------- nbgrader's gradebook

def records_from_gradebook(course: Path, db_url: str | None = None, unit=None) -> list[StudentRecord]:
    """Scores from nbgrader's gradebook; mistakes, val_loss figures (the checks' tags) and answers
    from the autograded notebooks. A student's assignment is the language release they took."""
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry

    course, unit = Path(course), _unit(unit)
    records = []
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in sorted(s.id for s in gradebook.students):
            record = StudentRecord(student, max_points=_graded_points(unit))
            records.append(record)
            submission = assignment = None
            for lang, name in unit.releases.items():
                try:
                    submission, assignment, record.language = gradebook.find_submission(name, student), name, lang
                    break
                except MissingEntry:
                    continue
            if submission is None:  # in the course, but handed nothing of this lesson in
                record.missing.extend(unit.notebooks)
                record.language = None
                continue
            scores = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[grade.name] = (grade.score, grade.max_score)
            for name in unit.notebooks:
                submitted = course / "submitted" / student / assignment / f"{name}.ipynb"
                autograded = course / "autograded" / student / assignment / f"{name}.ipynb"
                if not submitted.exists():
                    record.missing.append(name)
                    continue
                if not autograded.exists():
                    record.problems.append(t("overview.nbgrader-failed", notebook=name))
                    continue
                try:
                    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c
                             for c in nbformat.read(autograded, as_version=4).cells}
                except Exception as error:  # noqa: BLE001 - an unreadable autograded file
                    record.problems.append(t("overview.unreadable", notebook=name, error=error))
                    continue
                for question in unit.questions_of(name):
                    record.questions[question.id] = _question_from_notebook(question, cells, scores)
            record.points = sum(q.points or 0 for q in record.questions.values())
            record.ungradeable = bool(record.problems) and not record.questions
    return records


def _cell_tag(cell) -> tuple | None:
    """(mistake, val_loss, not_attempted) from a test cell's output tag, if it has one."""
    if cell is None:
        return None
    for output in cell.get("outputs", []):
        text = output.get("evalue", "") if output.get("output_type") == "error" else output.get("text", "")
        found = TAG.search(text or "")
        if found:
            mistake, value, not_attempted = found.groups()
            return (None if mistake == "-" else mistake, None if value == "-" else _float(value),
                    not_attempted == "1")
    return None


def _answer_raised(cell) -> str | None:
    """'raised NameError' when the answer cell stopped with an exception (its test cells then have
    no tag to read): such students are a group of their own in the overview."""
    for output in (cell or {}).get("outputs", []):
        if output.get("output_type") == "error":
            return raised(output.get("ename"))
    return None


def _question_from_notebook(question, cells: dict, scores: dict) -> QuestionRecord:
    if isinstance(question, FreeResponse):
        cell = cells.get(f"{question.id}_answer")
        text = _answer_text(cell.source if cell is not None else "")
        return QuestionRecord(max_points=question.points, answer=text or None, attempted=bool(text))
    points = sum((scores.get(cell, (0, 0))[0] or 0) for cell in question.grade_cells.values())
    if "architecture" not in question.grade_cells:  # one test cell: its tag, else the points say it
        tag = _cell_tag(next((cells.get(c) for c in question.grade_cells.values()), None))
        raised = _answer_raised(cells.get(getattr(question, "answer_cell", None)))
        return QuestionRecord(points=points, max_points=question.points, passed=points == question.points,
                              attempted=not tag[2] if tag else True, mistake=tag[0] if tag else raised)
    architecture = _cell_tag(cells.get(f"{question.id}_architecture"))
    val = _cell_tag(cells.get(f"{question.id}_val_loss"))
    mistake = architecture[0] if architecture else _answer_raised(cells.get(f"{question.id}_model"))
    if architecture and not mistake and val:
        mistake = val[0]
    return QuestionRecord(
        points=points, max_points=question.points, passed=points == question.points,
        attempted=not architecture[2] if architecture else True, mistake=mistake,  # no tag (autograded by an older kit): unknown, so counted
        val_loss=val[1] if val else None)


# ---------------------------------------------------------------------------- the summary

def summarize(records: list[StudentRecord], unit=None) -> dict:
    """Everything the page shows, as data (the JSON file)."""
    from ..judging.reference import band

    unit = _unit(unit)
    graded = [r for r in records if r.graded]
    questions = {}
    for q in unit.questions:
        entries = [(r.student, r.questions[q.id]) for r in graded if q.id in r.questions]
        if isinstance(q, FreeResponse):
            questions[q.id] = {"title": q.heading, "prompt": q.prompt, "manual": True,
                               "answers": [{"student": s, "answer": e.answer} for s, e in entries if e.answer],
                               "unanswered": [s for s, e in entries if not e.answer]}
            continue
        mistakes = defaultdict(list)
        for student, entry in entries:
            if entry.mistake and entry.attempted:
                mistakes[entry.mistake].append(student)
        reference = band(q.band_id) if hasattr(q, "band_id") else None
        questions[q.id] = {
            "title": q.heading, "manual": False, "students": len(entries),
            "passed": sum(bool(e.passed) for _, e in entries),
            "attempted": sum(e.attempted for _, e in entries),
            "mistakes": [{"mistake": m, "title": mistake_title(m), "students": sorted(s)} for m, s in
                         sorted(mistakes.items(), key=lambda item: (-len(item[1]), item[0]))],
            "val_losses": {s: e.val_loss for s, e in entries if e.val_loss is not None},
            "band": {"low": reference.low, "high": reference.high, "threshold": reference.threshold}
            if reference else None,
        }
    scores = [r.points for r in graded]
    return {
        "assignment": unit.name,
        "language": language(),
        "languages": dict(sorted(Counter(r.language for r in records if r.language).items())),
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
    return {"student": record.student, "language": record.language, "points": record.points,
            "max_points": record.max_points,
            "graded": record.graded, "attempted": record.attempted, "problems": record.problems,
            "missing": record.missing, "questions": {k: asdict(v) for k, v in record.questions.items()}}


# ---------------------------------------------------------------------------- writing

STYLE = """
body{font-family:"DropoutKit Sans SC",system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;max-width:1000px;margin:2em auto;color:#1f2328;padding:0 1em}
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
    from .fonts import use_cjk_fallback

    use_cjk_fallback()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = int(summary["max_points"] or max(scores))
    counts = Counter(int(round(s)) for s in scores)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    ax.bar(range(top + 1), [counts.get(i, 0) for i in range(top + 1)], color="#2f6f9f")
    ax.set_xlabel(t("overview.plot.points", top=top))
    ax.set_ylabel(t("overview.plot.students"))
    ax.set_xticks(range(top + 1))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(t("overview.plot.scores"))
    png = _png(fig)
    plt.close(fig)
    return png


def _val_loss_figure(summary: dict) -> str | None:
    coding = [(qid, q) for qid, q in summary["questions"].items() if not q["manual"] and q["val_losses"]]
    if not coding:
        return None
    from .fonts import use_cjk_fallback

    use_cjk_fallback()
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
        ax.axhspan(band["low"], band["high"], color="#d62728", alpha=0.15, label=t("overview.plot.band"))
        ax.axhline(band["threshold"], color="#8c8c8c", linestyle="-.", label=t("overview.plot.threshold"))
        jitter = [0.1 * ((i * 7) % 11 - 5) / 5 for i in range(len(values))]  # spread, reproducibly
        ax.scatter(jitter[:len(inside)], inside, color="#1a1a1a", s=18, zorder=3, label=t("overview.plot.students"))
        if above:
            ax.scatter(jitter[len(inside):], [cap] * len(above), marker="^", color="#1a1a1a", s=30, zorder=3,
                       label=t("overview.plot.above-label"))
        span = (f"{min(above):.4g}" + (f" - {max(above):.4g}" if len(above) > 1 else "")) if above else ""
        notes = ([t("overview.plot.above", count=len(above), span=span)] if above else []) + (
            [t("overview.plot.diverged", count=diverged)] if diverged else [])
        ax.set_xlim(-0.6, 0.6)
        ax.set_xticks([])
        ax.set_title(q["title"], fontsize=9)
        if notes:
            ax.set_xlabel("; ".join(notes), fontsize=8)
    axes[0][0].set_ylabel(t("overview.plot.lowest"))
    fig.subplots_adjust(wspace=0.45)
    axes[0][0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small", frameon=False)
    png = _png(fig)
    plt.close(fig)
    return png


def to_html(summary: dict, title: str | None = None) -> str:
    e = html.escape
    title = title or t("overview.title", assignment=summary["assignment"])
    body = [f"<h1>{e(title)}</h1>",
            "<p>" + t("overview.counts", students=summary["students"], graded=summary["graded"])
            + (t("overview.mean", mean=f"{summary['mean']:.1f}", median=f"{summary['median']:g}",
                 max=f"{summary['max_points']:g}") if summary["graded"] else "") + "</p>"]
    if len(summary["languages"]) > 1:
        body.append("<p>" + e(t("overview.languages", languages=", ".join(
            f"{lang}: {n}" for lang, n in summary["languages"].items()))) + "</p>")
    score_png = _score_figure(summary)
    if score_png:
        body.append(f'<img alt="{e(t("overview.alt.scores"))}" src="data:image/png;base64,{score_png}">')
        counts = Counter(summary["scores"].values())
        body.append(f"<details><summary>{t('overview.scores-table')}</summary><table><tr><th>{t('overview.points')}"
                    f"</th><th>{t('overview.students')}</th></tr>"
                    + "".join(f'<tr><td class="num">{p:g}</td><td class="num">{n}</td></tr>'
                              for p, n in sorted(counts.items())) + "</table></details>")
    body.append(f"<h2>{t('overview.pass-rate')}</h2><table><tr><th>{t('overview.question')}</th>"
                f"<th>{t('overview.passed')}</th><th></th><th>{t('overview.attempted')}</th></tr>")
    for q in summary["questions"].values():
        if q["manual"]:
            continue
        if not q["students"]:
            body.append(f'<tr><td>{e(q["title"])}</td><td colspan="3" class="muted">{t("overview.nobody")}</td></tr>')
            continue
        share = q["passed"] / q["students"]
        body.append(f'<tr><td>{e(q["title"])}</td><td class="num">'
                    f'{t("overview.passed-of", passed=q["passed"], students=q["students"], share=f"{100 * share:.0f}")}'
                    f'</td><td><span class="bar" style="width:{int(150 * share)}px"></span>'
                    f'<span class="bar empty" style="width:{150 - int(150 * share)}px"></span></td>'
                    f'<td class="num">{q["attempted"]}</td></tr>')
    body.append("</table>")
    body.append(f"<h2>{t('overview.mistakes')}</h2>")
    if not any(q["mistakes"] for q in summary["questions"].values() if not q["manual"]):
        body.append(f'<p class="muted">{t("overview.none")}</p>')
    for q in summary["questions"].values():
        if q["manual"] or not q["mistakes"]:
            continue
        body.append(f"<h3>{e(q['title'])}</h3><table><tr><th>{t('overview.students')}</th>"
                    f"<th>{t('overview.mistake')}</th></tr>")
        for group in q["mistakes"]:
            names = ", ".join(group["students"])
            body.append(f'<tr><td class="num">{len(group["students"])}</td><td>{e(group["title"])}'
                        f'<details><summary class="muted">{t("overview.who")}</summary>{e(names)}</details></td></tr>')
        body.append("</table>")
    val_png = _val_loss_figure(summary)
    body.append(f"<h2>{t('overview.val-loss')}</h2>")
    body.append(f'<img alt="{e(t("overview.alt.val-loss"))}" src="data:image/png;base64,{val_png}">' if val_png
                else f'<p class="muted">{t("overview.none")}</p>')
    body.append(f"<h2>{t('overview.not-graded')}</h2>")
    lists = [(t("overview.problems"), {
                 s: (t("overview.nothing-graded") if s in summary["ungradeable"] else "") + "; ".join(p)
                 for s, p in summary["problems"].items()}),
             (t("overview.not-attempted"), {s: "" for s in summary["not_attempted"]}),
             (t("overview.missing"), {s: ", ".join(f"{n}.ipynb" for n in m)
                                      for s, m in summary["missing_notebooks"].items()})]
    for heading, students in lists:
        body.append(f"<h3>{heading} ({len(students)})</h3>")
        body.append("<ul>" + "".join(f"<li><b>{e(s)}</b>{t('report.colon') + e(why) if why else ''}</li>"
                                     for s, why in sorted(students.items())) + "</ul>" if students else
                    f'<p class="muted">{t("overview.none")}</p>')
    manual = [q for q in summary["questions"].values() if q["manual"]]
    if manual:
        body.append(f"<h2>{t('overview.answers')}</h2>")
    for q in manual:
        body.append(f"<h3>{e(q['title'])}</h3><p class='muted'>{e(q['prompt'])}</p>")
        if not q["answers"] and not q["unanswered"]:
            body.append(f'<p class="muted">{t("overview.none")}</p>')
        body.extend(f"<p><b>{e(a['student'])}</b></p><blockquote>{e(a['answer'])}</blockquote>" for a in q["answers"])
        if q["unanswered"]:
            body.append(f"<p class='muted'>{e(t('overview.no-answer', students=', '.join(q['unanswered'])))}</p>")
    text = "".join(body)
    lang = language()
    return (f'<!doctype html><html lang="{html_lang(lang)}"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{STYLE}{font_css(lang, text)}</style></head><body>{text}</body></html>")


def write_overview(records: list[StudentRecord], folder: Path, lang: str | None = None, unit=None) -> dict:
    """Write the page, the CSV (one row per student) and the JSON, in the course's language
    (``lang``, else DROPOUT_KIT_LANG, else English); return the summary."""
    with use(lang):
        return _write(records, Path(folder), _unit(unit))


def _write(records: list[StudentRecord], folder: Path, unit) -> dict:
    summary = summarize(records, unit)
    from .report import json_safe

    page, table, data = file_names(unit)
    (folder / page).write_text(to_html(summary))
    (folder / data).write_text(json.dumps(json_safe(summary), indent=1, allow_nan=False) + "\n")
    coding = [q.id for q in unit.questions if not isinstance(q, FreeResponse)]
    with open(folder / table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "language", "status", "points", "max_points",
                         *(f"{q}_{c}" for q in coding for c in ("points", "mistake", "val_loss"))])
        for r in sorted(records, key=lambda r: r.student):
            status = ("not handed in" if not r.questions and not r.problems else "not graded" if r.ungradeable
                      else "not attempted" if not r.attempted else "graded")
            row = [r.student, r.language, status, r.points, r.max_points]
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
    parser.add_argument("--lang", help="the course's language for the page: en or zh_CN (default: DROPOUT_KIT_LANG, "
                                       "else en)")
    from ..assignments import add_option, by_key, default

    add_option(parser, default().key)
    args = parser.parse_args(argv)
    course, unit = args.course.resolve(), by_key(args.assignment)
    kit = course / results_folder(unit)
    source = args.source if args.source != "auto" else ("kit" if any(kit.glob("*.json")) else "gradebook")
    if source == "gradebook" and not (args.db or (course / "gradebook.db").exists()):
        print(f"error: no grades in {course}: run `python -m grader batch` or `nbgrader autograde` first.")
        return 2
    with use(args.lang):
        records = (records_from_kit_grades(kit, unit) if source == "kit" else
                   records_from_gradebook(course, args.db, unit))
    summary = write_overview(records, course, args.lang, unit)
    print(f"{summary['students']} students ({source}): " + ", ".join(str(course / n) for n in file_names(unit)))
    return 0
