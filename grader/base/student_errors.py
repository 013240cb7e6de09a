"""An exception raised by a student's code, told in words a student can act on.

Keras wraps an error raised inside a layer in its own text: "Exception encountered when calling
X.call().", the real message in terminal colour codes, then "Arguments received by X.call():" and
a dump of the arguments. A student needs the exception's type and the real message's first line;
the instructor keeps the whole traceback (``plain``), without the colour codes.
"""
from __future__ import annotations

import re

from .i18n import t

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_KERAS_PREAMBLE = re.compile(r"^\s*Exception encountered when calling [^\n]*?\.?\s*$", re.MULTILINE)
_KERAS_ARGUMENTS = re.compile(r"\n\s*Arguments received by .*", re.DOTALL)
_LONG_REPR = re.compile(r"<[^<>\n]{40,}>")  # "<Variable path=..., value=[...]>": an object dump
MAX_LINE = 500  # characters of the first line a student reads (the harness keeps 500 of a message)


def plain(text: str) -> str:
    """``text`` without terminal escape codes (tracebacks from IPython are coloured)."""
    return ANSI.sub("", text or "")


def first_line(message: str) -> str:
    """The line of an exception's message that says what went wrong: no colour codes, no Keras
    call preamble or argument dump, cut to ``MAX_LINE`` characters."""
    text = _KERAS_ARGUMENTS.sub("", plain(message))
    text = _KERAS_PREAMBLE.sub("", text)
    line = _LONG_REPR.sub("<…>", next((line.strip() for line in text.splitlines() if line.strip()), ""))
    return line if len(line) <= MAX_LINE else line[:MAX_LINE - 1].rstrip() + "…"


def raised(ename: str | None) -> str:
    """The id that groups a class by the exception that stopped an answer cell ("raised
    NameError"): the same words whether the harness saw it or nbgrader's notebook records it."""
    return f"raised {ename or 'Error'}"


def described(ename: str, evalue: str) -> str:
    """'ValueError with the message “…”': the type, then the message's first line; never Python's
    'ValueError: …' form, which reads as a crash of the tool rather than feedback."""
    line = first_line(evalue)
    if not ename:
        return t("error.unknown")
    return t("error.said", ename=ename, line=line) if line else t("error.bare", ename=ename)
