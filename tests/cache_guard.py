"""The suite never grades through the user's own training cache.

A developer's cache persists between runs: a test that compares a second grading with the first
would then compare an entry with itself, and a "retrained here" test would train nothing. The
suite therefore gives every process it starts a training cache of its own, empty at the start of
the run, and checks at the end that the user's cache was neither read nor written (a read marks
an entry as recently used, so it shows)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SUITE_MARK = "DROPOUT_KIT_SUITE_TRAINING_CACHE"  # set once per run; pytest-xdist's workers inherit it


def snapshot(folder: Path | None) -> tuple | None:
    """Every file under ``folder`` with its size and modification time (None: no folder)."""
    if folder is None or not folder.is_dir():
        return None
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in folder.rglob("*") if p.is_file()))


class Guard:
    """Made once per run, in the process that starts the others."""

    def __init__(self):
        from grader.running.training_cache import CACHE_ENV, default_folder

        self.user = default_folder()
        self.before = snapshot(self.user)
        self.suite = Path(tempfile.mkdtemp(prefix="kit-suite-training-cache-"))
        os.environ[CACHE_ENV] = os.environ[SUITE_MARK] = str(self.suite)

    def broken(self) -> str:
        """Why the user's cache was touched during the run, or ""."""
        if self.user is None or snapshot(self.user) == self.before:
            return ""
        return (f"the suite used your own training cache ({self.user}): a test process graded without the "
                f"suite's cache ({self.suite}); pass the environment on to every process a test starts")

    def entries(self) -> int:
        """Trainings the run stored in its own cache."""
        return sum(1 for p in self.suite.glob("??/*") if p.is_dir() and not p.name.startswith("."))

    def close(self) -> None:
        shutil.rmtree(self.suite, ignore_errors=True)
