"""The suite's duration budget (tests/duration_budget.py) says which files went over, and by how much."""
from __future__ import annotations

from types import SimpleNamespace

import duration_budget
from duration_budget import BUDGETS_S, DEFAULT_S, Budget


def report(nodeid: str, seconds: float):
    return SimpleNamespace(nodeid=nodeid, duration=seconds)


def test_a_file_over_its_budget_is_named_with_what_it_took_and_a_file_within_is_not():
    budget = Budget()
    listed = next(iter(BUDGETS_S))
    for phase in (BUDGETS_S[listed] / 2, BUDGETS_S[listed] / 2 + 1):  # set-up and call add up
        budget.add(report(f"{listed}::test_x", phase))
    budget.add(report("tests/test_new_capability.py::test_y[a]", DEFAULT_S - 1))
    budget.add(report("tests/test_new_capability.py::test_y[b]", 2))
    budget.add(report("tests/test_cheap.py::test_z", DEFAULT_S - 1))
    over = budget.over()
    assert [name for name, _, _ in over] == sorted([listed, "tests/test_new_capability.py"])
    assert dict((name, (round(spent, 1), allowed)) for name, spent, allowed in over)[listed] == (
        BUDGETS_S[listed] + 1, BUDGETS_S[listed])
    assert budget.table(top=1)[0].endswith(listed)
    whole = sum(BUDGETS_S[listed] / 2 + x for x in (0, 1)) + DEFAULT_S + 1 + DEFAULT_S - 1
    assert budget.table(top=1)[-1] == f"{whole:8.1f} s of {duration_budget.TOTAL_S:6.0f} s  the whole suite"


def test_the_whole_suite_has_a_budget_of_its_own(monkeypatch):
    monkeypatch.setattr(duration_budget, "TOTAL_S", 100.0)
    budget = Budget()
    for n in range(3):
        budget.add(report(f"tests/test_{n}.py::test", 40))
    assert budget.over() == [("the whole suite", 120, 100.0)]
