"""What a student reads never looks like a crash: no Python exception in its 'NameError: ...'
form, no terminal colour codes, no Keras call dump."""
import re

PYTHON_STYLE = re.compile(r"\b[A-Z]\w*(Error|Exception|Warning|Interrupt|Exit)\s*[:：]")
UNREADABLE = (("\x1b", "a terminal escape code"), ("Arguments received by", "Keras' call dump"),
              ("Exception encountered when calling", "Keras' call preamble"),
              ("most recent call last", "a traceback"))


def problems_in(text: str) -> list:
    """What makes ``text`` unreadable for a student, in words (empty when nothing does)."""
    found = [f"{match.group(0)!r}: a Python exception's form" for match in PYTHON_STYLE.finditer(text)]
    return found + [why for mark, why in UNREADABLE if mark in text]


def messages_of(report) -> list:
    """Every text a student reads in a JSON report (messages and training notes), at any depth."""
    found = []
    if isinstance(report, dict):
        for key, value in report.items():
            if key in ("message", "training", "output") and isinstance(value, str):
                found.append(value)
            elif key not in ("traceback", "problems", "answer"):  # the instructor's, and the student's own text
                found.extend(messages_of(value))
    elif isinstance(report, list):
        for item in report:
            found.extend(messages_of(item))
    return found
