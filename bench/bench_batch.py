"""Benchmark: a class graded with the Dask batch command, with and without the training cache,
against plain nbgrader autograde.

    python bench/bench_batch.py [--students 20] [--nbgrader-students 4]

The class is shaped like a real one: 80% hand in the solutions, 10% the untouched starter
notebooks, 10% the right models written in other forms (``.add()`` with other names, the
functional API) with extra code. Prints, from the same run on the same machine: the batch
command with the cache (cold: an empty cache), with ``--no-cache``, and nbgrader autograde on the
first ``--nbgrader-students`` of the same class (it is slow: seconds per submission are what
compare), the speed-up, and whether every student's grades are identical with and without cache.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS, env  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))


def make_class(folder: Path, students: int, nbgrader_students: int | None = None) -> Path:
    import nbformat

    from submissions import add_cell_after, set_answer, solution_notebook
    from test_training_cache import Q1_ADD, Q3_FUNCTIONAL

    shutil.copytree(ROOT / "solutions", folder / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "dropout-batchnorm"], cwd=folder,
                   env=env(), check=True, capture_output=True)
    for n in range(students if nbgrader_students is None else nbgrader_students):
        target = folder / "submitted" / f"student{n:03d}" / "dropout-batchnorm"
        kind = n % 10
        if kind == 8:  # the untouched starter notebooks
            shutil.copytree(ROOT / "exercises" / "dropout-batchnorm", target)
        elif kind == 9:  # the right models in other forms, with extra code
            shutil.copytree(SOLUTIONS, target)
            spotify = set_answer(solution_notebook("spotify"), "spotify_q1_model", Q1_ADD)
            set_answer(spotify, "spotify_q3_model", Q3_FUNCTIONAL)
            add_cell_after(spotify, "spotify_q1_model", "print(model.summary())")
            nbformat.write(spotify, target / "spotify.ipynb")
        else:
            shutil.copytree(SOLUTIONS, target)
    return folder


def timed(command, cwd, extra_env=None) -> float:
    t0 = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=dict(env(), **(extra_env or {})), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return time.perf_counter() - t0


def grades(course: Path) -> dict:
    """student -> question -> (points, message, val_loss): what must not depend on the cache."""
    found = {}
    for path in sorted((course / "kit-grades").glob("*.json")):
        report = json.loads(path.read_text())
        found[path.stem] = {q["id"]: (q["points"], q["message"], q["val_loss"])
                            for nb in report["notebooks"] for q in nb["questions"]}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--nbgrader-students", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        runs = [("kit batch, training cache (cold)", "cached", ["--cache-dir", str(scratch / "training-cache")]),
                ("kit batch, --no-cache", "uncached", ["--no-cache"])]
        courses = {}
        for label, folder, options in runs:
            course = make_class(scratch / folder, args.students)
            seconds = timed([sys.executable, "-m", "grader", "batch", str(course), *options], ROOT)
            rows.append((label, args.students, seconds))
            courses[label] = course
            print(f"{label}: {seconds:.0f} s", file=sys.stderr, flush=True)
        course = make_class(scratch / "nbgrader", args.students, args.nbgrader_students)
        seconds = timed([sys.executable, "-m", "nbgrader", "autograde", "dropout-batchnorm", "--create"], course)
        rows.append(("plain nbgrader autograde", args.nbgrader_students, seconds))
        same = grades(courses["kit batch, training cache (cold)"]) == grades(courses["kit batch, --no-cache"])
    print(f"\nA class of {args.students} (80% solutions, 10% starter, 10% other forms), {os.cpu_count()} cores\n")
    print("| grader | submissions | seconds | seconds/submission |\n|---|---:|---:|---:|")
    for label, count, seconds in rows:
        print(f"| {label} | {count} | {seconds:.0f} | {seconds / count:.1f} |")
    per = {label: seconds / count for label, count, seconds in rows}
    print(f"\ncache vs --no-cache: {per['kit batch, --no-cache'] / per['kit batch, training cache (cold)']:.2f}x faster; "
          f"vs nbgrader: {per['plain nbgrader autograde'] / per['kit batch, training cache (cold)']:.2f}x faster")
    print(f"every student's grades identical with and without the cache: {same}")


if __name__ == "__main__":
    main()
