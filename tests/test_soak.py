"""The soak benchmark, smaller: a class of 30 shaped like the real ones, graded by
`python -m grader batch` once cleanly and once under every fault (Ctrl-C then a rerun, a
corrupted cache entry, kill -9 of a worker while it grades, a full training-cache file system,
the Dask scheduler restarted in --scheduler mode). Every student graded exactly once, grades
identical to the clean run, nothing half-written. Real batch commands, real kernels, real
training on the real data.

The clean run's cache starts with what the suite's other tests have trained (the grades do not
depend on where a training comes from); the faults' cache is a copy of the clean run's, so only
the corrupted entry and the full file system's trainings are trained again."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from grader.running.training_cache import CACHE_ENV

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 1800  # far above the few minutes it takes; a bench that hangs ends here, with all it started

pytestmark = pytest.mark.slow


def test_a_class_graded_under_every_fault_gets_the_grades_of_a_clean_run(tmp_path):
    out = tmp_path / "soak.json"
    command = [sys.executable, str(ROOT / "bench" / "bench_class.py"), "--students", "30", "--no-warm",
               "--reuse-clean-cache", "--full-cache-students", "1", "--keep", str(tmp_path / "class"),
               "--json", str(out)]
    if os.environ.get(CACHE_ENV):
        command += ["--seed-cache", os.environ[CACHE_ENV]]
    bench = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        stdout, stderr = bench.communicate(timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        bench.terminate()  # the bench ends the commands and clusters it started
        stdout, stderr = bench.communicate(timeout=60)
        try:
            os.killpg(bench.pid, signal.SIGKILL)  # a command it ran in its own group
        except ProcessLookupError:
            pass
        pytest.fail(f"the soak did not finish in {LIMIT_S} s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    assert out.exists(), stdout[-3000:] + stderr[-3000:]
    soak = json.loads(out.read_text())
    faults = " | ".join(soak["faults"])
    # a Ctrl-C stops the command (130) with what it finished recorded; the rerun resumes
    assert "Ctrl-C after" in faults and "exit 130" in faults.split("Ctrl-C after")[1].split("|")[0], faults
    assert "corrupted" in faults and "kill -9 of worker" in faults, faults
    assert "the Dask scheduler killed (-9) and started again" in faults and ": exit 0" in faults.split("scheduler")[-1]
    if os.geteuid() == 0:  # a tmpfs can be mounted: the full file system was really full
        assert "a full training cache (1 MB tmpfs)" in faults and "exit 0" in faults.split("1 MB tmpfs")[-1]
    assert soak["once"] and soak["identical"] and soak["half_written"] == [], soak["log"]
    assert any("sent again after the connection to the Dask scheduler was lost" in line for line in soak["retried"])
    assert any("graded again after the worker holding the submission died" in line for line in soak["retried"])
    assert bench.returncode == 0, stdout[-3000:] + stderr[-3000:]
