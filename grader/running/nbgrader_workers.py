"""``nbgrader autograde`` of a class on every core: nbgrader autogrades one submission after the
other in one process, so on a 2-core machine half of it waits. The kit's converter shares the
class's submissions among a few ``nbgrader autograde`` processes, each the same command for its
share (nbgrader's own ``student_id_exclude`` leaves the others out), so every submission is still
autograded by nbgrader's own code and written to the same gradebook, autograded folder and log.

Only the command line does this (``nbgrader_config.py`` installs it there); formgrader's Autograde
button grades one student in the server's process, as nbgrader does. ``c.ParallelAutograde.workers``
sets the number of processes; by default one more than the CPUs the machine lets the grader use
(two or more), fewer where its memory cannot hold that many kernels.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys

from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from traitlets import Integer

from ..base import limits

WORKER_ENV = "DROPOUT_KIT_AUTOGRADE_WORKER"  # set in each worker: it autogrades its share itself
MEMORY_PER_WORKER_MB = 1200  # nbgrader (286 MB measured), its fork server and a kernel (431 MB measured for a kernel)


def default_workers(cpus: float | None = None, memory_mb: float | None = None) -> int:
    """One more process than the whole CPUs this process may use, where there are two or more
    (an nbgrader process and its kernel take turns, so one keeps a core about 80% busy: on 2 cores
    3 processes autograded a class of 100 in 1.8 s per submission, 2 in 2.2 s); fewer where the
    memory (the cgroup's limit, else the machine's) cannot hold that many."""
    whole = max(1, math.floor((limits.usable_cpus() if cpus is None else cpus) + 1e-9))
    workers = whole + 1 if whole >= 2 else whole
    memory = memory_mb if memory_mb is not None else (limits.memory_limit_mb() or _machine_memory_mb())
    if memory:
        workers = min(workers, max(1, int(memory // MEMORY_PER_WORKER_MB)))
    return workers


def _machine_memory_mb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def shares(students: list, workers: int) -> list:
    """``students`` dealt out to ``workers`` processes in turn (sorted, so a rerun deals alike)."""
    ordered = sorted(students)
    return [ordered[k::workers] for k in range(workers) if ordered[k::workers]]


class ParallelAutograde(Autograde):
    """nbgrader's Autograde, the class's submissions shared among ``workers`` nbgrader processes."""

    workers = Integer(0, help="nbgrader processes that autograde a class at once (0: one more than the CPUs this "
                               "machine lets the grader use, where there are two or more; fewer where its memory is "
                               "too small for that many)").tag(config=True)

    def start(self) -> None:
        self._called_from = os.getcwd()  # the command's own folder: its arguments are relative to it
        super().start()

    def convert_notebooks(self) -> None:
        if os.environ.get(WORKER_ENV):
            return super().convert_notebooks()
        students = sorted({self._student_of(submission) for submission in self.assignments})
        workers = min(self.workers or default_workers(), len(students))
        if workers <= 1:
            return super().convert_notebooks()
        groups = shares(students, workers)
        self.log.info("the kit: autograding %d submissions in %d nbgrader processes at once "
                      "(c.ParallelAutograde.workers = 1 grades one after the other)", len(students), len(groups))
        excluded_before = [s for s in self.coursedir.student_id_exclude.split(",") if s]
        running = []
        for group in groups:
            others = [s for s in students if s not in group] + excluded_before
            command = [sys.executable, "-m", "nbgrader", *sys.argv[1:],
                       f"--CourseDirectory.student_id_exclude={','.join(others)}"]
            running.append((group, subprocess.Popen(command, cwd=getattr(self, "_called_from", None),
                                                    env=dict(os.environ, **{WORKER_ENV: "1"}))))
        failed = []
        for group, process in running:
            code = process.wait()
            if code != 0:
                failed.append((group, code))
        for group, code in failed:
            how = f"was ended by signal {-code}" if code < 0 else f"ended with status {code}"
            self.log.error("the kit: the nbgrader process that autograded %s %s; see its lines above",
                           ", ".join(group), how)
        if failed:
            raise NbGraderException("autograding failed for some submissions (see above)")

    def _student_of(self, submission: str) -> str:
        pattern = self._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
        found = re.match(pattern, submission)
        if found is None:  # nbgrader itself says so when it meets it
            return submission
        return found.group("student_id")
