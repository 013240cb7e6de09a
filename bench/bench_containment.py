"""Benchmark: what each sandbox layer costs, on this machine and in a simulated container.

    python bench/bench_containment.py [--starts 5] [--repeat 2] [--submission solutions/dropout-batchnorm]

Two figures per layer:

  kernel start    a kernel started by the kit's kernel manager until it answers (kernel_info),
                  ``--starts`` times in one process: bubblewrap cold, bubblewrap forked from the
                  warm fork server (its own start not counted), Landlock (with the unprivileged
                  user where the grader runs as root)
  submission      ``python -m grader SUBMISSION`` wall time, training cache warm (a first run
                  fills a private cache and is not counted), ``--repeat`` times: bubblewrap on
                  this machine, Landlock on this machine, Landlock in the simulated container
                  (tests/container.py: Docker's denials of namespaces and mounts)

Medians in seconds; the layer each run really used is read from its JSON report.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SOLUTIONS, env

CONTAINER = ROOT / "tests" / "container.py"
START = """import json, os, sys, tempfile, time
from pathlib import Path
from grader.running import sandbox
layer = sandbox.status().layer
fork = sys.argv[1] == "fork"
manager = sandbox.kernel_manager_class(blocking=True, fork=fork)
times = []
for i in range(int(sys.argv[2]) + (1 if fork else 0)):
    work = Path(tempfile.mkdtemp())
    km = manager(kernel_name="python3")
    t0 = time.perf_counter()
    km.start_kernel(cwd=str(work))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    times.append(time.perf_counter() - t0)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
if fork:
    times = times[1:]  # the first also started the fork server
print(json.dumps({"layer": layer, "times": times}))"""


def kernel_starts(mode: str, fork: bool, starts: int) -> dict:
    done = subprocess.run([sys.executable, "-c", START, "fork" if fork else "cold", str(starts)], capture_output=True,
                          text=True, env=dict(env(), DROPOUT_KIT_SANDBOX=mode), cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def grade(submission: Path, mode: str, cache: Path, container: bool) -> tuple:
    with tempfile.TemporaryDirectory() as out:
        report = Path(out) / "r.json"
        command = [sys.executable, "-m", "grader", str(submission), "--quiet", "--json", str(report),
                   "--cache-dir", str(cache)]
        if container:
            command = [sys.executable, str(CONTAINER)] + command
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=out, timeout=3600,
                              env=dict(env(), DROPOUT_KIT_SANDBOX=mode))
        seconds = time.perf_counter() - t0
        if not report.exists():
            raise SystemExit(done.stderr[-2000:])
        found = json.loads(report.read_text())
        return seconds, found["sandbox_layer"], found["points"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--submission", type=Path, default=SOLUTIONS)
    args = parser.parse_args()
    print(f"kernel start (median of {args.starts}, s):")
    for label, mode, fork in (("bubblewrap, cold", "bubblewrap", False), ("bubblewrap, forked", "bubblewrap", True),
                              ("landlock", "landlock", False)):
        found = kernel_starts(mode, fork, args.starts)
        print(f"  {label:<22} {statistics.median(found['times']):6.2f}   ({found['layer']}; "
              f"min {min(found['times']):.2f}, max {max(found['times']):.2f})", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        grade(args.submission, "auto", cache, False)  # fills the cache
        print(f"submission, warm training cache (median of {args.repeat}, s):")
        for label, mode, container in (("bubblewrap", "bubblewrap", False), ("landlock", "landlock", False),
                                       ("landlock in a container", "on", True)):
            runs = [grade(args.submission, mode, cache, container) for _ in range(args.repeat)]
            print(f"  {label:<24} {statistics.median(r[0] for r in runs):6.1f}   (layer {runs[0][1]}, "
                  f"{runs[0][2]} points)", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
