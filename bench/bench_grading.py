"""Benchmark: how close grading comes to the cost of the training it must do.

    python bench/bench_grading.py [--repeat 3]

Measures, on this machine, medians over the repetitions:
 1. floor      bare training of the graded models in one plain Python process (import + data + fits)
 2. pytest     `pytest grader --submission solutions/...` end to end
 3. command    `python -m grader solutions/...` end to end
 4. nbgrader   `nbgrader autograde` of the same notebooks handed in by one student
 5. cold       `python -m grader` with an empty training cache (the trainings run in the kit's trainer)
 6. warm       the same again: every training reused
 5. the latency of the architecture check (no training)
 6. peak memory of the grading process and of the kernels
and prints the ratios (2)/(1), (3)/(1), (3)/(4), (5)/(1) and (6)/(5). (2) and (3) run with --no-cache.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS, env  # noqa: E402

FLOOR = """
import time, json
t0 = time.perf_counter()
import keras
from grader.lesson.questions import CODING
from grader.base.training import train
fits = {}
for q in CODING:
    fits[q.id] = train(q.solution_code, q.expected.input_dim, q.protocol).seconds
print(json.dumps({"wall": time.perf_counter() - t0, "fits": fits}))
"""


def timed(command, cwd=ROOT) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    return time.perf_counter() - t0, result


def floor() -> dict:
    seconds, result = timed([sys.executable, "-c", FLOOR])
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["process"] = seconds
    return figures


def pytest_grader(out: Path) -> tuple[float, dict]:
    seconds, result = timed([sys.executable, "-m", "pytest", "grader", "--submission", str(SOLUTIONS), "-q",
                             "-p", "no:cacheprovider", "--no-cache", "--json", str(out / "pytest.json"), "--report", str(out / "r.html")])
    assert result.returncode == 0, result.stdout[-2000:]
    return seconds, json.loads((out / "pytest.json").read_text())


def command(out: Path, cache: list[str] = ("--no-cache",), name: str = "cli") -> tuple[float, dict]:
    seconds, result = timed([sys.executable, "-m", "grader", str(SOLUTIONS), "--quiet", "--json", str(out / f"{name}.json"),
                             *cache])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return seconds, json.loads((out / f"{name}.json").read_text())


def nbgrader_autograde(out: Path) -> float:
    course = out / "course"
    if not course.exists():
        shutil.copytree(ROOT / "solutions", course / "solutions")
        shutil.copy(ROOT / "nbgrader_config.py", course)
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "dropout-batchnorm"], cwd=course,
                       env=env(), check=True, capture_output=True)
        shutil.copytree(SOLUTIONS, course / "submitted" / "student" / "dropout-batchnorm")
    seconds, result = timed([sys.executable, "-m", "nbgrader", "autograde", "dropout-batchnorm", "--create", "--force"],
                            cwd=course)
    assert result.returncode == 0, result.stderr[-2000:]
    return seconds


def check_latency(calls: int = 200) -> dict:
    from grader.base.quiet import import_tensorflow

    keras = import_tensorflow()

    from grader.judging.checks import check_architecture
    from grader.lesson.questions import CODING
    from grader.base.training import build

    figures = {}
    for q in CODING:
        model = build(q.solution_code, q.expected.input_dim)
        check_architecture(q, model)
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            check_architecture(q, model)
            times.append(time.perf_counter() - t0)
        figures[q.id] = statistics.median(times) * 1000
    del keras
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = {"floor": [], "pytest": [], "command": [], "nbgrader": [], "cached cold": [], "cached warm": []}
    fits, memory = [], []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        for rep in range(args.repeat):
            f = floor()
            rows["floor"].append(f["process"])
            fits.append(sum(f["fits"].values()))
            rows["pytest"].append(pytest_grader(out)[0])
            seconds, report = command(out)
            rows["command"].append(seconds)
            memory.append((report["grader_peak_mb"], max(nb["kernel_peak_mb"] or 0 for nb in report["notebooks"])))
            rows["nbgrader"].append(nbgrader_autograde(out))
            cache = ["--cache-dir", str(out / f"training-cache-{rep}")]  # empty, then warm
            rows["cached cold"].append(command(out, cache, "cold")[0])
            rows["cached warm"].append(command(out, cache, "warm")[0])
            print(f"repetition {rep + 1}/{args.repeat}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in rows.items()),
                  file=sys.stderr, flush=True)
        latency = check_latency()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians over {args.repeat} repetitions\n")
    print("| measure | seconds |\n|---|---:|")
    print(f"| (1) floor: plain Keras, one process (import + data + 3 fits) | {med['floor']:.1f} |")
    print(f"|     of which the three fits | {statistics.median(fits):.1f} |")
    print(f"| (2) pytest grader on the solutions | {med['pytest']:.1f} |")
    print(f"| (3) python -m grader on the solutions | {med['command']:.1f} |")
    print(f"| (4) nbgrader autograde, same notebooks | {med['nbgrader']:.1f} |")
    print(f"| (5) python -m grader with an empty training cache | {med['cached cold']:.1f} |")
    print(f"| (6) the same again, the cache warm | {med['cached warm']:.1f} |")
    print(f"\n(2)/(1) = {med['pytest'] / med['floor']:.2f}   (3)/(1) = {med['command'] / med['floor']:.2f}   "
          f"(3)/(4) = {med['command'] / med['nbgrader']:.2f}   (5)/(1) = {med['cached cold'] / med['floor']:.2f}   "
          f"(6)/(5) = {med['cached warm'] / med['cached cold']:.2f}")
    print("\nArchitecture check latency (median of 200 calls): "
          + ", ".join(f"{k} {v:.2f} ms" for k, v in latency.items()))
    grader_mb = statistics.median(m[0] for m in memory)
    kernel_mb = statistics.median(m[1] for m in memory)
    print(f"Peak memory: grading process {grader_mb:.0f} MB, largest kernel {kernel_mb:.0f} MB")


if __name__ == "__main__":
    main()
