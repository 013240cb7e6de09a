"""How `nbgrader autograde` shares a class among its processes (grader/running/nbgrader_workers.py):
the number of processes from the CPUs and memory the grader may use, and who grades whom. The
real runs are in test_nbgrader.py (the course is autograded that way)."""
from __future__ import annotations

from grader.running.nbgrader_workers import MEMORY_PER_WORKER_MB, default_workers, shares


def test_one_process_more_than_the_cpus_fewer_where_memory_is_short():
    plenty = 64 * MEMORY_PER_WORKER_MB
    assert default_workers(cpus=2.0, memory_mb=plenty) == 3  # measured: 3 on 2 cores beat 2
    assert default_workers(cpus=0.5, memory_mb=plenty) == 1  # a quota of half a CPU: one, never none
    assert default_workers(cpus=1.0, memory_mb=plenty) == 1
    assert default_workers(cpus=3.99, memory_mb=plenty) == 4
    assert default_workers(cpus=8.0, memory_mb=2 * MEMORY_PER_WORKER_MB + 1) == 2
    assert default_workers(cpus=8.0, memory_mb=768) == 1  # too little for one: still one (nbgrader's own way)


def test_every_student_is_in_exactly_one_share_and_a_rerun_deals_alike():
    students = [f"s{n:02d}" for n in range(7)]
    dealt = shares(list(reversed(students)), 3)
    assert sorted(s for share in dealt for s in share) == students
    assert [len(share) for share in dealt] == [3, 2, 2]
    assert dealt == shares(students, 3)
    assert shares(["alice"], 4) == [["alice"]]  # no empty share, so no idle process
