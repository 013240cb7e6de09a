"""The feedback report: one self-contained HTML page per submission, and a terminal summary.

Per question: the verdict, the message, the expected-vs-found table, and for each trained model
the student's learning curves drawn over the band of the reference solution's curves.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from ..grading.submission import SubmissionReport
from .fonts import font_css, html_lang
from ..running.recognise import BY_CELL_ID, BY_GRADE_ID, BY_PLACE, BY_TEXT
from ..base.i18n import language, t, use
from ..judging.verdict import MONOSPACE, message_html, table_html

STYLE = """
body{font-family:"DropoutKit Sans SC",system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Hiragino Sans GB","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;max-width:900px;margin:2em auto;color:#1f2328;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:1.6em}
.q{border:1px solid #d0d7de;border-radius:8px;padding:.8em 1em;margin:1em 0}
.pass{border-left:6px solid #1a7f37}.fail{border-left:6px solid #cf222e}.manual{border-left:6px solid #9a6700}
.badge{font-weight:600;padding:.1em .5em;border-radius:1em;font-size:.9em}
.pass .badge{background:#dafbe1;color:#1a7f37}.fail .badge{background:#ffebe9;color:#cf222e}.manual .badge{background:#fff8c5;color:#9a6700}
pre{font-family:%(mono)s;white-space:pre-wrap;background:#f6f8fa;padding:.6em;border-radius:6px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:.2em .6em;font-family:%(mono)s;font-size:.9em}
tr.bad td{background:#ffebe9}.score{font-size:1.3em;font-weight:600}
.training{color:#57606a;font-size:.9em}
@media print{body{max-width:none;margin:0}.q{break-inside:avoid}img{max-width:100%}}.unsandboxed{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:.6em 1em;font-weight:600}
""".replace("%(mono)s", MONOSPACE)


def _curve_png(result) -> str | None:
    """The student's learning curves as a PNG (base64). Remembered in this process for the same
    curves and title: in a class, the same cached training comes back again and again."""
    if not result.history or not result.history.get("loss"):
        return None
    title = t("plot.your-curves", title=result.question.heading)
    key = json.dumps([result.history, title, result.question.band_id, language()], sort_keys=True, default=str)
    if key not in _PLOTTED:
        _PLOTTED[key] = _draw_curves(result.history, title, result.question.band_id)
        while len(_PLOTTED) > 32:
            _PLOTTED.pop(next(iter(_PLOTTED)))
    return _PLOTTED[key]


_PLOTTED: dict = {}


def _draw_curves(history: dict, title: str, band_id: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import learning_curves

    from .fonts import use_cjk_fallback

    use_cjk_fallback()
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    learning_curves(history, title, question_id=band_id, ax=ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def answer_text(result) -> str:
    """A free response as the student wrote it (nbgrader's solution markers removed), or the
    words that say there is none."""
    answer = "\n".join(line for line in (result.answer or "").splitlines()
                       if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")).strip()
    return answer or t("report.no-answer")


def _question_html(result) -> str:
    q = result.question
    if result.manual:
        answer = answer_text(result)
        return (f'<div class="q manual"><span class="badge">✎ {t("report.badge.manual")}</span> '
                f'<b>{html.escape(q.heading)}</b> ({t("report.points-one" if q.points == 1 else "report.points", points=q.points)})'
                f'<p>{html.escape(q.prompt)}</p><pre>{html.escape(answer)}</pre></div>')
    state = "pass" if result.passed else "fail"
    badge = "✓ " + t("report.badge.passed") if result.passed else "✗ " + t("report.badge.failed")
    parts = [f'<div class="q {state}"><span class="badge">{badge}</span> '
             f'<b>{html.escape(q.heading)}</b> &mdash; {t("report.score-of", points=result.points, max=result.max_points)}']
    for name, (verdict, points) in result.parts.items():
        label = t("report.part.architecture" if name == "architecture" else
                  "report.part.check" if name == "check" else "report.part.val-loss")
        head = t("verdict.head.correct" if verdict.passed else "verdict.head.incorrect")
        parts.append(f"<p><b>{label}</b> ({points if verdict.passed else 0}/{points}){t('report.colon')}"
                     f"{head}{t('report.colon')}{message_html(verdict.message)}</p>")
        if verdict.rows and not verdict.passed:
            parts.append(table_html(verdict.rows))
    if result.training:
        parts.append(f'<p class="training">{html.escape(t("report.training", how=result.training))}</p>')
    png = _curve_png(result)
    if png:
        parts.append(f'<img alt="{html.escape(t("report.curves-alt", title=q.heading))}" src="data:image/png;base64,{png}">')
    parts.append("</div>")
    return "".join(parts)


def handed_in(report: SubmissionReport) -> str:
    """What the student handed in, in the student's own terms: the notebooks' file names (or the
    submission's own name), never the grading machine's folders."""
    names = [Path(nb.path).name for nb in report.notebooks if nb.path]
    return ", ".join(names) if names else Path(report.submission).name


def handed_in_notes(report: SubmissionReport) -> list[str]:
    """What was made of the files: a notebook graded from a file of another name, cells known by
    their text (metadata lost), a file set aside. Never silent: the student sees what was graded."""
    lines = []
    for nb in report.notebooks:
        if nb.path and Path(nb.path).name != f"{nb.notebook}.ipynb":
            lines.append(t("report.graded-from", notebook=nb.notebook, file=Path(nb.path).name))
        if nb.run is not None and nb.run.recognised_by != BY_GRADE_ID:
            how = {BY_CELL_ID: t("recognised.cell-id"), BY_TEXT: t("recognised.text"),
                   BY_PLACE: t("recognised.place")}[nb.run.recognised_by]
            lines.append(t("report.recognised-by", file=Path(nb.path).name, how=how))
    return lines + list(report.set_aside)


def to_html(report: SubmissionReport, title: str | None = None) -> str:
    """The feedback page, in the language of the graded notebooks."""
    with use(report.language):
        return _page(report, title)


def _page(report: SubmissionReport, title: str | None) -> str:
    lang = language()
    title = title or t("report.title")
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="score">{t("report.score", points=report.points, max=report.max_points)}</p>',
            f"<p>{t('report.submission')}<code>{html.escape(handed_in(report))}</code></p>"]
    if report.sandbox is not None and not report.sandbox.active:
        body.insert(1, f'<p class="unsandboxed" role="alert">'
                       f'{html.escape(t("report.unsandboxed", reason=report.sandbox.reason))}</p>')
    elif report.sandbox is not None:
        body.append(f'<p class="contained">{html.escape(t("report.contained", layer=layer_words(report.sandbox)))}</p>')
    body.extend(f'<p class="handed-in">{html.escape(line)}</p>' for line in handed_in_notes(report))
    for nb in report.notebooks:
        body.append(f"<h2>{html.escape(nb.notebook)}.ipynb</h2>")
        if nb.error:
            body.append(f'<div class="q fail"><b>{t("report.notebook-failed")}</b> {html.escape(nb.error)}</div>')
        if nb.missing:  # one line says it: no box per question repeating it
            continue
        body.extend(_question_html(r) for r in nb.results)
    page_text = "".join(body)
    return (f'<!doctype html><html lang="{html_lang(lang)}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}{font_css(lang, page_text)}</style></head><body>{page_text}</body></html>")


def write_html(report: SubmissionReport, path: Path, title: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(report, title))
    return path


def write_json(report: SubmissionReport, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(report.to_dict()), indent=1, allow_nan=False) + "\n")
    return path


def json_safe(value):
    """JSON has no NaN or inf: a diverged val_loss is written as the string "nan"/"inf"."""
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def layer_words(state) -> str:
    """Which layer contained the student's code, in the reader's language."""
    return t("sandbox.layer." + state.layer.replace("+", "-"))


def summary(report: SubmissionReport) -> str:
    """The terminal summary, in the language of the graded notebooks."""
    with use(report.language):
        lines = ["  " + line for line in handed_in_notes(report)]
        for nb in report.notebooks:
            for r in nb.results:
                if r.manual:
                    lines.append(f"  [ {t('summary.read')} ] " + t("summary.free-response", title=r.question.heading))
                    continue
                mark = t("summary.pass") if r.passed else t("summary.fail")
                lines.append(f"  [ {mark} ] {r.question.heading}: {r.points}/{r.max_points}"
                             + (" " + t("summary.reused") if r.reused else ""))
                if not r.passed:
                    lines.extend("           " + line for line in r.message.splitlines())
                else:
                    lines.extend("           " + line for line in r.notes)
        lines.append("  " + t("summary.score", points=report.points, max=report.max_points,
                              seconds=f"{report.seconds:.0f}"))
        if report.sandbox is not None and report.sandbox.active:
            lines.append("  " + t("summary.contained", layer=layer_words(report.sandbox)))
        return "\n".join(lines)
