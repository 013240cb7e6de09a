"""Benchmark: where a training-cache hit's time goes, phase by phase.

    python bench/bench_hit.py [--repeat 2] [--submission solutions/dropout-batchnorm]
    python bench/bench_hit.py --batch 4 12   # the marginal cost of a hit in batch, warm workers and cache

Grades the submission once to fill a private training cache (not counted), then ``--repeat``
times more, every training reused, in this process, with timers around the grader's own steps:

  grader start         importing the kit and TensorFlow in the grading process (measured once, first)
  kernel start         starting each notebook's sandboxed kernel (nbclient: kernel and client)
  cell <grade id>      each notebook cell as the kernel runs it (imports happen in the first cells)
  hidden <what>        the harness' own code in the kernel: capture before training, restore from the
                       cache, export of the model, the epoch watcher, the seed reset, the peak memory
  cache lookup         key, lock, verified copy of the cache entry
  judging              reading the exported models, recomputing val_loss, the checks
  other                the rest of the wall time (reading, assembling, the report)

It prints a table per notebook (median over the repetitions, in wall seconds) and the grading
process' CPU time with its kernels' (core-seconds), which is what a batch worker pays.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS  # noqa: E402

HIDDEN_KINDS = (("_kit_capture", "hidden capture"), ("_kit_restore", "hidden restore"),
                ("_kit_export", "hidden export"), ("_KitEpochs", "hidden epoch watcher"),
                ("ru_maxrss", "hidden peak memory"), ("_kit_observe", "hidden probe"))


def _cpu_seconds() -> float:
    """Core-seconds the whole machine spent (/proc/stat): the grading process, its kernels (which
    it does not reap itself) and anything else; run on an otherwise idle machine."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    busy = sum(int(value) for value in fields[:8]) - int(fields[3]) - int(fields[4])  # all but idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


