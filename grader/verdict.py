"""The outcome of one check and how a student reads it (text for terminals, HTML for notebooks
and feedback pages). The expected-vs-found table is rendered here once for every medium."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

# How each row of the aligned table is marked: a sign for terminals, a word for everyone (pass
# and fail are never told by colour alone), a background for those who see it.
ROW_MARKS = {
    "same": (" ", "ok", ""),
    "changed": ("~", "changed", "#fff8c5"),
    "replaced": ("!", "different layer", "#ffebe9"),
    "missing": ("-", "missing", "#ffebe9"),
    "extra": ("+", "extra", "#ffebe9"),
}


@dataclass
class Verdict:
    passed: bool
    message: str
    rows: list = field(default_factory=list)  # matcher.Row objects: the aligned table
    val_loss: float | None = None
    threshold: float | None = None
    not_attempted: bool = False
    mistake: str | None = None  # the named mistake's id (mistakes.py), for the class overview

    def text(self) -> str:
        lines = [("Correct: " if self.passed else "Incorrect: ") + self.message]
        if self.rows and not self.passed:
            lines.extend(table_text(self.rows))
        return "\n".join(lines)

    __str__ = text

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = "✓ Correct" if self.passed else ("✗ Not attempted" if self.not_attempted else "✗ Incorrect")
        parts = [
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{head}</b>: {message_html(self.message)}'
        ]
        if self.rows and not self.passed:
            parts.append(table_html(self.rows))
        parts.append("</div>")
        return "".join(parts)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "message": self.message,
            "mistake": self.mistake,
            "not_attempted": self.not_attempted,
            "val_loss": self.val_loss,
            "threshold": self.threshold,
            "table": [row.to_dict() for row in self.rows],
        }


def table_text(rows) -> list[str]:
    """The aligned table for a terminal: a sign in the first column, the difference at the end."""
    width_e = max(len("expected"), *(len(r.expected) for r in rows))
    width_f = max(len("found"), *(len(r.found) for r in rows))
    lines = [f"     {'#':>2}  {'expected':<{width_e}}  {'#':>2}  {'found':<{width_f}}"]
    for row in rows:
        sign, word, _ = ROW_MARKS[row.status]
        e_pos = f"{row.expected_position:>2}" if row.expected_position else "  "
        f_pos = f"{row.found_position:>2}" if row.found_position else "  "
        note = "" if row.status == "same" else f"  {word}" + (f": {row.note}" if row.note else "")
        lines.append(f"  {sign}  {e_pos}  {row.expected or '':<{width_e}}  {f_pos}  {row.found or '':<{width_f}}{note}".rstrip())
    return lines


def table_html(rows) -> str:
    """The aligned table as HTML with inline styles (a notebook output has no style sheet)."""
    cell = "border:1px solid #d0d7de;padding:2px 8px;font-family:monospace"
    parts = [f'<table style="border-collapse:collapse;margin-top:6px" class="layers">'
             f'<tr><th style="{cell}">#</th><th style="{cell}">expected</th><th style="{cell}">#</th>'
             f'<th style="{cell}">found</th><th style="{cell}">difference</th></tr>']
    for row in rows:
        sign, word, background = ROW_MARKS[row.status]
        style = cell + (f";background:{background}" if background else "")
        mark = "✓ ok" if row.status == "same" else f"✗ {word}" + (f": {row.note}" if row.note else "")
        parts.append(
            f'<tr class="{row.status}"><td style="{style}">{row.expected_position or ""}</td>'
            f'<td style="{style}">{html.escape(row.expected) or "&mdash;"}</td>'
            f'<td style="{style}">{row.found_position or ""}</td>'
            f'<td style="{style}">{html.escape(row.found) or "&mdash;"}</td>'
            f'<td style="{style}">{html.escape(mark)}</td></tr>'
        )
    parts.append("</table>")
    return "".join(parts)


DETAIL = "\nPosition by position: "


def message_html(message: str) -> str:
    """A verdict message in HTML: the named mistake first, its position-by-position detail on a
    line of its own, in a quieter colour."""
    named, _, detail = message.partition(DETAIL)
    text = html.escape(named).replace("\n", "<br>")
    if detail:
        text += f'<br><span style="color:#57606a">Position by position: {html.escape(detail)}</span>'
    return text
