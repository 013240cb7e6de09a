"""The limits a container puts on this process, read from its cgroup (v1 or v2): the CPU quota,
the memory limit, and how many processes its out-of-memory killer has killed.

TensorFlow sizes its thread pools from the host's cores. Under a quota of half a CPU
(Gradescope's default) a pool of 16 threads only adds switching, so the kit's graders that run
one submission in a container take their training threads from here. A kernel killed by the
container's out-of-memory killer is the platform's limit, not the student's answer: the runner
asks here whether that happened before it writes a grade."""
from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
THREAD_SETTINGS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def _groups(proc_cgroup: str) -> list[tuple[str, str]]:
    """(controllers, path) of each line of /proc/self/cgroup: "0::/x" (v2), "4:cpu,cpuacct:/x" (v1)."""
    found = []
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            found.append((parts[1], parts[2] or "/"))
    return found


def _ancestors(base: Path, path: str) -> list[Path]:
    """The group's folder and every folder above it up to the mount (a quota may be set on any);
    a path that is not under the mount (a container sees its own group as the root) is the mount."""
    parts = [p for p in path.strip("/").split("/") if p]
    folders = [base.joinpath(*parts[:n]) for n in range(len(parts), 0, -1)] + [base]
    return [f for f in folders if f.is_dir()] or [base]


def _quota_v2(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: str | None = None) -> float | None:
    """The smallest CPU quota over this process's cgroup and its parents, in CPUs; None: no quota."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    quotas = []
    for controllers, path in _groups(proc_cgroup):
        if controllers == "":  # cgroup v2's unified hierarchy (under unified/ on a hybrid host)
            for mount in (root, root / "unified"):
                if (mount / "cgroup.controllers").is_file():
                    quotas += [q for f in _ancestors(mount, path) if (q := _quota_v2(f)) is not None]
                    break
        elif "cpu" in controllers.split(","):
            for mount in (root / controllers, root / "cpu", root / "cpu,cpuacct"):
                if mount.is_dir():
                    quotas += [q for f in _ancestors(mount, path) if (q := _quota_v1(f)) is not None]
                    break
    return min(quotas) if quotas else None


def usable_cpus() -> float:
    """The cores this process may run on, capped by its cgroup's CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cpu_quota()
    return min(float(cores), quota) if quota is not None else float(cores)


def training_threads(cpus: float | None = None) -> dict:
    """TensorFlow's thread settings for one training at a time on ``cpus`` (default: usable_cpus()):
    a whole CPU per thread, at least one."""
    n = str(max(1, math.floor((usable_cpus() if cpus is None else cpus) + 1e-9)))
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": n}


def set_training_threads(environ=os.environ) -> dict:
    """Set the thread settings from the CPU this process may use, unless any is already set (an
    instructor's choice wins). Returns what was set ({} when nothing was)."""
    if any(environ.get(name) for name in THREAD_SETTINGS):
        return {}
    chosen = training_threads()
    environ.update(chosen)
    return chosen


def _own_groups(proc_cgroup: str | None = None, root: Path = CGROUP_ROOT) -> list[tuple[str, Path]]:
    """("v1" or "v2", the folder of this process's own memory group), where that folder is mounted
    here: a group seen only from outside (its path not under the mount) is not read, so that a
    host's counters are never taken for the container's."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return []
    found = []
    for controllers, path in _groups(proc_cgroup):
        parts = [p for p in path.strip("/").split("/") if p]
        if controllers == "":
            mounts, kind = (root, root / "unified"), "v2"
            mounts = [m for m in mounts if (m / "cgroup.controllers").is_file()]
        elif "memory" in controllers.split(","):
            mounts, kind = [root / "memory"], "v1"
        else:
            continue
        for mount in mounts:
            folder = mount.joinpath(*parts)
            if folder.is_dir():
                found.append((kind, folder))
    return found


def memory_limit_mb(proc_cgroup: str | None = None, root: Path = CGROUP_ROOT) -> float | None:
    """The memory limit of this process's group in MB (None: none, or not readable here)."""
    limits = []
    for kind, folder in _own_groups(proc_cgroup, root):
        try:
            text = (folder / ("memory.max" if kind == "v2" else "memory.limit_in_bytes")).read_text().strip()
        except OSError:
            continue
        if text != "max" and text.isdigit() and int(text) < 1 << 60:  # v1 says "no limit" with a huge number
            limits.append(int(text) / 2**20)
    return min(limits) if limits else None


def oom_kills(proc_cgroup: str | None = None, root: Path = CGROUP_ROOT) -> int | None:
    """How many processes the out-of-memory killer of this process's group has killed so far
    (None: not readable here)."""
    counts = []
    for kind, folder in _own_groups(proc_cgroup, root):
        try:
            lines = (folder / ("memory.events" if kind == "v2" else "memory.oom_control")).read_text().splitlines()
        except OSError:
            continue
        counts += [int(line.split()[1]) for line in lines if line.startswith("oom_kill ")]
    return max(counts) if counts else None
