"""The soak benchmark, smaller: a class of 30 shaped like the real ones, graded by
`python -m grader batch` once cleanly and once under every fault (Ctrl-C then a rerun, a
corrupted cache entry, kill -9 of a worker while it grades, a full training-cache file system,
the Dask scheduler restarted in --scheduler mode). Every student graded exactly once, grades
identical to the clean run, nothing half-written. Real batch commands, real kernels, real
training on the real data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_a_class_graded_under_every_fault_gets_the_grades_of_a_clean_run(tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_class.py"), "--students", "30", "--no-warm",
                           "--reuse-clean-cache",
                           "--keep", str(tmp_path / "class"), "--json", str(out)],
                          capture_output=True, text=True, timeout=3000, cwd=ROOT)
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    soak = json.loads(out.read_text())
    faults = " | ".join(soak["faults"])
    assert "Ctrl-C after" in faults and "corrupted" in faults and "kill -9 of worker" in faults, faults
    assert "the Dask scheduler killed (-9) and started again" in faults and ": exit 0" in faults.split("scheduler")[-1]
    if os.geteuid() == 0:  # a tmpfs can be mounted: the full file system was really full
        assert "a full training cache (1 MB tmpfs)" in faults and "exit 0" in faults.split("1 MB tmpfs")[-1]
    assert soak["once"] and soak["identical"] and soak["half_written"] == [], soak["log"]
    assert any("sent again after the connection to the Dask scheduler was lost" in line for line in soak["retried"])
    assert any("graded again after the worker holding the submission died" in line for line in soak["retried"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
