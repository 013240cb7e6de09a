"""Kernel side of grading an internals answer: run the student's definition on the checks' inputs
and write what it produced (grader/exchange.py). The grader reads the numbers and judges them
itself (grader/internals/grading.py): no verdict is decided in the student's kernel."""
from __future__ import annotations


def observe(namespace: dict, key: str, folder: str, nonce: str) -> None:
    from ..base import exchange
    from . import checks
    from .questions import BY_KEY

    question = BY_KEY[key]
    answer = namespace.get(question.name)
    if answer is None:
        record = checks.failure("internals.not-defined", "not-attempted", name=question.name)
    else:
        record = getattr(checks, f"observe_{question.kind}")(answer)
    exchange.save(folder, dict(record, nonce=nonce))
