"""The outcome of one check and how a student reads it (text for terminals, HTML for notebooks
and feedback pages). The expected-vs-found table is rendered here once for every medium."""
from __future__ import annotations

import html
import os
import unicodedata
from dataclasses import dataclass, field

from ..base.i18n import t

# How each row of the aligned table is marked: a sign for terminals, a word for everyone (pass
# and fail are never told by colour alone), a background for those who see it.
ROW_MARKS = {
    "same": (" ", "row.same", ""),
    "changed": ("~", "row.changed", "#fff8c5"),
    "replaced": ("!", "row.replaced", "#ffebe9"),
    "missing": ("-", "row.missing", "#ffebe9"),
    "extra": ("+", "row.extra", "#ffebe9"),
}


def row_word(status: str) -> str:
    """The word that marks a row: ok, missing, extra, changed, different layer."""
    return t(ROW_MARKS[status][1])


@dataclass
class Verdict:
    passed: bool
    message: str
    rows: list = field(default_factory=list)  # matcher.Row objects: the aligned table
    val_loss: float | None = None
    threshold: float | None = None
    not_attempted: bool = False
    mistake: str | None = None  # the named mistake's id (mistakes.py), for the class overview
    trace: str | None = None  # the student's code's traceback, for the instructor's JSON report only

    def text(self) -> str:
        lines = [t("verdict.correct" if self.passed else "verdict.incorrect", message=self.message)]
        if self.rows and not self.passed:
            lines.extend(table_text(self.rows))
        return "\n".join(lines)

    __str__ = text

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = "✓ " + t("verdict.head.correct") if self.passed else "✗ " + t(
            "verdict.head.not-attempted" if self.not_attempted else "verdict.head.incorrect")
        parts = [
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{head}</b>{t("report.colon")}{message_html(self.message)}'
        ]
        if self.rows and not self.passed:
            parts.append(table_html(self.rows))
        parts.append("</div>")
        return "".join(parts)

    def tag(self) -> str:
        """The verdict in code words, the same in every language (read back by the overview)."""
        value = "-" if self.val_loss is None else f"{self.val_loss:.6g}"
        return f"[kit: mistake={self.mistake or '-'} val_loss={value} not_attempted={int(self.not_attempted)}]"

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "message": self.message,
            "mistake": self.mistake,
            "not_attempted": self.not_attempted,
            "val_loss": self.val_loss,
            "threshold": self.threshold,
            "table": [row.to_dict() for row in self.rows],
            **({"traceback": self.trace} if self.trace else {}),
        }


def _width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table_text(rows) -> list[str]:
    """The aligned table for a terminal: a sign in the first column, the difference at the end."""
    head_e, head_f = t("table.expected"), t("table.found")
    width_e = max(_width(head_e), *(len(r.expected) for r in rows))
    width_f = max(_width(head_f), *(len(r.found) for r in rows))
    lines = [f"     {'#':>2}  {_pad(head_e, width_e)}  {'#':>2}  {_pad(head_f, width_f)}"]
    for row in rows:
        sign, word = ROW_MARKS[row.status][0], row_word(row.status)
        e_pos = f"{row.expected_position:>2}" if row.expected_position else "  "
        f_pos = f"{row.found_position:>2}" if row.found_position else "  "
        note = "" if row.status == "same" else f"  {word}" + (f": {row.note}" if row.note else "")
        lines.append(f"  {sign}  {e_pos}  {row.expected or '':<{width_e}}  {f_pos}  {row.found or '':<{width_f}}{note}".rstrip())
    return lines


# The layer table's font stack: monospace first, then the kit's own CJK font (which the feedback
# pages embed) and the usual CJK fonts, so that 应为/实际/差异 never fall back to empty boxes on a
# machine without a CJK font. Single quotes: it goes inside style="..." attributes too.
# The kit's CJK font before any generic family: a browser that reaches the generic `monospace`
# on a machine without a CJK font draws the table's Chinese words as empty boxes.
MONOSPACE = "'DejaVu Sans Mono','DropoutKit Sans SC',ui-monospace,'Noto Sans Mono CJK SC','Noto Sans CJK SC',monospace"


def table_html(rows) -> str:
    """The aligned table as HTML with inline styles (a notebook output has no style sheet)."""
    cell = f"border:1px solid #d0d7de;padding:2px 8px;font-family:{MONOSPACE}"
    parts = [f'<table style="border-collapse:collapse;margin-top:6px" class="layers">'
             f'<tr><th style="{cell}">#</th><th style="{cell}">{t("table.expected")}</th><th style="{cell}">#</th>'
             f'<th style="{cell}">{t("table.found")}</th><th style="{cell}">{t("table.difference")}</th></tr>']
    for row in rows:
        word, background = row_word(row.status), ROW_MARKS[row.status][2]
        style = cell + (f";background:{background}" if background else "")
        mark = f"✓ {word}" if row.status == "same" else f"✗ {word}" + (f": {row.note}" if row.note else "")
        parts.append(
            f'<tr class="{row.status}"><td style="{style}">{row.expected_position or ""}</td>'
            f'<td style="{style}">{html.escape(row.expected) or "&mdash;"}</td>'
            f'<td style="{style}">{row.found_position or ""}</td>'
            f'<td style="{style}">{html.escape(row.found) or "&mdash;"}</td>'
            f'<td style="{style}">{html.escape(mark)}</td></tr>'
        )
    parts.append("</table>")
    return "".join(parts)


def message_html(message: str) -> str:
    """A verdict message in HTML: its first line (the named mistake) as it is, the rest (the
    position-by-position detail) on a line of its own, in a quieter colour."""
    named, _, detail = message.partition("\n")
    text = html.escape(named)
    if detail:
        text += f'<br><span style="color:#57606a">{html.escape(detail).replace(chr(10), "<br>")}</span>'
    return text


class CheckFailed(AssertionError):
    """A test cell's failed check. IPython shows an exception's ``_render_traceback_`` instead of
    its traceback: the message alone, so that the notebook, nbgrader's Validate and its pages say
    what to change, not where the kit's code is."""

    def _render_traceback_(self) -> list:
        return [part for line in str(self).splitlines() for part in wrapped(line)]


def wrapped(line: str, width: int = 80) -> list:
    """A message line cut to ``width`` terminal columns (a Chinese character takes two) at spaces
    where it has them, so that nbgrader's Validate, which cuts longer lines, and its pages show it
    whole; the layer table's lines (indented) are kept as they are."""
    if line.startswith(" ") or _width(line) <= width:
        return [line]
    parts, current = [], ""
    for word in line.split(" ") if " " in line.strip() and line.isascii() else list(line):
        joiner = " " if current and line.isascii() else ""
        if current and _width(current + joiner + word) > width:
            parts.append(current)
            current = word
        else:
            current += joiner + word
    return parts + [current] if current else parts


def require(passed: bool, message: str) -> None:
    """A test cell's check (an assert statement would vanish under python -O)."""
    if not passed:
        raise CheckFailed(message)


def said(verdict) -> str:
    """What a test cell says: the verdict's text, with its tag under nbgrader autograde."""
    if os.environ.get("DROPOUT_KIT_AUTOGRADE"):
        return verdict.text() + "\n" + verdict.tag()
    return verdict.text()
