"""Soak benchmark: a whole class through `python -m grader batch`, once cleanly and once with faults.

    python bench/bench_class.py [--students 40] [--keep DIR] [--no-warm] [--reuse-clean-cache] [--json FILE]
                                [--seed-cache DIR] [--full-cache-students 3]

The class is shaped like the real ones (bench_batch.make_class: most hand in the solutions, some
the untouched starters, some the right models written in other forms). It is graded twice, each
with a training cache of its own (cold, unless --seed-cache or --reuse-clean-cache warm it):

  clean   no fault; its grades are the reference
  faults  the same class, while grading:
            Ctrl-C (SIGINT to the command's process group) once a quarter of the class is
            recorded, then the command run again, which resumes;
            a cache entry corrupted on disk before the second run;
            kill -9 of a Dask worker while it grades a submission;
            a training cache on a file system that is full (a 1 MB tmpfs) for a third run
            with --force on a few students (skipped, with the reason, where tmpfs cannot be
            mounted);
            the Dask scheduler restarted (kill -9, then started again at the same address, with
            new workers) while a cluster started with `dask scheduler` / `dask worker` grades a
            few students in --scheduler mode

Afterwards it checks that every student was graded exactly once with grades identical to the
clean run (points, messages, val_loss), that nothing half-written is left (no .partial file in
kit-grades/, one gradebook submission per student, no staging folder and no entry that fails
its checksum in the cache), and prints submissions per minute, cold and warm (a rerun of the
clean class with --force on its warm cache; with --no-warm, the second half of the cold run,
where nearly every training is reused), and what was retried and why. --json writes the
figures and checks for a test to read.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import grades, make_class  # noqa: E402
from common import ROOT, env  # noqa: E402


def as_in_a_terminal() -> None:
    """Ctrl-C's SIGINT as a terminal's foreground job receives it. A command started in the
    background by a shell without job control (`cmd &`, and whatever it starts: a CI step, a
    nohup'd suite) inherits SIGINT *ignored*, and Python then installs no KeyboardInterrupt at all:
    the "Ctrl-C" would be a no-op and the command would grade the whole class."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


STARTED = []  # the commands and clusters started in sessions of their own: ended with the bench


def end_what_was_started(signum=None, frame=None) -> None:
    """SIGTERM (a test's time limit): nothing started here outlives the bench."""
    for process in STARTED:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if signum is not None:
        raise SystemExit(128 + signum)


def batch(course: Path, cache: Path, *extra: str, background: bool = False):
    command = [sys.executable, "-m", "grader", "batch", str(course), "--cache-dir", str(cache), *extra]
    if background:
        process = subprocess.Popen(command, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True, preexec_fn=as_in_a_terminal)
        STARTED.append(process)
        return process
    return subprocess.run(command, cwd=ROOT, env=env(), capture_output=True, text=True)


def recorded(course: Path) -> int:
    return len(list((course / "kit-grades").glob("*.json")))


def wait_until(condition, timeout: float, every: float = 0.5) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return False


def descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def dask_workers(pid: int) -> list:
    """The worker processes of the command's local cluster: they run the kernels (ipykernel)."""
    workers = []
    for process in descendants(pid):
        try:
            if any("ipykernel" in " ".join(child.cmdline()) for child in process.children(recursive=True)):
                if "ipykernel" not in " ".join(process.cmdline()) and "bwrap" not in process.name():
                    workers.append(process)
        except Exception:  # noqa: BLE001 - a process that ended meanwhile
            continue
    # the innermost of them: the worker itself, not the nanny that started it
    return [p for p in workers if not any(q.ppid() == p.pid for q in workers)]


def used_since(cache: Path, moment: float) -> set:
    """The entries read or stored since ``moment`` (a read marks an entry as recently used)."""
    return {p.name for p in cache.glob("??/*") if p.is_dir() and not p.name.startswith(".")
            and (p / "entry.json").exists() and (p / "entry.json").stat().st_mtime >= moment}


def corrupt_one_entry(cache: Path, used: set) -> Path | None:
    """Corrupt an entry the class uses (``used``: the clean run's): a seeded entry no student
    needs would never be read again, and would stay damaged."""
    entries = sorted(p for p in cache.glob("??/*") if p.is_dir() and p.name in used)
    if not entries:
        return None
    target = entries[0] / "variables.npz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def seed(cache: Path, source: Path) -> int:
    """Start ``cache`` with the verified entries of ``source`` (trainings made elsewhere, e.g. by
    the suite's other tests); each is stored as the grader stores one, so nothing torn is copied
    while another process writes ``source``. Returns how many."""
    sys.path.insert(0, str(ROOT))
    from grader.running.training_cache import TrainingCache

    found, store, into = 0, TrainingCache(source), TrainingCache(cache)
    for entry in sorted(source.glob("??/*")):
        if entry.is_dir() and not entry.name.startswith("."):
            verified = store.get(entry.name).folder
            if verified is not None and into.put(entry.name, verified) is not None:
                found += 1
    return found


def half_written(course: Path, cache: Path) -> list:
    """What a fault may have left half-done: partial files, duplicate gradebook rows, staging
    folders or entries that fail their checksum in the cache."""
    sys.path.insert(0, str(ROOT))
    from grader.running.training_cache import TrainingCache

    found = [str(p) for p in (course / "kit-grades").glob("*.partial")]
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id "
                          "HAVING COUNT(*) > 1").fetchall()
    found += [f"gradebook: {student} has {n} submissions" for student, n in rows]
    found += [f"cache staging folder {p}" for p in cache.glob("??/.*")]
    store = TrainingCache(cache)
    for entry in cache.glob("??/*"):
        if entry.is_dir() and not entry.name.startswith(".") and store.get(entry.name).folder is None:
            found.append(f"cache entry {entry.name} failed its checksum")
    return found


