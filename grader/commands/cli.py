"""python -m grader: grade a submission (the main job), or build, calibrate, batch-grade.

    python -m grader PATH [--json REPORT.json] [--html REPORT.html]
    python -m grader exercises DEST copy the student notebooks into DEST (--assignment internals:
                                    the under-the-hood notebook)
    python -m grader build          regenerate solutions/ and exercises/
    python -m grader calibrate      re-measure the val_loss reference (about 30 min; --assignment
                                    internals: that assignment's, about 75 s)
    python -m grader batch COURSE   grade a whole class in parallel (see --help)
    python -m grader overview COURSE  the class overview page (+ CSV, JSON) of a graded course
    python -m grader gradescope     the Gradescope autograder zip (see --help)
    python -m grader github-classroom  the GitHub Classroom autograding workflow (see --help)

Exit status: 0 when every autograded question passes, 1 when one fails, 2 on a usage error
or a submission that cannot be read.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository, in a clone
COMMANDS = ("build", "calibrate", "batch", "exercises", "overview", "gradescope", "github-classroom")


def nbgrader_env() -> dict:
    """nbgrader runs `alembic` from PATH: put this interpreter's scripts folder first."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def build_notebooks(argv) -> int:
    """Write solutions/ from the question definitions, then exercises/ with nbgrader, then the
    open-in links of the release (exercise folders' READMEs, the README's table)."""
    import subprocess
    import tempfile

    from ..assignments import all_assignments, release_names
    from ..base import release

    parser = argparse.ArgumentParser(prog="python -m grader build", description="Build the notebooks of every "
                                     "assignment and the open-in links of the release, in this clone.")
    parser.add_argument("--repository", metavar="OWNER/NAME", help="the GitHub repository the kit is published "
                        "from (your course's fork); written to pyproject.toml's [project.urls] as the one setting")
    args = parser.parse_args(argv)
    if args.repository:
        try:
            print(f"the kit's repository is now {release.name_repository(args.repository)} (pyproject.toml)")
        except (ValueError, OSError) as error:
            parser.error(str(error))

    for unit in all_assignments():
        for path in unit.write_solutions(ROOT):
            print(f"wrote {path.relative_to(ROOT)}")
    with tempfile.TemporaryDirectory() as scratch:  # a throwaway gradebook, not the course's
        for assignment in release_names():
            command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
                       "--db", f"sqlite:///{scratch}/gradebook.db"]
            status = subprocess.call(command, cwd=ROOT, env=nbgrader_env())
            if status:
                return status
    from .open_in import write as write_open_in_links

    for path in write_open_in_links(ROOT):
        print(f"wrote {path.relative_to(ROOT)} (open-in links)")
    if release.is_placeholder():  # last, where it is seen
        print(release.placeholder_warning(), file=sys.stderr)
    return 0


def copy_exercises(argv) -> int:
    """Give a student who installed the kit with pip the notebooks to work in."""
    import shutil

    from ..assignments import add_option, by_key, default

    parser = argparse.ArgumentParser(prog="python -m grader exercises",
                                     description="Copy the exercise notebooks into a folder to work in.")
    parser.add_argument("dest", type=Path, nargs="?", default=Path("."), help="folder (default: here)")
    parser.add_argument("--force", action="store_true", help="overwrite notebooks already there")
    parser.add_argument("--lang", default="en", help="en (default) or zh_CN: the notebooks in Simplified Chinese")
    add_option(parser, default().key)
    args = parser.parse_args(argv)
    from ..base.i18n import normalize

    args.dest.mkdir(parents=True, exist_ok=True)
    for name, source in by_key(args.assignment).exercise_notebooks(normalize(args.lang) or "en").items():
        target = args.dest / source.name
        if target.exists() and not args.force:
            print(f"kept {target} (it exists; --force overwrites it with a fresh copy)")
            continue
        shutil.copyfile(source, target)
        print(f"wrote {target}")
    print(f"Open them in Jupyter; each answer has a check cell that says at once what to change. Grade "
          f"your work with: cd {args.dest} && pytest --pyargs grader")
    return 0


