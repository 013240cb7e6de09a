"""The CPU a grading process may use: its cgroup's quota (v1 and v2, set on the group or above it)
capped by the cores it may run on, and TensorFlow's thread settings taken from it. Fake cgroup
trees, then a real cgroup v1 quota where this machine lets one be made."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from grader.base import limits

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, files: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_a_v2_quota_on_the_group_or_above_it_is_found_and_the_smallest_wins(tmp_path):
    write(tmp_path, {"cgroup.controllers": "cpu memory"})
    write(tmp_path / "docker", {"cpu.max": "150000 100000\n"})
    write(tmp_path / "docker" / "abc", {"cpu.max": "max 100000\n"})
    assert limits.cpu_quota(tmp_path, "0::/docker/abc\n") == 1.5
    write(tmp_path / "docker" / "abc", {"cpu.max": "50000 100000\n"})
    assert limits.cpu_quota(tmp_path, "0::/docker/abc\n") == 0.5
    assert limits.cpu_quota(tmp_path, "0::/elsewhere\n") is None  # a group not mounted here: the mount's own (none)


def test_a_container_that_sees_its_own_group_as_the_root_reads_the_mount(tmp_path):
    write(tmp_path, {"cgroup.controllers": "cpu", "cpu.max": "50000 100000"})
    assert limits.cpu_quota(tmp_path, "0::/\n") == 0.5


def test_a_v1_quota_and_a_hybrid_host_and_no_quota(tmp_path):
    write(tmp_path / "cpu,cpuacct" / "kit", {"cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000"})
    assert limits.cpu_quota(tmp_path, "4:cpu,cpuacct:/kit\n0::/\n") == 0.5
    write(tmp_path / "cpu,cpuacct" / "kit", {"cpu.cfs_quota_us": "-1"})
    assert limits.cpu_quota(tmp_path, "4:cpu,cpuacct:/kit\n0::/\n") is None  # -1: no quota
    write(tmp_path / "unified", {"cgroup.controllers": "cpu"})
    write(tmp_path / "unified" / "job", {"cpu.max": "200000 100000"})
    assert limits.cpu_quota(tmp_path, "4:cpu,cpuacct:/kit\n0::/job\n") == 2.0  # v2 under unified/
    assert limits.cpu_quota(tmp_path, "garbage\n") is None


def test_threads_are_whole_cpus_and_an_instructors_setting_wins():
    assert limits.training_threads(0.5) == {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                                          "OMP_NUM_THREADS": "1"}
    assert limits.training_threads(2.0)["TF_NUM_INTRAOP_THREADS"] == "2"
    assert limits.training_threads(3.99)["OMP_NUM_THREADS"] == "3"
    environ = {"OMP_NUM_THREADS": "4"}
    assert limits.set_training_threads(environ) == {} and environ == {"OMP_NUM_THREADS": "4"}
    environ = {}
    assert limits.set_training_threads(environ) == environ and environ["TF_NUM_INTEROP_THREADS"] == "1"
    assert int(environ["TF_NUM_INTRAOP_THREADS"]) == max(1, int(limits.usable_cpus()))


def _cgroup_v1_cpu() -> Path | None:
    base = Path("/sys/fs/cgroup/cpu")
    if os.geteuid() != 0 or not (base / "cpu.cfs_quota_us").exists():
        return None
    probe = base / f"kit-test-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError:
        return None
    return probe


def test_a_real_quota_of_half_a_cpu_gives_one_thread():
    group = _cgroup_v1_cpu()
    if group is None:
        pytest.skip("needs root and a writable cgroup v1 cpu controller")
    try:
        (group / "cpu.cfs_period_us").write_text("100000")
        (group / "cpu.cfs_quota_us").write_text("50000")
        code = ("from grader.base import limits; import json; "
                "print(json.dumps([limits.cpu_quota(), limits.usable_cpus(), limits.training_threads()]))")
        done = subprocess.run(["bash", "-c", f'echo $$ > {group}/cgroup.procs; exec "$0" -c "$1"', sys.executable, code],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        quota, usable, threads = __import__("json").loads(done.stdout)
        assert quota == 0.5 and usable == 0.5 and threads["TF_NUM_INTRAOP_THREADS"] == "1"
    finally:
        group.rmdir()


def test_the_gradescope_command_warns_of_a_timeout_shorter_than_advised_and_refuses_one_gradescope_refuses(tmp_path):
    from grader.commands.gradescope import advised_timeout_min, settings_advice

    assert not any(line.startswith("warning") for line in settings_advice(advised_timeout_min()))
    short = settings_advice(advised_timeout_min() - 5)
    assert short[-1].startswith("warning: --timeout-min") and f"{advised_timeout_min()} min advised" in short[-1]
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", "--timeout-min", "45", "-o",
                           str(tmp_path / "a.zip")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "1 to 40 minutes" in done.stderr and not (tmp_path / "a.zip").exists()


def test_the_memory_of_a_real_cgroup_and_its_out_of_memory_kills_are_read():
    """A process in a memory cgroup of 64 MB reads that limit; one that allocates past it is
    killed, and the group's count of out-of-memory kills says so."""
    base = Path("/sys/fs/cgroup/memory")
    if os.geteuid() != 0 or not (base / "memory.oom_control").exists():
        pytest.skip("needs root and a writable cgroup v1 memory controller")
    group = base / f"kit-test-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
    except OSError:
        pytest.skip("cannot make a memory cgroup here")
    try:
        (group / "memory.limit_in_bytes").write_text(str(64 * 2**20))
        if (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(64 * 2**20))
        code = ("import json, subprocess, sys\nfrom grader.base import limits\nbefore = limits.oom_kills()\n"
                "hog = subprocess.run([sys.executable, '-c', 'x = bytearray(256 * 2**20)'])\n"
                "print(json.dumps([limits.memory_limit_mb(), before, limits.oom_kills(), hog.returncode]))")
        done = subprocess.run(["bash", "-c", f'echo $$ > {group}/cgroup.procs; exec "$0" -c "$1"', sys.executable, code],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        limit, before, after, hog = __import__("json").loads(done.stdout)
        assert limit == 64 and hog == -9 and after == before + 1
    finally:
        for pid in (group / "cgroup.procs").read_text().split():
            os.kill(int(pid), 9)
        group.rmdir()