def private_tmpfs(folder: Path, size: str = "1m") -> str | None:
    """None where a tmpfs can be mounted at ``folder`` in a mount namespace of its own, else why not."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "-o",
                            f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True)
    return None if probe.returncode == 0 else (probe.stderr.strip() or f"mount exited {probe.returncode}")


def batch_on_a_full_tmpfs(course: Path, folder: Path, size: str = "1m"):
    """Grade with the training cache on a small tmpfs mounted in a mount namespace of the command's
    own, so no other process on the machine (a fork server started meanwhile) ever sees the mount."""
    command = [sys.executable, "-m", "grader", "batch", str(course), "--cache-dir", str(folder)]
    script = 'mount -t tmpfs -o "size=$1" tmpfs "$2" && shift 2 && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", size,
                           str(folder), *command], cwd=ROOT, env=env(), capture_output=True, text=True)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_cluster(port: int, scratch: Path):
    """A scheduler and two one-thread workers, started as an instructor starts them."""
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], cwd=scratch, env=env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(2)
    workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                                "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], cwd=scratch, env=env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    STARTED.extend((scheduler, workers))
    return scheduler, workers


def stop(process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def restart_scheduler_while_grading(course: Path, cache: Path, scratch: Path, few: int) -> tuple[str, list]:
    """Grade ``few`` students again with --scheduler; once one is recorded, kill -9 the scheduler
    and start it again at the same address, with new workers (Dask's workers end with their
    scheduler)."""
    for path in sorted((course / "kit-grades").glob("*.json"))[-few:]:
        path.unlink()
    port = free_port()
    scheduler, workers = dask_cluster(port, scratch)
    before = recorded(course)
    # the threads a local cluster gives each kernel (one worker per core, one thread each): they
    # are part of a training's key, and other threads give other numbers
    command = batch(course, cache, "--scheduler", f"tcp://127.0.0.1:{port}", "--threads", "1", background=True)
    fault = "scheduler restart: nothing recorded before the end, no restart"
    if wait_until(lambda: command.poll() is not None or recorded(course) > before, timeout=1800) \
            and command.poll() is None:
        stop(scheduler)
        stop(workers)
        scheduler, workers = dask_cluster(port, scratch)
        fault = f"the Dask scheduler killed (-9) and started again after {recorded(course) - before} of {few} recorded"
    try:
        out, err = command.communicate(timeout=3600)
    finally:
        stop(scheduler)
        stop(workers)
    again = [line for line in err.splitlines() if "sent again" in line or "scheduler" in line.lower()]
    return f"{fault}: exit {command.returncode}", again


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--no-warm", action="store_true",
                        help="no second clean run on the warm cache: the warm rate is the cold run's second half")
    parser.add_argument("--json", type=Path, help="write the figures and checks to this file")
    parser.add_argument("--reuse-clean-cache", action="store_true",
                        help="start the faults' cache as a copy of the clean run's (no training twice; the "
                             "corrupted entry is still trained again)")
    parser.add_argument("--seed-cache", type=Path,
                        help="start the clean run's cache with the verified trainings of this cache (the grades "
                             "do not depend on where a training comes from)")
    parser.add_argument("--full-cache-students", type=int, default=3,
                        help="students graded again on the full file system (each trains everything anew)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, end_what_was_started)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="kit-bench-class-"))
    scratch.mkdir(parents=True, exist_ok=True)
    log = []

    began = time.perf_counter()

    def say(line: str) -> None:
        line = f"[{time.perf_counter() - began:5.0f} s] {line}"
        print(line, flush=True)
        log.append(line)

    clean, faulty = scratch / "clean", scratch / "faults"
    make_class(clean, args.students)
    shutil.copytree(clean, faulty)
    say(f"a class of {args.students} in {scratch}")

    if args.seed_cache and args.seed_cache.is_dir():
        say(f"the clean run's cache starts with {seed(scratch / 'cache-clean', args.seed_cache)} trainings "
            f"from {args.seed_cache}")
    t0, class_began = time.perf_counter(), time.time()
    done = batch(clean, scratch / "cache-clean")
    cold = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr[-3000:]
    say(f"clean, cold cache: {cold:.0f} s, {60 * args.students / cold:.1f} submissions/min, "
        f"{cold / args.students:.1f} s/submission")
    figures = {"students": args.students, "cold_s": cold}
    if args.no_warm:
        times = sorted(p.stat().st_mtime for p in (clean / "kit-grades").glob("*.json"))
        half = times[len(times) // 2:]
        if len(half) > 1:
            per = (half[-1] - half[0]) / (len(half) - 1)
            figures["warm_s_per_submission"] = per
            say(f"clean, second half of the cold run (trainings reused): {60 / per:.1f} submissions/min, "
                f"{per:.2f} s/submission")
    else:
        t0 = time.perf_counter()
        done = batch(clean, scratch / "cache-clean", "--force")
        warm = time.perf_counter() - t0
        assert done.returncode == 0, done.stderr[-3000:]
        figures["warm_s"] = warm
        say(f"clean, warm cache (--force): {warm:.0f} s, {60 * args.students / warm:.1f} submissions/min, "
            f"{warm / args.students:.1f} s/submission")
    reference = grades(clean)
    used = used_since(scratch / "cache-clean", class_began)

    cache = scratch / "cache-faults"
    if args.reuse_clean_cache:
        shutil.copytree(scratch / "cache-clean", cache)
    faults, retried = [], []
    # 1. Ctrl-C once a quarter of the class is recorded
    command = batch(faulty, cache, background=True)
    quarter = max(1, args.students // 4)
    if wait_until(lambda: command.poll() is not None or recorded(faulty) >= quarter, timeout=3600) \
            and command.poll() is None:
        os.killpg(command.pid, signal.SIGINT)
        faults.append(f"Ctrl-C after {recorded(faulty)} recorded")
    try:
        out, err = command.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(command.pid, signal.SIGKILL)
        out, err = command.communicate()
        faults.append("the interrupted command did not stop within 120 s: killed")
    if faults:
        faults[-1] += f": exit {command.returncode}"
    say(f"after Ctrl-C: exit {command.returncode}, {recorded(faulty)} recorded; half-written: "
        f"{half_written(faulty, cache) or 'nothing'}")
    # 2. a corrupted cache entry, then the rerun, with a worker killed mid-submission
    corrupted = corrupt_one_entry(cache, used)
    faults.append(f"corrupted {corrupted}" if corrupted else "no cache entry yet to corrupt")
    command = batch(faulty, cache, background=True)
    before = recorded(faulty)
    killed = None

    def a_worker_is_grading():
        workers = dask_workers(command.pid)
        return workers[0] if workers and recorded(faulty) > before else None

    if wait_until(lambda: command.poll() is not None or a_worker_is_grading() is not None, timeout=3600, every=1.0):
        victim = a_worker_is_grading()
        if victim is not None:
            killed = victim.pid
            os.kill(victim.pid, signal.SIGKILL)
            faults.append(f"kill -9 of worker process {killed} while it graded")
    out, err = command.communicate(timeout=7200)
    retried += [line for line in err.splitlines() if "graded again" in line]
    say(f"rerun: exit {command.returncode}, {recorded(faulty)} recorded "
        f"({out.strip().splitlines()[-1] if out.strip() else err[-500:]})")
    # 3. a full file system under the training cache, for a few students graded again
    full = scratch / "full-cache"
    why = private_tmpfs(full)
    if why is None:
        few = sorted((faulty / "kit-grades").glob("*.json"))[:args.full_cache_students]
        for path in few:
            path.unlink()  # these students are graded again, with nowhere to store a training
        done = batch_on_a_full_tmpfs(faulty, full)
        faults.append(f"a full training cache (1 MB tmpfs) for {len(few)} students graded again: "
                      f"exit {done.returncode}")
        say(faults[-1])
    else:
        faults.append(f"full file system: skipped ({why})")
    # 4. the scheduler restarted while a cluster of its own grades a few students again
    fault, again = restart_scheduler_while_grading(faulty, cache, scratch, few=min(6, args.students))
    faults.append(fault)
    retried += again
    say(fault)

    same = grades(faulty) == reference
    left = half_written(faulty, cache)
    say("\nfaults injected: " + "; ".join(faults))
    say("retried: " + ("; ".join(retried) if retried else "none reported"))
    say(f"every student graded exactly once: {recorded(faulty) == args.students}")
    say(f"grades identical to the clean run: {same}")
    if not same:
        differ = sorted(s for s in reference if grades(faulty).get(s) != reference[s])
        say(f"  differing: {', '.join(differ)}")
    say(f"half-written after the faults: {left or 'nothing'}")
    figures.update(faults=faults, retried=retried, once=recorded(faulty) == args.students, identical=same,
                   half_written=left, log=log)
    (scratch / "bench_class.json").write_text(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if same and not left and recorded(faulty) == args.students else 1


if __name__ == "__main__":
    raise SystemExit(main())
