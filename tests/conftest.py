"""Shared set-up for the kit's own tests. The data come through the kit's own resolver
(DROPOUT_KIT_DATA when set, else the cache, else the publishers): nothing outside the clone.
The training cache is the suite's own, empty at the start of each run (tests/cache_guard.py)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import cache_guard

GUARD = pytest.StashKey()
ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_configure(config):
    """The suite's time is watched: a run of the kit's tests names its slowest ones (not
    `pytest grader`, which students run). The run's own training cache is made here, before
    pytest-xdist starts its workers, which inherit it."""
    if config.option.durations is None:
        config.option.durations = 15
    if not os.environ.get(cache_guard.SUITE_MARK):
        config.stash[GUARD] = cache_guard.Guard()


def pytest_sessionfinish(session, exitstatus):
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

