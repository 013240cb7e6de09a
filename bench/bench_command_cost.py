"""Benchmark: what one `python -m grader` command costs in CPU, process by process, with every
training served by the training cache (the fixed cost each command, `pytest grader` or test pays).

    python bench/bench_command_cost.py [--repeat 3] [--submission solutions/dropout-batchnorm]

Grades the submission once to fill a private training cache (not counted), then ``--repeat``
times more. While each command runs, every process on the machine is sampled from /proc every
0.1 s; the CPU each one used (user + system) is summed by role:

  grading process   the command itself: the kit, nbformat, nbclient and TensorFlow (the judge)
  fork server       the warm process kernels are forked from (imports TensorFlow once per command)
  kernels           the processes forked from it (the notebooks' cells, the cache restores)
  other             bubblewrap, the launcher, anything else the command started

It then times, each in a fresh interpreter, the imports a grading process pays before it grades:
TensorFlow, and nbformat with and without the IRI grammar that jsonschema has rfc3987_syntax
compile when it is installed (a dependency of Jupyter's, not the kit's).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS, env  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def processes() -> dict:
    """(pid, start time) -> (CPU seconds, parent pid, command line) of every process now."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        found[(int(pid), int(fields[19]))] = ((int(fields[11]) + int(fields[12])) / TICK, int(fields[1]), cmdline)
    return found


def sampled(command: list, extra_env: dict) -> tuple[float, dict]:
    """Run ``command``; returns its wall time and role -> CPU seconds of what it started."""
    before = processes()
    seen = {}
    began = time.perf_counter()
    running = subprocess.Popen(command, env=dict(env(), **extra_env), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    def look() -> None:  # the latest CPU figure; the command line from when it was still readable
        for key, (cpu, parent, cmd) in processes().items():
            seen[key] = (cpu, parent, cmd or seen.get(key, (0.0, 0, ""))[2])

    while running.poll() is None:
        look()
        time.sleep(0.1)
    look()
    wall = time.perf_counter() - began
    roles: dict = {"grading process": 0.0, "fork server": 0.0, "kernels": 0.0, "other": 0.0}
    # the server is the first Python process running the fork server's module (not bubblewrap,
    # whose command line names it too); the later ones are its forks
    servers = sorted((key for key, (_, _, cmd) in seen.items()
                      if "grader.running.fork_server" in cmd and "bwrap" not in cmd.split(" ")[0]),
                     key=lambda key: key[1])
    for key, (cpu, _, cmd) in seen.items():
        used = cpu - before.get(key, (0.0,))[0]
        if used <= 0 or key in before and not cmd:
            continue
        if key[0] == running.pid:
            roles["grading process"] += used
        elif servers and key == servers[0]:
            roles["fork server"] += used
        elif key in servers:
            roles["kernels"] += used
        elif key not in before:
            roles["other"] += used
    return wall, roles


def import_seconds(statement: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], env=env(), check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--submission", type=Path, default=SOLUTIONS)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kit-bench-cost-"))
    folder = scratch / "submission"
    folder.mkdir()
    for notebook in sorted(args.submission.glob("*.ipynb")):
        shutil.copy(notebook, folder / notebook.name)
    cache = scratch / "cache"
    command = [sys.executable, "-m", "grader", str(folder), "--quiet", "--cache-dir", str(cache),
               "--json", str(scratch / "report.json")]
    extra = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}
    print(f"warming the private training cache in {cache} ...", flush=True)
    subprocess.run(command, env=dict(env(), **extra), check=False, capture_output=True)
    walls, by_role = [], {}
    for run in range(args.repeat):
        wall, roles = sampled(command, extra)
        walls.append(wall)
        for role, cpu in roles.items():
            by_role.setdefault(role, []).append(cpu)
        print(f"run {run + 1}: {wall:.1f} s wall, {sum(roles.values()):.1f} CPU-s", flush=True)
    total = statistics.median([sum(values) for values in zip(*by_role.values())])
    print(f"\n`python -m grader` on {args.submission.name}, every training reused (median of {args.repeat}):")
    print(f"  wall {statistics.median(walls):6.1f} s")
    print(f"  CPU  {total:6.1f} s, of which:")
    for role, values in by_role.items():
        print(f"    {role:16s} {statistics.median(values):6.1f} s")
    baseline = import_seconds("pass")
    print("\nimports, each in a fresh interpreter (wall, less an empty interpreter's "
          f"{baseline:.2f} s):")
    for label, statement in (("tensorflow", "import tensorflow"), ("nbformat", "import nbformat"),
                             ("nbformat, no rfc3987", "import sys; sys.modules['rfc3987_syntax'] = None; "
                                                      "import nbformat")):
        print(f"  {label:22s} {import_seconds(statement) - baseline:5.2f} s")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
