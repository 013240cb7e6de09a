"""The outcome of one check and how a student reads it (text for terminals, HTML for notebooks)."""
from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Verdict:
    passed: bool
    message: str
    rows: list = field(default_factory=list)  # (position, expected, found, equal) table rows
    val_loss: float | None = None
    threshold: float | None = None
    not_attempted: bool = False

    def text(self) -> str:
        lines = [("Correct: " if self.passed else "Incorrect: ") + self.message]
        if self.rows and not self.passed:
            width_e = max(len("expected"), *(len(r[1]) for r in self.rows))
            width_f = max(len("found"), *(len(r[2]) for r in self.rows))
            lines.append(f"  {'#':>2}  {'expected':<{width_e}}  {'found':<{width_f}}")
            for position, expected, found, equal in self.rows:
                mark = " " if equal else "x"
                lines.append(f"{mark} {position:>2}  {expected:<{width_e}}  {found:<{width_f}}")
        return "\n".join(lines)

    __str__ = text

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = "Correct" if self.passed else ("Not attempted" if self.not_attempted else "Incorrect")
        parts = [
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{head}</b>: {html.escape(self.message)}'
        ]
        if self.rows and not self.passed:
            parts.append('<table style="margin-top:6px"><tr><th>#</th><th>expected</th><th>found</th></tr>')
            for position, expected, found, equal in self.rows:
                style = "" if equal else ' style="background:#ffebe9"'
                parts.append(
                    f"<tr{style}><td>{position}</td><td><code>{html.escape(expected)}</code></td>"
                    f"<td><code>{html.escape(found)}</code></td></tr>"
                )
            parts.append("</table>")
        parts.append("</div>")
        return "".join(parts)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "message": self.message,
            "val_loss": self.val_loss,
            "threshold": self.threshold,
            "table": [list(r) for r in self.rows],
        }
