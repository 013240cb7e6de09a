"""Gradescope's run_autograder: grade /autograder/submission, write /autograder/results/results.json.

The layout and the results format are Gradescope's autograder specification. The grading is
``python -m grader``'s, the same sandbox and the same verdicts: each graded part of a question is
one Gradescope test (the layers; the validation loss, hidden until the grades are published
unless the instructor chose otherwise), a free response is listed for grading by hand, and the
student's feedback page is the submission's output. When the grader itself cannot work (no
sandbox where one is required, a failed preflight), nothing is written and the process exits
non-zero with the cause on stdout: Gradescope then shows staff a failed autograder, never the
student a zero.

    python -m grader.commands.gradescope_run        (AUTOGRADER_ROOT, default /autograder)
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from ..assignments import by_key
from ..base.limits import cpu_quota, memory_limit_mb, oom_kills, set_training_threads
from ..base.i18n import normalize, t, use
from ..feedback.report import answer_text, json_safe, summary, to_html
from ..grading.submission import NotebookResult, SubmissionReport, failed_results, grade, identify
from ..judging.verdict import table_text
from ..running.harness import SubmissionError
from ..running.training_cache import CACHE_ENV as TRAINING_CACHE_ENV
from ..running.sandbox import GraderUnavailable

ROOT_ENV = "AUTOGRADER_ROOT"
CONFIG = "config.json"  # written by `python -m grader gradescope` into the zip
DEFAULT_TIMEOUT_S = 600  # Gradescope's default overall timeout for a submission
TIME_MARGIN_S = 45  # the run ends this long before the platform's timeout: results.json written, kernels ended
# One TensorFlow process beside the grader's own at a time: the kernels start cold (no fork server
# holding a second copy) and train in the notebook (no trainer kernel: a fresh container's training
# cache is empty anyway, so one is used only where DROPOUT_KIT_TRAINING_CACHE names it). Measured
# under cgroup limits: bench/bench_gradescope_limits.py.
CONTAINER_SETTINGS = {"DROPOUT_KIT_FORK_SERVER": "off"}
ADVISED_MEMORY_MB = 1024  # the least that grades the solutions (gradescope.py's MEASURED)
PART_LABELS = {"architecture": "report.part.architecture", "val_loss": "report.part.val-loss",
               "check": "report.part.check"}


def autograder_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or "/autograder")


def collect(submission: Path, notebooks: tuple) -> tuple[dict, list]:
    """{notebook name: file} among the uploaded files, at any depth, in either language, and a
    line for each file set aside. A file is known by its cells, else (unreadable) by its name."""
    found, set_aside = {}, []
    files = sorted((p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts),
                   key=lambda p: (len(p.parts), p.stem not in notebooks, str(p)))  # at one depth, the exact name first
    for path in files:
        try:
            name = identify(path)
        except SubmissionError as error:
            name = path.stem if path.stem in notebooks else None
            if name is None:
                set_aside.append(str(error))
                continue
        if name not in notebooks:
            set_aside.append(t("gradescope.other-assignment", file=path.name))
        elif name in found:
            set_aside.append(t("gradescope.duplicate", file=str(path.relative_to(submission)),
                               kept=str(found[name].relative_to(submission))))
        else:
            found[name] = path
    return found, set_aside


def _fenced(text: str) -> str:
    return "```\n" + text.replace("```", "'''") + "\n```"


def part_test(result, name: str, verdict, points: int, visibility: str) -> dict:
    body = [t("verdict.correct" if verdict.passed else "verdict.incorrect", message=verdict.message)]
    if verdict.rows and not verdict.passed:
        body.append(_fenced("\n".join(table_text(verdict.rows))))
    test = {
        "name": f"{result.question.heading} · {t(PART_LABELS.get(name, 'report.part.check'))}",
        "score": points if verdict.passed else 0, "max_score": points,
        "status": "passed" if verdict.passed else "failed",
        "output": "\n\n".join(body), "output_format": "md",
        "tags": [result.question.id, name],
        "visibility": visibility if name == "val_loss" else "visible",
    }
    if verdict.val_loss is not None:
        test["extra_data"] = {"val_loss": json_safe(verdict.val_loss), "threshold": json_safe(verdict.threshold)}
    return test


def manual_test(result) -> dict:
    """A free response: listed with its points for Gradescope's manual grading, not scored."""
    return {
        "name": t("gradescope.manual", title=result.question.heading, points=t(
            "report.points-one" if result.question.points == 1 else "report.points", points=result.question.points)),
        "score": 0, "max_score": 0, "output": _fenced(answer_text(result)), "output_format": "md",
        "tags": [result.question.id, "manual"], "visibility": "visible",
        "extra_data": {"manual_points": result.question.points},
    }


