"""Benchmark: `nbgrader autograde` through the kit's fast path, against `python -m grader batch`.

    python bench/bench_nbgrader.py [--sizes 20 100] [--skip-cold]

The classes are shaped like bench_batch.make_class's (80% the solutions, 10% the untouched
starters, 10% the right models in other forms). Each grader has a training cache of its own,
warmed by a class of 10 (every kind of submission). Then each size is graded by nbgrader
autograde and by batch; for each run the wall time and the CPU the whole machine spent
(/proc/stat) are taken, and the marginal cost of one more submission is the difference between
the largest and the smallest class over the difference in students: wall seconds times the
cores, and core-seconds actually spent (nbgrader grades one notebook at a time, batch on every
core, so the second is the fair comparison).

Last (unless --skip-cold), one submission of each kind is autograded with the training cache off
(DROPOUT_KIT_TRAINING_CACHE=off: every cell runs in the student's kernel, as plain nbgrader runs
it) and every student's gradebook scores and test-cell outputs in the warm classes are compared
with the cold run of the same kind: they must be identical.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import make_class  # noqa: E402
from bench_hit import _machine_busy_seconds  # noqa: E402
from common import ROOT, env  # noqa: E402

ASSIGNMENT = "dropout-batchnorm"
KINDS = {0: "solutions", 8: "starter", 9: "other forms"}


def kind(student: str) -> str:
    return KINDS.get(int(student.removeprefix("student")) % 10, "solutions")


def run(command, cwd, extra_env=None) -> tuple[float, float]:
    """(wall seconds, core-seconds the machine spent) of one command, which must succeed."""
    t0, b0 = time.perf_counter(), _machine_busy_seconds()
    done = subprocess.run(command, cwd=cwd, env=dict(env(), **(extra_env or {})), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0, _machine_busy_seconds() - b0


def autograde(course: Path, cache: str) -> tuple[float, float]:
    return run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create"], course,
               {"DROPOUT_KIT_TRAINING_CACHE": cache})


def batch(course: Path, cache: Path) -> tuple[float, float]:
    return run([sys.executable, "-m", "grader", "batch", str(course), "--cache-dir", str(cache)], ROOT)


def gradebook(course: Path) -> dict:
    """student -> {(notebook, cell): auto score}."""
    db = sqlite3.connect(course / "gradebook.db")
    rows = db.execute("""select sa.student_id, n.name, gc.name, g.auto_score from grade g
                         join submitted_notebook sn on g.notebook_id = sn.id join notebook n on sn.notebook_id = n.id
                         join submitted_assignment sa on sn.assignment_id = sa.id
                         join base_cell gc on g.cell_id = gc.id""").fetchall()
    found: dict = {}
    for student, notebook, cell, score in rows:
        found.setdefault(student, {})[(notebook, cell)] = score
    return found


def test_outputs(course: Path, student: str) -> dict:
    """(notebook, grade id) -> the text a graded cell printed (streams joined: where the kernel
    split a line in two messages is timing, not content)."""
    import nbformat

    found = {}
    for path in sorted((course / "autograded" / student / ASSIGNMENT).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                found[(path.stem, meta["grade_id"])] = "".join(
                    out.get("text", "") if out.get("output_type") == "stream" else repr(out.get("ename"))
                    for out in cell.get("outputs", []))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--skip-cold", action="store_true", help="leave out the cold comparison (about 5 minutes)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="kit-bench-nbgrader-") as scratch:
        scratch = Path(args.keep or scratch)
        nbgrader_cache, batch_cache = scratch / "nbgrader-cache", scratch / "batch-cache"
        warm = make_class(scratch / "warm-up", 10)
        shutil.copytree(warm, scratch / "batch-warm-up")
        print(f"warm-up (a class of 10, every kind): nbgrader {autograde(warm, str(nbgrader_cache))[0]:.0f} s, "
              f"batch {batch(scratch / 'batch-warm-up', batch_cache)[0]:.0f} s", flush=True)
        figures, courses = {}, {}
        for size in args.sizes:
            course = courses[size] = make_class(scratch / f"class-{size}", size)
            # batch writes nbgrader's gradebook and autograded notebooks too: it grades a copy
            shutil.copytree(course, scratch / f"batch-class-{size}")
            figures[("nbgrader", size)] = autograde(course, str(nbgrader_cache))
            figures[("batch", size)] = batch(scratch / f"batch-class-{size}", batch_cache)
            for grader in ("nbgrader", "batch"):
                wall, busy = figures[(grader, size)]
                print(f"{grader}, class of {size}: {wall:.1f} s wall, {busy:.1f} core-s spent", flush=True)
        small, large = min(args.sizes), max(args.sizes)
        print(f"\n{cores} cores; marginal cost of one more submission (classes of {small} and {large}, warm cache):\n")
        print("| grader | wall s | wall s x cores | core-s spent |\n|---|---:|---:|---:|")
        marginal = {}
        for grader in ("nbgrader", "batch"):
            wall = (figures[(grader, large)][0] - figures[(grader, small)][0]) / (large - small)
            busy = (figures[(grader, large)][1] - figures[(grader, small)][1]) / (large - small)
            marginal[grader] = (wall, busy)
            print(f"| {grader} | {wall:.2f} | {wall * cores:.2f} | {busy:.2f} |")
        print(f"\nnbgrader / batch: {marginal['nbgrader'][1] / marginal['batch'][1]:.2f}x in core-s spent, "
              f"{marginal['nbgrader'][0] * cores / (marginal['batch'][0] * cores):.2f}x in wall s x cores")
        if args.skip_cold:
            return 0
        cold = make_class(scratch / "cold", 10)
        for folder in (cold / "submitted").iterdir():
            if int(folder.name.removeprefix("student")) % 10 not in KINDS:
                shutil.rmtree(folder)
        wall, _ = autograde(cold, "off")
        print(f"\ncold (cache off), one submission of each kind: {wall:.0f} s", flush=True)
        reference = gradebook(cold)
        outputs = {kind(s): test_outputs(cold, s) for s in reference}
        scores = {kind(s): reference[s] for s in reference}
        differ = []
        for size, course in courses.items():
            for student, graded in gradebook(course).items():
                if graded != scores[kind(student)] or test_outputs(course, student) != outputs[kind(student)]:
                    differ.append(f"class of {size}: {student} ({kind(student)})")
        total = sum(len(gradebook(c)) for c in courses.values())
        print(f"grades and test outputs identical to the cold run: {total - len(differ)} of {total} submissions"
              + (f"; differ: {', '.join(differ[:10])}" if differ else ""))
        return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
