"""Benchmark: where a command's CPU goes, by kind of process (the kit's suite above all).

    python bench/bench_suite_cpu.py [--interval 1] [--json FILE] -- pytest -n 2 --dist loadfile

Runs the command and reads /proc once per interval: every process started after the command,
its command line, its parent and the CPU it has used so far. At the end it prints, by kind
(grading commands, fork servers, the kernels forked from them, cold kernels, nbgrader, Dask,
pip, the test processes themselves, ...), how many processes there were and the CPU-seconds
they used, against the machine's busy CPU over the run (/proc/stat). Nothing is injected into
the command: it reads only what the kernel publishes, so the command runs as it would alone.

A process is counted with the CPU of its last sighting, so up to one interval of each one's
CPU is missed, and a process shorter than the interval may be missed whole: the "not seen"
line says how much that was. Processes are counted whatever started them, so run it on an
otherwise idle machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
FORK_SERVER = "grader.running.fork_server"


def machine_busy() -> float:
    """CPU-seconds the machine has been busy since boot (every core)."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def boot_ticks_now() -> float:
    return float(open("/proc/uptime").read().split()[0]) * TICK


def sample(seen: dict, since_ticks: float, own: int) -> None:
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == own:
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
        ppid, utime, stime, start = int(fields[1]), int(fields[11]), int(fields[12]), int(fields[19])
        if start < since_ticks:
            continue
        key = (int(name), start)
        record = seen.setdefault(key, {"ppid": ppid, "argv": [], "cpu": 0.0, "cwd": ""})
        if not record["cwd"]:
            try:
                record["cwd"] = os.readlink(f"/proc/{name}/cwd")
            except OSError:
                pass
        record["ppid"] = ppid
        record["cpu"] = (utime + stime) / TICK
        text = [a.decode(errors="replace") for a in argv if a]
        if text:
            record["argv"] = text  # the latest: bwrap and the launchers exec what they start


def _test_in(text: str) -> str | None:
    """The test named by a pytest temporary path in ``text`` (``.../popen-gw0/test_name0/...``)."""
    parts = text.split("/")
    for before, part in zip(parts, parts[1:]):
        if part.startswith("test_") and (before.startswith("popen-gw") or before.startswith("pytest-")):
            return part
    return None


def folder(record: dict, by_pid: dict, by_argv: dict) -> str:
    """The test a process worked for: the first pytest temporary path in its working folder or
    command line, or in its nearest ancestor's (a test's tmp_path: its name, cut to 30 characters
    by pytest); else the process's own working folder. bwrap's helper is reparented to PID 1: it is
    followed to the bwrap with the same command line that started it."""
    seen_ids, current = set(), record
    while current is not None and id(current) not in seen_ids:
        seen_ids.add(id(current))
        for text in [current["cwd"], *current["argv"]]:
            if (found := _test_in(text)) is not None:
                return found
        parent = by_pid.get(current["ppid"])
        if parent is None and current["ppid"] == 1:
            parent = next((r for r in by_argv.get(tuple(current["argv"]), []) if r is not current), None)
        current = parent
    return record["cwd"] or "?"


def kind(record: dict, by_pid: dict) -> str:
    argv = record["argv"]
    line = " ".join(argv)
    if argv and os.path.basename(argv[0]) == "bwrap":  # the sandbox's own processes (tiny)
        return "bwrap"
    if FORK_SERVER in line:  # a fork keeps its server's command line; the server's parent is bwrap
        parent = by_pid.get(record["ppid"])
        if parent is not None and parent["argv"] == argv:
            return "forked kernels (their monitors too): student code, trainings"
        return "fork servers: start-up (imports), then only forks"
    if "fork_launcher" in line:
        return "fork launchers (hand a kernel's request to its server)"
    if "ipykernel_launcher" in line or "ipykernel" in line:
        return "kernels started cold"
    if "-m grader" in line or (len(argv) > 2 and argv[1:3] == ["-m", "grader"]):
        return "grading commands (python -m grader), their own process"
    if "nbgrader" in line:
        return "nbgrader processes"
    if "distributed" in line or "dask" in line or "multiprocessing" in line:
        return "Dask schedulers and workers"
    if "pip" in line or "-m build" in line or "-m venv" in line or "ensurepip" in line:
        return "pip, venv and wheel builds"
    if "exec(eval(sys.stdin.readline()))" in line or "xdist" in line:
        return "the test processes (test code, in-process grading)"
    if "pytest" in line and "grader" in line:
        return "pytest grader"
    if "pytest" in line:
        return "pytest (the command itself)"
    if "/bench/" in line:
        return "bench scripts the tests start"
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--top", type=int, default=40, help="how many folders to list (default 40)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to measure after --")
    seen: dict = {}
    since, busy0, t0 = boot_ticks_now() - TICK, machine_busy(), time.perf_counter()
    child = subprocess.Popen(command)
    while child.poll() is None:
        sample(seen, since, os.getpid())
        time.sleep(args.interval)
    wall, busy = time.perf_counter() - t0, machine_busy() - busy0
    by_pid = {pid: record for (pid, _), record in seen.items()}
    kinds: dict = {}
    for record in seen.values():
        kinds.setdefault(kind(record, by_pid), []).append(record["cpu"])
    counted = sum(sum(v) for v in kinds.values())
    rows = sorted(kinds.items(), key=lambda item: -sum(item[1]))
    print(f"\n{' '.join(command)}: exit {child.returncode}, {wall:.0f} s wall, {busy:.0f} CPU-s busy "
          f"on {os.cpu_count()} cores ({100 * busy / wall / os.cpu_count():.0f}%)")
    print(f"{'processes of each kind':62} {'count':>6} {'CPU-s':>8} {'share':>6} {'median':>7}")
    for name, cpus in rows:
        print(f"{name:62} {len(cpus):6d} {sum(cpus):8.0f} {100 * sum(cpus) / busy:5.0f}% {statistics.median(cpus):7.1f}")
    print(f"{'not seen (short processes, last intervals, the rest of the machine)':62} {'':6} "
          f"{busy - counted:8.0f} {100 * (busy - counted) / busy:5.0f}%")
    by_folder: dict = {}
    by_argv: dict = {}
    for record in seen.values():
        by_argv.setdefault(tuple(record["argv"]), []).append(record)
    for record in seen.values():
        entry = by_folder.setdefault(folder(record, by_pid, by_argv), {})
        name = kind(record, by_pid)
        entry[name] = entry.get(name, 0.0) + record["cpu"]
    print(f"\nwhere the CPU went, by test (the pytest temporary folder a process or its parent works in):")
    for name, kinds_here in sorted(by_folder.items(), key=lambda item: -sum(item[1].values()))[:args.top]:
        parts = ", ".join(f"{k.split(' (')[0].split(':')[0]} {v:.0f}" for k, v in
                          sorted(kinds_here.items(), key=lambda item: -item[1]) if v >= 1)
        print(f"{sum(kinds_here.values()):8.0f}  {name[:60]:60}  {parts}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "exit": child.returncode, "wall_s": wall, "busy_cpu_s": busy,
                       "kinds": {name: {"count": len(c), "cpu_s": sum(c)} for name, c in rows},
                       "folders": by_folder}, f, indent=1)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