def results_of(report, config: dict, set_aside: list, seconds: float) -> dict:
    tests = []
    with use(report.language):
        for result in report.results:
            if result.manual:
                tests.append(manual_test(result))
                continue
            for name, (verdict, points) in result.parts.items():
                tests.append(part_test(result, name, verdict, points, config["val_loss_visibility"]))
        notes = "".join(f"<p>{line}</p>" for line in set_aside)
    return {
        "score": report.points, "execution_time": round(seconds),
        "output": notes + to_html(report), "output_format": "html",
        "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {"kit": report.release, "max_points": report.max_points,
                       "sandbox": bool(report.sandbox and report.sandbox.active),
                       "sandbox_layer": report.sandbox.layer if report.sandbox else None},
    }


def nothing_to_grade(unit, config: dict, set_aside: list, seconds: float) -> dict:
    """No notebook of the assignment in the upload: the report of a submission whose notebooks are
    all missing (every part failed, saying what to upload), so the student can resubmit."""
    files = ", ".join(f"{name}.ipynb" for name in unit.notebooks)
    language = normalize(config.get("feedback_lang")) or normalize(config["lang"])
    with use(language):
        said = t("gradescope.nothing", files=files)
    report = SubmissionReport("submission", language=language, assignment=unit, notebooks=[
        NotebookResult(name, None, failed_results(name, said), error=said, missing=True) for name in unit.notebooks])
    return results_of(report, config, set_aside, seconds)


class Results:
    """results.json, rewritten whole as each notebook is graded: a run the platform ends (its
    timeout, its memory) still shows the notebooks that finished, and the others say they were
    not judged. At the time budget the run writes what it has and ends itself, before the
    platform's timeout, which would show the student nothing."""

    def __init__(self, file: Path, config: dict, unit, set_aside: list, started: float):
        self.file, self.config, self.unit, self.set_aside, self.started = file, config, unit, set_aside, started
        self.lock = threading.Lock()
        self.report = None  # the report so far (None until the first notebook is graded)
        self.final = False
        self.kills_before = oom_kills()  # the container's out-of-memory kills before grading

    def out_of_memory(self) -> bool:
        """Whether the container's out-of-memory killer killed a process since grading began: a
        kernel it killed says nothing about the student's answer."""
        now = oom_kills()
        return self.kills_before is not None and now is not None and now > self.kills_before

    def write(self, results: dict) -> None:
        partial = self.file.with_suffix(".json.partial")
        partial.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        partial.replace(self.file)  # whole or absent: Gradescope never reads half a file

    def graded(self, report) -> None:
        """A notebook was graded: write it with the ones still to come, not judged."""
        with self.lock:
            if not self.final and not self.out_of_memory():
                self.report = report
                self.write(self.with_pending(lambda name: t("gradescope.pending", notebook=name)))

    def with_pending(self, said) -> dict:
        """The report so far, and each notebook still to grade failed with ``said(notebook)``."""
        report = self.report
        language = report.language if report else (normalize(self.config.get("feedback_lang"))
                                                    or normalize(self.config["lang"]))
        done = [nb.notebook for nb in report.notebooks] if report else []
        with use(language):
            pending = [NotebookResult(name, None, failed_results(name, why), error=why, missing=True)
                       for name in self.unit.notebooks if name not in done for why in [said(name)]]
        whole = SubmissionReport("submission", sandbox=report.sandbox if report else None, language=language,
                                 assignment=self.unit, notebooks=(report.notebooks if report else []) + pending)
        return results_of(whole, self.config, self.set_aside, time.perf_counter() - self.started)

    def done(self, results: dict) -> None:
        with self.lock:
            self.final = True
            self.write(results)

    def time_up(self, budget_s: float) -> None:
        """The budget is spent: write what is graded, the rest not judged, and end the run now (the
        kernels end with it: bubblewrap's --die-with-parent, Landlock's parent-death signal)."""
        with self.lock:
            if self.final:
                return
            self.final = True
            if self.out_of_memory():  # a kernel the container killed first: no grade at all
                self.file.unlink(missing_ok=True)
                print(out_of_memory_message(), flush=True)
                os._exit(4)
            minutes = f"{budget_s / 60:.1f}"
            self.write(self.with_pending(lambda name: t("gradescope.time-up", notebook=name, minutes=minutes)))
            print(f"The time budget of {budget_s:.0f} s ran out ({self.config.get('timeout_s', DEFAULT_TIMEOUT_S)} s "
                  f"timeout less {TIME_MARGIN_S} s): results.json holds the notebooks graded so far; raise the "
                  "autograder's timeout (python -m grader gradescope --timeout-min) and regrade.", flush=True)
            sys.stdout.flush()
            os._exit(0)


