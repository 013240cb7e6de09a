"""Shared set-up for the kit's own tests. The data come through the kit's own resolver
(DROPOUT_KIT_DATA when set, else the cache, else the publishers): nothing outside the clone.
The training cache is the suite's own, empty at the start of each run (tests/cache_guard.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import cache_guard
import duration_budget

GUARD = pytest.StashKey()
BUDGET = pytest.StashKey()
ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One training thread in every process the suite starts (its two workers share two cores): the
# command, pytest grader, batch, nbgrader and the kernels they start then train alike, so the
# solutions' trainings are done once per run and served from the suite's training cache to every
# test that grades them (the thread settings are part of every cache key).
for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def pytest_configure(config):
    """The suite's time is watched: a run of the kit's tests names its slowest ones (not
    `pytest grader`, which students run). The run's own training cache is made here, before
    pytest-xdist starts its workers, which inherit it."""
    if config.option.durations is None:
        config.option.durations = 15
    if not os.environ.get(cache_guard.SUITE_MARK):
        config.stash[GUARD] = cache_guard.Guard()
    if not hasattr(config, "workerinput"):  # the process that reports: every worker's tests come here
        _BUDGETS.append(duration_budget.Budget())
        config.stash[BUDGET] = _BUDGETS[-1]


_BUDGETS: list = []  # this process's (pytest_runtest_logreport is not given the config)


def pytest_runtest_logreport(report):
    if _BUDGETS:
        _BUDGETS[-1].add(report)


def pytest_sessionfinish(session, exitstatus):
    budget = session.config.stash.get(BUDGET, None)
    if budget is not None and budget.seconds and session.testscollected:
        writer = session.config.get_terminal_writer()
        writer.line("\nthe suite's time by file (budgets: tests/duration_budget.py):")
        for line in budget.table():
            writer.line("  " + line)
        for name, spent, allowed in budget.over():
            writer.line(f"ERROR: {name} took {spent:.0f} s, over its budget of {allowed:.0f} s "
                        "(tests/duration_budget.py): make it cheaper, or measure and justify a new budget", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    guard = session.config.stash.get(GUARD, None)
    if guard is None:
        return
    session.config.get_terminal_writer().line(
        f"the suite's own training cache: {guard.entries()} trainings stored in this run ({guard.suite})")
    if why := guard.broken():
        session.config.get_terminal_writer().line(f"ERROR: {why}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    guard = config.stash.get(GUARD, None)
    if guard is not None:
        guard.close()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def solutions(root) -> Path:
    return root / "solutions" / "dropout-batchnorm"


@pytest.fixture(scope="session")
def exercises(root) -> Path:
    return root / "exercises" / "dropout-batchnorm"


@pytest.fixture
def answer_sources():
    """inspect.getsource needs a file: a corpus answer's code is given to it through linecache,
    under the name the answer was compiled with (``<answer NAME>``)."""
    import linecache

    def remember(code, name):
        linecache.cache[f"<answer {name}>"] = (len(code), None, code.splitlines(True), f"<answer {name}>")
    yield remember


@pytest.fixture(scope="session")
def real_data() -> dict:
    """name -> path of each verified data set, found as users find it."""
    from grader.base import data

    return {name: data.locate(name) for name in data.manifest()}

