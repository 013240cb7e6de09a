"""Benchmark: class throughput with the Dask batch command against plain nbgrader autograde.

    python bench/bench_batch.py [--students 4]

Every student hands in the solution notebooks (so every submission trains all its models).
Prints submissions per minute for 1 and 2 local workers and for `nbgrader autograde` on the
same class, in the same run, and the time this implies for 500 submissions.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS, env  # noqa: E402


def make_course(folder: Path, students: int) -> Path:
    shutil.copytree(ROOT / "solutions", folder / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "dropout-batchnorm"], cwd=folder,
                   env=env(), check=True, capture_output=True)
    for n in range(students):
        shutil.copytree(SOLUTIONS, folder / "submitted" / f"student{n:03d}" / "dropout-batchnorm")
    return folder


def timed(command, cwd) -> float:
    t0 = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for label, workers in (("kit batch, 1 worker", 1), ("kit batch, 2 workers", 2)):
            course = make_course(Path(scratch) / f"w{workers}", args.students)
            seconds = timed([sys.executable, "-m", "grader", "batch", str(course), "--workers", str(workers)], ROOT)
            rows.append((label, seconds))
            print(f"{label}: {seconds:.0f} s", file=sys.stderr, flush=True)
        course = make_course(Path(scratch) / "nbgrader", args.students)
        seconds = timed([sys.executable, "-m", "nbgrader", "autograde", "dropout-batchnorm", "--create"], course)
        rows.append(("plain nbgrader autograde", seconds))
    print(f"\n{args.students} submissions (solutions, every model trained), {os.cpu_count()} cores\n")
    print("| grader | seconds | submissions/min | seconds/submission |\n|---|---:|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.0f} | {args.students / seconds * 60:.2f} | {seconds / args.students:.0f} |")
    best = min(seconds for label, seconds in rows if label.startswith("kit")) / args.students
    print(f"\n500 submissions on one machine like this: {500 * best / 3600:.1f} h; on N such machines "
          f"about {500 * best / 3600:.1f}/N h (each machine runs one worker per core).")


if __name__ == "__main__":
    main()
