"""run_autograder under a platform's limits: peak memory, CPU and wall time of the whole process
tree on the solutions and on the starter, with the memory and CPU a container gets imposed by
cgroup v1 (Gradescope's defaults: 768 MB and half a CPU).

    python bench/bench_gradescope_limits.py                       # 768 MB, half a CPU, then no limit
    python bench/bench_gradescope_limits.py --limits 1024:0.5 1536:1 --no-baseline

It builds the zip (`python -m grader gradescope`), runs its real setup.sh into a Gradescope-shaped
root, then run_autograder for each upload in a fresh home (an empty training cache, as in a new
container). Needs root and a writable cgroup v1 memory, cpu and cpuacct hierarchy; it says so
and stops where there is none. The peak is the cgroup's (page cache included).
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
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CGROUP = Path("/sys/fs/cgroup")


def cgroups_writable() -> str | None:
    """None where cgroup v1's memory, cpu and cpuacct can be made here, else why not."""
    for controller in ("memory", "cpu", "cpuacct"):
        probe = CGROUP / controller / f"kit-bench-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as error:
            return f"{CGROUP / controller}: {error}"
    return None


def build_root(base: Path) -> tuple[Path, dict]:
    made = subprocess.run([sys.executable, "-m", "grader", "gradescope", "-o", str(base / "autograder.zip")],
                          capture_output=True, text=True, cwd=base)
    if made.returncode:
        raise SystemExit(made.stderr[-3000:])
    root = base / "autograder"
    (root / "source").mkdir(parents=True)
    zipfile.ZipFile(base / "autograder.zip").extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DROPOUT_KIT", "VIRTUAL_ENV", "PYTHONPATH",
                                                                    "TF_", "OMP_"))}
    env["AUTOGRADER_ROOT"] = str(root)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != Path(sys.executable).parent)
    started = time.perf_counter()
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           cwd=root)
    if setup.returncode:
        raise SystemExit(setup.stdout[-2000:] + setup.stderr[-2000:])
    print(f"setup.sh: {time.perf_counter() - started:.0f} s")
    return root, env


def run(root: Path, env: dict, kind: str, memory_mb: int | None, cpus: float | None, base: Path) -> dict:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "results").mkdir()
    folder = ROOT / ("solutions" if kind == "solutions" else "exercises") / "dropout-batchnorm"
    for name in ("wine", "spotify"):
        shutil.copy(folder / f"{name}.ipynb", submission / f"{name}.ipynb")
    tag = f"kit-bench-{kind}-{os.getpid()}-{time.time_ns()}"
    memory, cpu, acct = (CGROUP / c / tag for c in ("memory", "cpu", "cpuacct"))
    for group in (memory, cpu, acct):
        group.mkdir()
    try:
        if memory_mb:
            (memory / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # no swap to escape to
                (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_mb * 2**20))
        if cpus:
            (cpu / "cpu.cfs_period_us").write_text("100000")
            (cpu / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
        home = Path(tempfile.mkdtemp(dir=base, prefix="home-"))  # a new container: no training cache
        enter = "; ".join(f"echo $$ > {group}/cgroup.procs" for group in (memory, cpu, acct))
        started = time.perf_counter()
        done = subprocess.run(["bash", "-c", f"{enter}; exec {root}/run_autograder"], env=dict(env, HOME=str(home)),
                              capture_output=True, text=True, cwd=root)
        wall = time.perf_counter() - started
        results = root / "results" / "results.json"
        return {"upload": kind, "exit": done.returncode, "wall_s": round(wall, 1),
                "cpu_s": round(int((acct / "cpuacct.usage").read_text()) / 1e9, 1),
                "peak_mb": round(int((memory / "memory.max_usage_in_bytes").read_text()) / 2**20),
                "score": json.loads(results.read_text()).get("score") if results.exists() else None,
                "tail": "" if done.returncode == 0 else (done.stdout + done.stderr)[-400:]}
    finally:
        for pid in (memory / "cgroup.procs").read_text().split():  # what outlived a killed run
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        time.sleep(1)
        for group in (memory, cpu, acct):
            try:
                group.rmdir()
            except OSError:
                pass


def limit(text: str) -> tuple[int, float]:
    memory, _, cpus = text.partition(":")
    return int(memory), float(cpus or 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limits", type=limit, nargs="+", default=[(768, 0.5)], metavar="MB:CPUS",
                        help="the memory (MB) and CPUs of each run's process tree (default 768:0.5, "
                             "Gradescope's defaults); e.g. --limits 768:0.5 1024:0.5 1536:1")
    parser.add_argument("--no-baseline", action="store_true", help="skip the runs without limits")
    parser.add_argument("--solutions-only", action="store_true", help="skip the starter's runs")
    args = parser.parse_args(argv)
    why = cgroups_writable()
    if why:
        print(f"error: no writable cgroup v1 here ({why}); run as root on a machine with cgroup v1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kit-bench-gradescope-") as scratch:
        base = Path(scratch)
        root, env = build_root(base)
        limits = list(args.limits) + ([] if args.no_baseline else [(None, None)])
        for memory_mb, cpus in limits:
            label = f"{memory_mb} MB, {cpus} CPU" if memory_mb else "no limit"
            for kind in ("solutions",) if args.solutions_only else ("solutions", "starter"):
                r = run(root, env, kind, memory_mb, cpus, base)
                print(f"{label:18s} {kind:9s}: exit {r['exit']}, score {r['score']}, wall {r['wall_s']} s, "
                      f"CPU {r['cpu_s']} s, peak {r['peak_mb']} MB" + (f"\n    {r['tail']!r}" if r["tail"] else ""),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
