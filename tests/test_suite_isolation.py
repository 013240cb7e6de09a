"""The suite grades through a training cache of its own, never the user's (tests/cache_guard.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cache_guard
from grader.running.training_cache import ENTRY_FILES, TrainingCache, default_folder


def test_every_process_the_suite_starts_uses_the_suites_own_training_cache(tmp_path):
    suite = Path(os.environ[cache_guard.SUITE_MARK])
    assert default_folder() == suite
    said = subprocess.run([sys.executable, "-c", "from grader.running.training_cache import default_folder; "
                           "print(default_folder())"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert Path(said.stdout.strip()) == suite
    assert suite.name.startswith("kit-suite-training-cache-")


def test_the_guard_sees_a_read_of_the_users_cache(tmp_path):
    """A cache hit marks its entry as recently used: the snapshot taken before differs after."""
    cache = TrainingCache(tmp_path / "training")
    result = tmp_path / "result"
    result.mkdir()
    for name in ENTRY_FILES:
        (result / name).write_bytes(name.encode())
    key = "ab" + "0" * 62
    cache.put(key, result)
    os.utime(cache.folder / key[:2] / key / "entry.json", ns=(0, 0))  # as if used long ago
    before = cache_guard.snapshot(cache.folder)
    assert cache.get(key).folder is not None
    assert cache_guard.snapshot(cache.folder) != before
    assert cache_guard.snapshot(tmp_path / "absent") is None
