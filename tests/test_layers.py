"""The package's layout is its architecture: no import cycles, no private name used outside its
module, every import going down the layers, and no module knowing an assignment by name unless
it lives in that assignment's package (tests/import_rules.py reads the imports from the source)."""
from __future__ import annotations

from pathlib import Path

import pytest

from import_rules import against_layers, cycles, imports, modules, part_of, private_imports

GRADER = Path(__file__).resolve().parent.parent / "grader"
ASSIGNMENT_PACKAGES = ("grader.lesson", "grader.internals")
# The public names at the top of the package: what released notebooks, nbgrader_config.py and
# `pytest grader` use (grader/__init__.py says which is which).
PUBLIC = ["grader", "grader.__main__", "grader.autograde", "grader.data", "grader.plots", "grader.quiet",
          "grader.i18n", "grader.sandbox", "grader.nbgrader_feedback", "grader.nbgrader_execute",
          "grader.test_notebooks"]


def parts() -> dict:
    """Part -> module prefixes. Each module of assignments/ but its __init__ registers one assignment."""
    entries = [m for m in modules(GRADER) if m.startswith("grader.assignments.")]
    return {"base": ["grader.base"], "registry": ["grader.assignments"], "judging": ["grader.judging"],
            "running": ["grader.running"], "grading": ["grader.grading"], "lesson": ["grader.lesson"],
            "internals": ["grader.internals"], "feedback": ["grader.feedback"], "entries": entries,
            "commands": ["grader.commands"], "public": PUBLIC}


# Bottom first. Parts that share a layer are independent of each other, but for ALLOWED.
LAYERS = [["base"], ["registry"], ["judging"], ["running"], ["grading"], ["lesson", "internals", "feedback"],
          ["entries"], ["commands"], ["public"]]
ALLOWED = {("internals", "lesson")}  # internals Q4 is the lesson's spotify Q3 model with the student's layers


@pytest.fixture(scope="module")
def edges():
    return imports(GRADER)


def test_the_package_has_no_import_cycles(edges):
    assert cycles(edges) == []


def test_no_private_name_is_imported_from_another_module(edges):
    assert private_imports(edges) == []


def test_every_import_goes_down_the_layers(edges):
    assert against_layers(edges, LAYERS, parts(), ALLOWED) == []


def test_every_module_belongs_to_a_part():
    table = parts()
    assert [m for m in modules(GRADER) if not part_of(m, table)] == []


def test_only_an_assignments_own_package_knows_it(edges):
    """Outside an assignment's package, only its registry entry, an assignment built on it and
    the public names that released notebooks import may import it."""
    table = parts()
    for edge in edges:
        package = next((p for p in ASSIGNMENT_PACKAGES if edge.target == p or edge.target.startswith(p + ".")), None)
        if package is None or edge.source.startswith(package):
            continue
        source_part = part_of(edge.source, table)
        assert (source_part in ("entries", "public") or (source_part, part_of(edge.target, table)) in ALLOWED), edge


def _package(root: Path, files: dict) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_the_rules_fail_on_a_planted_cycle_a_private_import_and_an_upward_import(tmp_path):
    """The same functions on a package with each fault planted: each is reported."""
    package = _package(tmp_path, {
        "__init__.py": "",
        "low/__init__.py": "", "low/a.py": "def f():\n    from ..high import b  # lazy: still a cycle\n",
        "high/__init__.py": "", "high/b.py": "from ..low import a\nfrom ..low.a import _secret\n",
    })
    edges = imports(package)
    assert cycles(edges) == [["pkg.high.b", "pkg.low.a"]]
    assert private_imports(edges) == ["pkg.high.b:2 imports _secret from pkg.low.a"]
    table = {"low": ["pkg.low"], "high": ["pkg.high"], "top": ["pkg"]}
    assert against_layers(edges, [["low"], ["high"], ["top"]], table) == ["pkg.low.a:2 (low) imports pkg.high.b (high)"]


def test_the_machinery_names_no_question_of_any_assignment():
    """No string in base/, judging/, running/, grading/, feedback/ or commands/ (docstrings aside)
    holds a question id of a registered assignment: what differs per question is the question's data."""
    import ast

    from grader.assignments import all_assignments

    ids = {q.id for unit in all_assignments() for q in unit.questions}
    machinery = [p for part in ("base", "judging", "running", "grading", "feedback", "commands")
                 for p in (GRADER / part).rglob("*.py")]
    found = []
    for path in machinery:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found += [f"{path.relative_to(GRADER)}:{node.lineno} {q}" for q in ids if q in node.value]
    assert found == []


def test_what_a_notebook_kernel_imports_leaves_nbformat_alone():
    """A notebook's cells import the checks, the data, the plots and the calibrated bands; none
    of them may pull in nbformat (and jsonschema with it), which costs a kernel seconds: a
    training cache hit is graded at the cost of its kernels' imports."""
    import subprocess
    import sys

    probe = ("import sys\nfrom grader import wine, spotify, internals\nfrom grader.data import wine_splits\n"
             "from grader.plots import learning_curves\nfrom grader.judging.reference import band\n"
             "from grader.assignments import all_assignments\n[band(q) for q in ('wine_q1', 'spotify_q1', 'spotify_q3')]\n"
             "print(sorted(m for m in ('nbformat', 'jsonschema', 'nbclient', 'nbconvert') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300,
                           cwd=GRADER.parent)
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip().splitlines()[-1] == "[]", found.stdout