def calibrate(args) -> int:
    """Re-measure one assignment's reference: --assignment picks it (default: the lesson); the
    other arguments go to that assignment's calibration (see --assignment KEY --help)."""
    import importlib

    from ..assignments import by_key, default, keys

    parser = argparse.ArgumentParser(prog="python -m grader calibrate", add_help=False)
    parser.add_argument("--assignment", choices=keys(), default=default().key)
    known, rest = parser.parse_known_args(args)
    return importlib.import_module(by_key(known.assignment).calibration).main(rest)


def cache_option(no_cache: bool, folder: Path | None):
    """What grade() takes for --no-cache / --cache-dir."""
    if no_cache:
        return None
    if folder is not None:
        from ..running.training_cache import TrainingCache

        return TrainingCache(folder)
    return "default"


def grade_command(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="a submission folder, or one notebook (.ipynb)")
    parser.add_argument("--json", type=Path, metavar="REPORT", help="write a machine-readable report here")
    parser.add_argument("--html", type=Path, metavar="REPORT", help="write the feedback report (HTML) here")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell before it is stopped (default 300)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--no-cache", action="store_true", help="train every model in its notebook (no training cache)")
    parser.add_argument("--cache-dir", type=Path, help="training cache folder (default: DROPOUT_KIT_TRAINING_CACHE, "
                                                       "else the user cache folder)")
    parser.add_argument("--lang", help="language of the feedback: en or zh_CN (default: the notebooks' own)")
    from ..assignments import add_option

    add_option(parser, None)
    args = parser.parse_args(argv)

    from ..running.harness import DEFAULT_CELL_TIMEOUT, SubmissionError, print_progress
    from ..feedback.report import summary, write_html, write_json
    from ..running.sandbox import GraderUnavailable
    from ..grading.submission import grade
    from ..base.data import DataError

    try:
        report = grade(args.path, cell_timeout=args.timeout or DEFAULT_CELL_TIMEOUT,
                       progress=None if args.quiet else print_progress, expect_all=args.path.is_dir(),
                       cache=cache_option(args.no_cache, args.cache_dir), lang=args.lang,
                       assignment=args.assignment)
    except SubmissionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except GraderUnavailable as error:  # nothing was graded and nothing is written
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DataError as error:  # the grader's data, not the student's: nothing was graded
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not report.sandbox.active:
        print(report.sandbox.warning(), file=sys.stderr)
    print(summary(report))  # its last line names the layer that contained the student's code
    if args.json:
        write_json(report, args.json)
        print(f"JSON report: {args.json}")
    if args.html:
        write_html(report, args.html)
        print(f"Feedback report: {args.html}")
    return 0 if report.passed else 1


# The commands that use nbgrader or Dask (the `instructor` extra), and what each needs.
INSTRUCTOR_TOOLS = {"build": ("nbgrader",), "batch": ("nbgrader", "distributed")}


def instructor_tools_missing(command: str) -> str:
    """The instructor's packages that ``command`` needs and this environment lacks ("" if none)."""
    import importlib.util

    return ", ".join(name for name in INSTRUCTOR_TOOLS.get(command, ()) if importlib.util.find_spec(name) is None)


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports TensorFlow
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        if not argv:
            print(__doc__)
            return 2
        return grade_command(argv)
    command, rest = argv[0], argv[1:]
    missing = instructor_tools_missing(command)
    if missing:
        print(f"error: python -m grader {command} needs the instructor's tools ({missing}), which a student's "
              "install leaves out: pip install \"dropout-batchnorm-kit[instructor]\" (in a clone: pip install -e "
              "\".[instructor]\").", file=sys.stderr)
        return 2
    if command == "build":
        return build_notebooks(rest)
    if command == "calibrate":
        return calibrate(rest)
    if command == "exercises":
        return copy_exercises(rest)
    if command == "github-classroom":
        from .github_classroom import main as github_classroom_main

        return github_classroom_main(rest)
    if command == "gradescope":
        from .gradescope import main as gradescope_main

        return gradescope_main(rest)
    if command == "overview":
        from ..feedback.overview import main as overview_main

        return overview_main(rest)
    from .batch import main as batch_main

    return batch_main(rest)