def out_of_memory_message() -> str:
    limit = memory_limit_mb()
    return (f"The container ran out of memory while grading ({'its limit: ' + format(limit, '.0f') + ' MB; ' if limit else ''}"
            "its out-of-memory killer ended a kernel): nothing was written, the student's score is untouched. "
            f"Raise the autograder's memory to at least {ADVISED_MEMORY_MB} MB in the assignment's settings "
            "(python -m grader gradescope prints the settings to choose) and regrade.")


def contain_to_the_container() -> dict:
    """What the run sets before grading: training threads from the container's CPU quota (unless
    set), and one TensorFlow process beside the grader's at a time. Returns what it set."""
    chosen = set_training_threads()
    for name, value in CONTAINER_SETTINGS.items():
        if name not in os.environ:
            os.environ[name] = value
            chosen[name] = value
    return chosen


def run(root: Path) -> int:
    started = time.perf_counter()
    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    os.environ.setdefault("DROPOUT_KIT_DATA", str(root / "source" / "data"))
    os.environ["DROPOUT_KIT_SANDBOX"] = config.get("sandbox") or "on"  # contained unless the zip says otherwise
    chosen = contain_to_the_container()
    limit, quota = memory_limit_mb(), cpu_quota()
    print(f"container: memory {format(limit, '.0f') + ' MB' if limit else 'not limited (or not readable)'}, "
          f"CPU {quota if quota else 'not limited'}" + ("; set for it: " + ", ".join(
              f"{k}={v}" for k, v in sorted(chosen.items())) if chosen else ""))
    if limit and limit < ADVISED_MEMORY_MB:
        print(f"warning: {limit:.0f} MB is less than the {ADVISED_MEMORY_MB} MB the kit needs (TensorFlow in the grader "
              "and in the student's kernel): raise the autograder's memory in the assignment's settings.")
    unit = by_key(config["assignment"])
    results_file = root / "results" / "results.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with use(config["lang"]):
        found, set_aside = collect(root / "submission", unit.notebooks)
    for line in set_aside:
        print(line)
    results = Results(results_file, config, unit, set_aside, started)
    if not found:
        final = nothing_to_grade(unit, config, set_aside, time.perf_counter() - started)
    else:
        budget = float(config.get("timeout_s") or DEFAULT_TIMEOUT_S) - TIME_MARGIN_S
        watchdog = threading.Timer(max(1.0, budget - (time.perf_counter() - started)), results.time_up, (budget,))
        watchdog.daemon = True
        watchdog.start()
        staged = root / "work" / "submission"
        shutil.rmtree(staged.parent, ignore_errors=True)
        staged.mkdir(parents=True)
        for name, path in found.items():
            shutil.copyfile(path, staged / f"{name}.ipynb")
        try:
            report = grade(staged, expect_all=True, assignment=unit.key, lang=config.get("feedback_lang"),
                           cache="default" if os.environ.get(TRAINING_CACHE_ENV) else None,
                           on_notebook=results.graded)
        except GraderUnavailable as error:
            watchdog.cancel()
            with results.lock:
                results.final = True
                results_file.unlink(missing_ok=True)  # nothing of a grader that cannot grade
            print(f"The autograder cannot grade (nothing was written; the student's score is untouched): {error}")
            return 2
        watchdog.cancel()
        if results.out_of_memory():
            with results.lock:
                results.final = True
                results_file.unlink(missing_ok=True)  # a killed kernel's "failure" is no grade
            print(out_of_memory_message())
            return 4
        print(report.sandbox.describe() if report.sandbox.active else report.sandbox.warning())
        print(summary(report))
        final = results_of(report, config, set_aside, time.perf_counter() - started)
    results.done(final)
    print(f"results: {results_file} (score {final['score']})")
    return 0


def main(argv=None) -> int:
    try:
        return run(autograder_root())
    except Exception as error:  # noqa: BLE001 - the grader's own failure: staff must see it, the student keeps no 0
        import traceback

        traceback.print_exc(file=sys.stdout)
        # what the notebooks graded before wrote goes too: the grader's failure is never a grade
        (autograder_root() / "results" / "results.json").unlink(missing_ok=True)
        print(f"The autograder failed (nothing was written): {type(error).__name__}: {error}")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
