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
# Measured in a fresh clone with `.ci/run` (2-core AMD EPYC, 2026-12-07: 555 tests in 29 min 1 s,
# 3,149 s of test time), times about 1.5.
BUDGETS_S = {
    "tests/test_nbgrader.py": 680.0,  # 450: the course (autograde, feedback, exchange, a cold run)
    "tests/test_training_cache.py": 500.0,  # 331: the soundness corpus, every case trained twice
    "tests/test_soak.py": 470.0,  # 308
    "tests/test_held_out_seeds.py": 420.0,  # 275: ten trainings that must be fresh
    "tests/test_hosted_notebook.py": 320.0,  # 201: an image installed, the solutions run in it
    "tests/test_grading_end_to_end.py": 290.0,  # 190
    # 172; 229 and 277 in fresh clones once mallory was autograded by one of two nbgrader processes
    # (a second student beside her, on the host and in the simulated container)
    "tests/test_secrets.py": 340.0,
    "tests/test_internals_grading.py": 240.0,  # 158
    # 268 in a fresh clone after run_autograder's container settings (cold kernels: +20 s), its time-budget
    # run (+60 s, since cut to 40) and the calibrated-environment check of setup.sh (+6 s)
    "tests/test_gradescope.py": 370.0,
    "tests/test_batch.py": 220.0,  # 146
    "tests/test_hostile.py": 190.0,  # 125
    "tests/test_released_before_the_move.py": 180.0,  # 113
    "tests/test_chinese_end_to_end.py": 170.0,  # 110
    "tests/test_sandbox.py": 160.0,  # 100
    # 197 after the steps ran in the command grader's bare environment: each step's setup-command
    # (pip), and the solutions trained once with the runner's own threads (no thread settings reach it)
    "tests/test_github_classroom.py": 300.0,
    "tests/test_install.py": 100.0,  # 63
    "tests/test_internals_notebook.py": 130.0,  # 54 in a fresh clone, 91 in CI beside the soak (44 alone)
    "tests/test_mangled_notebooks.py": 400.0,  # 263 in a fresh clone: 34 cases on the command, batch, pytest grader, own checks
}
# The whole suite's test time (both workers together). Set at 3,900 s (3,149 s measured for 555
# tests, times 1.25); the mangled-notebook corpus and Gradescope's limits then added their files
# (within their own budgets) and CI measured 3,925 s for 631 tests, every one passing, and fresh
# clones here 3,932 s for 634: 4,400 s is that, times 1.12. The goal is 2 x 20 minutes (2,400 s),
# not reached yet: lower this as the suite gets there.
TOTAL_S = 4400.0


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
        """The ``top`` slowest files against their budgets, then the whole suite against TOTAL_S."""
        rows = sorted(self.seconds.items(), key=lambda item: -item[1])[:top]
        return [f"{spent:8.1f} s of {BUDGETS_S.get(name, DEFAULT_S):6.0f} s  {name}" for name, spent in rows] + [
            f"{sum(self.seconds.values()):8.1f} s of {TOTAL_S:6.0f} s  the whole suite"]