class Timers:
    """Wall seconds per phase, per notebook, for one grading run."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self.notebook = "submission"

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[(self.notebook, phase)] += seconds


@contextlib.contextmanager
def instrumented(timers: Timers):
    """Wrap the grader's steps with timers (the code is the kit's own, unchanged)."""
    from nbclient import NotebookClient

    from grader.base import data
    from grader.grading import submission
    from grader.running import harness, training_cache

    saved = []

    def wrap(owner, name, phase_of):
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            phase = phase_of(*args, **kwargs)
            if phase is None:
                return original(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timers.add(phase, time.perf_counter() - t0)
        saved.append((owner, name, original))
        setattr(owner, name, timed)

    def run_notebook_phase(path, notebook, *args, **kwargs):
        timers.notebook = notebook
        return "run_notebook (all of the notebook's kernel work)"

    def hidden_phase(client, source, index):
        return next((label for mark, label in HIDDEN_KINDS if mark in source), "hidden reset and setup")

    def cell_phase(self, cell, index, **kwargs):
        if kwargs.get("store_history") is False:
            return None  # a hidden run, timed by _run_hidden
        grade_id = cell.metadata.get("kit", {}).get("grade_id") or cell.metadata.get("kit", {}).get("after", "extra")
        return f"cell {grade_id}"

    wrap(submission, "run_notebook", run_notebook_phase)
    wrap(NotebookClient, "start_new_kernel", lambda *a, **k: "kernel start")
    wrap(NotebookClient, "start_new_kernel_client", lambda *a, **k: "kernel start")
    wrap(NotebookClient, "execute_cell", cell_phase)
    wrap(harness, "_run_hidden", hidden_phase)
    wrap(training_cache, "key_for", lambda *a, **k: "cache key")
    wrap(training_cache.TrainingCache, "get", lambda *a, **k: "cache lookup")
    wrap(submission, "grade_notebook", lambda *a, **k: "judging")
    wrap(submission, "architecture_gate", lambda *a, **k: "architecture gate (after the answer cell)")
    wrap(submission, "preflight", lambda *a, **k: "sandbox preflight (a kernel of its own)")
    wrap(submission, "identify", lambda *a, **k: "reading the submission")
    wrap(submission.TrainingSession, "start", lambda *a, **k: "trainer session start")
    wrap(submission.TrainingSession, "close", lambda *a, **k: "trainer session close")
    wrap(data, "locate", lambda *a, **k: "data check (sha256 of the data files)")
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def grade_once(submission_path: Path, workdir: Path, cache) -> tuple[float, float, object]:
    from grader.grading.submission import grade

    shutil.rmtree(workdir, ignore_errors=True)
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    report = grade(submission_path, workdir=workdir, cache=cache)
    return time.perf_counter() - t0, _cpu_seconds() - cpu0, report


def batch_marginal(sizes: list, scratch: Path) -> None:
    """The issue's measure of a hit in batch: classes of ``sizes`` copies of the submission graded
    by `python -m grader batch` with a training cache already warm; the marginal cost of one more
    submission is the difference in wall time over the difference in size, times the cores."""
    import subprocess

    from common import env

    cache = scratch / "batch-cache"
    seconds, busy = {}, {}
    for n in [1, *sizes]:  # the class of 1 warms the cache
        course = scratch / f"class-{n}"
        for i in range(n):
            shutil.copytree(SOLUTIONS, course / "submitted" / f"student{i:04d}" / SOLUTIONS.name)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", SOLUTIONS.name, "--force"],
                       cwd=course, env=env(), capture_output=True)
        t0, b0 = time.perf_counter(), _machine_busy_seconds()
        done = subprocess.run([sys.executable, "-m", "grader", "batch", str(course), "--cache-dir", str(cache)],
                              cwd=ROOT, env=env(), capture_output=True, text=True)
        seconds[n], busy[n] = time.perf_counter() - t0, _machine_busy_seconds() - b0
        print(f"batch, class of {n}: {seconds[n]:.1f} s, the machine busy {busy[n]:.1f} core-s "
              f"({done.stdout.strip().splitlines()[-1] if done.stdout else done.stderr[-300:]})", flush=True)
    small, large = sizes[0], sizes[-1]
    cores = os.cpu_count() or 1
    marginal = (seconds[large] - seconds[small]) / (large - small)
    print(f"marginal cost of one more submission in batch: {marginal:.1f} s wall x {cores} cores = "
          f"{marginal * cores:.1f} core-s; CPU the machine spent: "
          f"{(busy[large] - busy[small]) / (large - small):.1f} core-s")


def _machine_busy_seconds() -> float:
    """CPU time the whole machine spent (all processes, all cores) since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--submission", type=Path, default=SOLUTIONS)
    parser.add_argument("--batch", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                        help="instead: the marginal cost in `python -m grader batch` (classes of SMALL and LARGE)")
    args = parser.parse_args()
    if args.batch:
        with tempfile.TemporaryDirectory(prefix="kit-bench-batch-") as scratch:
            batch_marginal(list(args.batch), Path(scratch))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    import grader.grading.submission  # noqa: F401 - the kit
    from grader.base.quiet import import_tensorflow

    import_tensorflow()
    start = (time.perf_counter() - t0, _cpu_seconds() - cpu0)
    from grader.running.training_cache import TrainingCache

    with tempfile.TemporaryDirectory(prefix="kit-bench-hit-") as scratch:
        cache = TrainingCache(Path(scratch) / "cache")
        submission_path = args.submission if args.submission.is_absolute() else ROOT / args.submission
        cold_wall, cold_cpu, report = grade_once(submission_path, Path(scratch) / "work", cache)
        print(f"cold (filling the cache): {cold_wall:.1f} s wall, {cold_cpu:.1f} core-s, "
              f"{report.points}/{report.max_points} points", flush=True)
        runs = []
        for _ in range(args.repeat):
            timers = Timers()
            with instrumented(timers):
                wall, cpu, report = grade_once(submission_path, Path(scratch) / "work", cache)
            from grader.feedback.report import to_html  # what a batch worker adds: the feedback page

            t1 = time.perf_counter()
            to_html(report, "bench")
            timers.notebook = "submission"
            timers.add("feedback page (batch: to_html, its plots)", time.perf_counter() - t1)
            reused = sorted(q for nb in report.notebooks if nb.run for q in nb.run.reused)
            runs.append((wall, cpu, timers.seconds, reused))
            print(f"hit: {wall:.1f} s wall, {cpu:.1f} core-s, trainings reused: {', '.join(reused) or 'none'}",
                  flush=True)

    print(f"\ngrader start (import of the kit and TensorFlow): {start[0]:.1f} s wall, {start[1]:.1f} core-s")
    print(f"a cache hit, median of {len(runs)}: {statistics.median(r[0] for r in runs):.1f} s wall, "
          f"{statistics.median(r[1] for r in runs):.1f} core-s (the whole machine: grader and kernels)\n")
    phases = sorted({key for run in runs for key in run[2]})
    notebooks = sorted({nb for nb, _ in phases})
    for notebook in notebooks:
        rows = [(phase, statistics.median(run[2].get((notebook, phase), 0.0) for run in runs))
                for nb, phase in phases if nb == notebook]
        inner = sum(s for phase, s in rows if not phase.startswith("run_notebook"))
        print(f"{notebook}: {inner:.1f} s in the phases below (run_notebook holds those of its kernel)")
        for phase, seconds in sorted(rows, key=lambda row: -row[1]):
            print(f"  {phase:<36} {seconds:6.2f}")
    timed = statistics.median(sum(s for (nb, phase), s in run[2].items() if not phase.startswith("run_notebook"))
                              for run in runs)
    print(f"\nother (reading, assembling, writing the report): "
          f"{statistics.median(r[0] for r in runs) - timed:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
