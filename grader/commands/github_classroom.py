"""python -m grader github-classroom: the workflow GitHub Classroom's autograding reads.

One step per autograded question, in the form GitHub Classroom documents today: each runs
``classroom-resources/autograding-command-grader`` with the command that grades that question
alone (``pytest --pyargs grader --question ID``) and the question's points as its max-score; the
reporter step sends the results to the Classroom. Put the file at
``.github/workflows/classroom.yml`` of the assignment's template repository, beside the notebooks.

The command grader runs each command with a bare environment (``PATH``, ``HOME`` and little else:
nothing the workflow exports reaches it) and gives the points only when the command exits 0 and
writes nothing to stderr. The kit is installed by each grader step's ``setup-command``: a failed
install fails that step with its message, and the reporter still sends every score (a separate
install step that failed would skip every grader step and the reporter, and record no score).
``--wheel`` installs the instructor's own build committed to the template repository, ``--install``
any pip requirement; by default the release this kit names (grader/base/release.py).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..assignments import add_option, by_key, default
from ..base import release
from ..base.kinds import CodingQuestion, FreeResponse

WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
GRADER_ACTION = "classroom-resources/autograding-command-grader@v1"
REPORTER_ACTION = "classroom-resources/autograding-grading-reporter@v1"


def step_id(question_id: str) -> str:
    return question_id.replace("_", "-")


def command(question_id: str) -> str:
    return f"python -m pytest --pyargs grader --question {question_id} -p no:cacheprovider"


def graded_questions(unit) -> list:
    """The questions a step can grade: every one but the free responses (the teacher reads those)."""
    return [q for q in unit.questions if not isinstance(q, FreeResponse)]


CHECKOUT_ACTION = "actions/checkout@v5"  # Node 24, as GitHub's runners now run actions
SETUP_PYTHON_ACTION = "actions/setup-python@v6"


def install_command(wheel: str | None = None, install: str | None = None) -> str:
    """The pip command of each step's setup: the committed wheel, a requirement, or the release."""
    pip = "python -m pip install --quiet --disable-pip-version-check"
    if wheel:
        return f'{pip} "{wheel}[cpu]"'
    if install:
        return f"{pip} {install}"
    return f'{pip} "{release.DISTRIBUTION}[cpu]=={release.VERSION}" --find-links {release.release_assets()}'



def workflow(assignment: str, timeout_minutes: int = 20, install: str | None = None) -> str:
    unit = by_key(assignment)
    q = json.dumps  # a YAML double-quoted scalar is a JSON string
    install = install or install_command()
    lines = [
        f"# GitHub Classroom autograding for {unit.name}: written by `python -m grader github-classroom`.",
        "# One step per autograded question; free responses are read by the teacher.",
        "name: Autograding Tests",
        "'on':",
        "- push",
        "- repository_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "    - name: Checkout code",
        f"      uses: {CHECKOUT_ACTION}",
        "    - name: Set up Python",
        f"      uses: {SETUP_PYTHON_ACTION}",
        "      with:",
        "        python-version: '3.11'",
    ]
    ids = []
    for question in graded_questions(unit):
        ids.append(step_id(question.id))
        lines += [
            f"    - name: {q(question.heading)}",
            f"      id: {ids[-1]}",
            f"      uses: {GRADER_ACTION}",
            "      with:",
            f"        test-name: {q(question.heading)}",
            f"        setup-command: {q(install)}",
            f"        command: {q(command(question.id))}",
            f"        timeout: {timeout_minutes}",
            f"        max-score: {question.points}",
        ]
    lines += ["    - name: Autograding Reporter", f"      uses: {REPORTER_ACTION}", "      env:"]
    lines += [f"        {i.upper()}_RESULTS: \"${{{{steps.{i}.outputs.result}}}}\"" for i in ids]
    lines += ["      with:", f"        runners: {','.join(ids)}", ""]
    return "\n".join(lines)


def autograded_total(unit) -> int:
    return sum(q.points for q in graded_questions(unit))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader github-classroom",
                                     description="Write the GitHub Classroom autograding workflow of an assignment.")
    add_option(parser, default().key)
    parser.add_argument("-o", "--output", type=Path, default=WORKFLOW, help=f"default: {WORKFLOW}")
    parser.add_argument("--timeout", type=int, default=20, help="minutes per question's step (default 20)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--wheel", help="grade with this wheel, committed to the template repository (its path there)")
    where.add_argument("--install", metavar="SPEC", help="grade with the kit pip installs from SPEC (a requirement)")
    args = parser.parse_args(argv)
    if args.wheel and not args.wheel.endswith(".whl"):
        parser.error(f"--wheel {args.wheel}: not a wheel (a .whl file, committed beside the notebooks)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(workflow(args.assignment, args.timeout, install_command(args.wheel, args.install)),
                           encoding="utf-8")
    unit = by_key(args.assignment)
    coding = [q for q in graded_questions(unit) if isinstance(q, CodingQuestion)]
    print(f"wrote {args.output}: {len(graded_questions(unit))} graded steps ({len(coding)} of them train a model), "
          f"{autograded_total(unit)} points. Commit it to the assignment's template repository with the notebooks.")
    if not (args.wheel or args.install) and release.is_placeholder():  # it installs the release named there
        print(release.placeholder_warning(), file=sys.stderr)
    return 0
