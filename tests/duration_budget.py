"""The suite's time budget: each test file's total time (set-up, calls and tear-down of its
tests) against a budget, checked at the end of every run of the kit's tests.

The suite must stay well inside CI's limit, and each new capability has to pay for its own test
time: a file that outgrows its budget fails the run, with a table of what each file took, so the
cost is seen when it is added, not sessions later. Budgets are about 1.5 times what a fresh clone
measured here (2 cores, `pytest -n 2 --dist loadfile`); a file not listed gets DEFAULT_S.
Raise a budget only with the measurement that justifies it.
"""
from __future__ import annotations

from collections import defaultdict

DEFAULT_S = 60.0
BUDGETS_S = {  # measured in a fresh clone (see the README's "Running the kit's tests"), times about 1.5
    "tests/test_nbgrader.py": 420.0,
    "tests/test_soak.py": 420.0,
    "tests/test_held_out_seeds.py": 420.0,
    "tests/test_hosted_notebook.py": 360.0,
    "tests/test_training_cache.py": 300.0,
    "tests/test_batch.py": 240.0,
    "tests/test_chinese_end_to_end.py": 240.0,
    "tests/test_gradescope.py": 240.0,
    "tests/test_github_classroom.py": 200.0,
    "tests/test_grading_end_to_end.py": 200.0,
    "tests/test_secrets.py": 240.0,
    "tests/test_sandbox.py": 180.0,
    "tests/test_fork_server.py": 120.0,
    "tests/test_hostile.py": 180.0,
    "tests/test_install.py": 240.0,
}
TOTAL_S = 2 * 20 * 60.0  # two workers, twenty minutes


class Budget:
    """Collects each finished test's time by file (in the process that starts the workers)."""

    def __init__(self):
        self.seconds: dict = defaultdict(float)

    def add(self, report) -> None:
        self.seconds[report.nodeid.split("::")[0]] += report.duration

    def over(self) -> list:
        """(file, seconds, budget) of every file over its budget, and of the suite over TOTAL_S."""
        found = [(name, spent, BUDGETS_S.get(name, DEFAULT_S)) for name, spent in sorted(self.seconds.items())
                 if spent > BUDGETS_S.get(name, DEFAULT_S)]
        total = sum(self.seconds.values())
        if total > TOTAL_S:
            found.append(("the whole suite", total, TOTAL_S))
        return found

    def table(self, top: int = 10) -> list:
        rows = sorted(self.seconds.items(), key=lambda item: -item[1])[:top]
        return [f"{spent:8.1f} s of {BUDGETS_S.get(name, DEFAULT_S):6.0f} s  {name}" for name, spent in rows]
