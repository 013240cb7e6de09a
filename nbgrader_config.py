"""nbgrader settings for the kit: run nbgrader commands from the repository root.

solutions/<assignment>/  is nbgrader's "source" folder (instructor notebooks),
exercises/<assignment>/  is its "release" folder (what students get),
submitted/, autograded/, feedback/ are nbgrader's usual folders, and gradebook.db its SQLite
gradebook (set c.CourseDirectory.db_url to any SQLAlchemy URL nbgrader accepts).
"""
import os
import sys

c = get_config()  # noqa: F821 - provided by nbgrader

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Starter code stays runnable: the answers are replaced by a comment, not by `raise`.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}

# Training cells take 15-30 s on a 2-core CPU and longer on a slow laptop; nbgrader's default
# is 30 s per cell. 300 s leaves room and still stops an endless loop.
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# Keep TensorFlow's C++ start-up log out of the cells' stderr (nbgrader zeroes a test cell that
# writes to stderr); the notebooks set the same variable for interactive use.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Everything below needs the kit. nbgrader ignores a config file that raises (it logs the error
# and runs with its defaults: 30 s cells, student code not sandboxed, source/ and release/), so a
# kit that cannot be imported here is said at once: `nbgrader autograde` and `generate_feedback`
# stop before they write anything, other commands go on with the settings above, and inside a
# Jupyter server (formgrader) autograde and feedback fail with the message before any cell runs.
try:
    import grader  # noqa: F401
except ImportError as missing:
    KIT_MISSING = (f"nbgrader_config.py: the dropout-batchnorm kit cannot be imported by this Python "
                   f"({sys.executable}: {missing}). Without it nbgrader would grade with its own defaults "
                   "(30 s per cell, so every training cell times out; student code not sandboxed). Install "
                   "the kit in this environment (pip install 'dropout-batchnorm-kit[instructor]', or "
                   "pip install '.[instructor]' in a clone), then run the command again.")
    print(f"error: {KIT_MISSING}", file=sys.stderr)
    if sys.argv[1:2] in (["autograde"], ["generate_feedback"]):  # the commands that need the kit stop here
        raise SystemExit(2)
    from nbgrader.preprocessors import NbGraderPreprocessor

    class KitMissing(NbGraderPreprocessor):
        """Stands for every step that needs the kit: it fails, with the message, before any cell runs."""

        def preprocess(self, nb, resources):
            raise RuntimeError(KIT_MISSING)

    c.Autograde.autograde_preprocessors = [KitMissing]  # formgrader's buttons: fail before any cell runs
    c.GenerateFeedback.preprocessors = [KitMissing]
else:
    # Feedback shows what a hidden test said, never its code (nbgrader would render it in full).
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from grader.nbgrader_feedback import HideHiddenTests

    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

    # Student code runs with the instructor's rights in plain nbgrader (its issue #483): here every
    # kernel of autograde starts in the kit's sandbox (grader/sandbox.py), and a grader that cannot
    # run student code stops before anything is written to the gradebook.
    c.Execute.kernel_manager_class = "grader.sandbox.NbgraderKernelManager"
    # ... and autograde's Execute step is the kit's: it checks, before each kernel starts (from the
    # command line and from formgrader's Autograde button), that the kernel is the kit's contained one.
    from nbgrader.converters import Autograde

    from grader.nbgrader_execute import ContainedExecute

    # It also forks each kernel from a warm process and serves trainings from the training cache, as
    # `python -m grader batch` does (grader/running/nbgrader_execute.py): what nbgrader writes is the same.
    c.Autograde.autograde_preprocessors = [ContainedExecute if getattr(step, "__name__", "") == "Execute" else step
                                           for step in Autograde.class_traits()["autograde_preprocessors"].default()]
    if "autograde" in sys.argv[1:2]:
        from grader.sandbox import GraderUnavailable, kernel_manager_class, preflight

        try:  # a kernel started cold: the fork server is started for the course's folder when grading begins
            _sandbox = preflight(manager=kernel_manager_class(hide_reference=False, fork=False))
        except GraderUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        if not _sandbox.active:
            print(_sandbox.warning(), file=sys.stderr)
        # nbgrader autogrades one submission after the other; from the command line the kit shares a
        # class among a few nbgrader processes, one more than the CPUs (grader/running/nbgrader_workers.py).
        # c.ParallelAutograde.workers = 1 grades one after the other.
        import nbgrader.apps.autogradeapp as _autograde_app

        from grader.running.nbgrader_workers import ParallelAutograde

        _autograde_app.Autograde = ParallelAutograde
