"""Shared set-up for the kit's own tests. The data come through the kit's own resolver
(DROPOUT_KIT_DATA when set, else the cache, else the publishers): nothing outside the clone."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_configure(config):
    """The suite's time is watched: a run of the kit's tests names its slowest ones (not
    `pytest grader`, which students run)."""
    if config.option.durations is None:
        config.option.durations = 15


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def solutions(root) -> Path:
    return root / "solutions" / "dropout-batchnorm"


@pytest.fixture(scope="session")
def exercises(root) -> Path:
    return root / "exercises" / "dropout-batchnorm"


@pytest.fixture(scope="session")
def real_data() -> dict:
    """name -> path of each verified data set, found as users find it."""
    from grader import data

    return {name: data.locate(name) for name in data.manifest()}

