"""What grading the under-the-hood assignment costs, and where the time goes.

    python bench/bench_internals.py [--repeat N]

* the whole command path (``grade()``: sandboxed kernel, probes, judging, Q4's training) on the
  solution and on the released starter, no training cache (Q4 is never served by it);
* the two halves of each check in this process: the probe's ``observe_*`` (what runs in the
  student's kernel) and the grader's ``judge_*`` (Keras' layer on the same inputs, comparison),
  plus the record's round trip through files (exchange.py).

Prints medians in seconds.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]


def timed(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def halves(repeat: int) -> list:
    import keras
    from keras import ops

    from grader.base import exchange
    from grader.internals import checks
    from grader.internals.questions import QUESTIONS, solution_code

    namespace = {"keras": keras, "ops": ops}
    for question in QUESTIONS:
        exec(solution_code(question), namespace)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for question in QUESTIONS:
            answer = namespace[question.name]
            observe = getattr(checks, f"observe_{question.kind}")
            judge = getattr(checks, f"judge_{question.kind}")
            record = observe(answer)
            folder = Path(scratch) / question.key
            rows.append((question.id, timed(lambda: observe(answer), repeat),
                         timed(lambda: (exchange.save(folder, record), exchange.load(folder)), repeat),
                         timed(lambda: judge(exchange.load(folder)), repeat)))
    return rows


def command(folder: Path, repeat: int) -> tuple:
    from grader.grading.submission import grade

    reports = []
    seconds = timed(lambda: reports.append(grade(folder, cache=None)), repeat)
    return seconds, reports[-1].points, reports[-1].max_points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from grader.base.quiet import import_tensorflow

    import_tensorflow()
    print("check halves (in this process, median of", args.repeat, "runs)")
    print(f"  {'question':<14}{'observe (kernel)':>18}{'record files':>14}{'judge (grader)':>16}")
    for qid, observe, files, judge in halves(args.repeat):
        print(f"  {qid:<14}{observe:>16.3f} s{files:>12.3f} s{judge:>14.3f} s")
    print("grading with python -m grader's engine (no training cache)")
    for label, folder in (("solution", ROOT / "solutions" / "dropout-batchnorm-internals"),
                          ("starter", ROOT / "exercises" / "dropout-batchnorm-internals")):
        seconds, points, most = command(folder, max(1, args.repeat // 2))
        print(f"  {label:<10}{seconds:>8.1f} s  ({points}/{most} points)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
