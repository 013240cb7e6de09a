"""Shared set-up for the kit's own tests: the real data from ../shared/datasets by default."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "datasets"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "DROPOUT_KIT_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["DROPOUT_KIT_DATA"] = str(SHARED_DATA)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def solutions(root) -> Path:
    return root / "solutions" / "dropout-batchnorm"


@pytest.fixture(scope="session")
def exercises(root) -> Path:
    return root / "exercises" / "dropout-batchnorm"
