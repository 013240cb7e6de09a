"""Reading what a `pytest grader` run printed, the same way wherever it runs."""
from __future__ import annotations

import re


def starters_named(output: str) -> set[str]:
    """The answers a pytest run calls 'still the starter code', each once, however pytest folds
    its short summary (it repeats whole messages there when the CI variable is set)."""
    return set(re.findall(r"`(\w+)` is still the starter code", output))
