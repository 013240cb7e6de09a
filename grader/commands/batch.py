"""Grade a whole class in parallel on Dask: ``python -m grader batch COURSE``.

Each submission (``submitted/<student>/dropout-batchnorm/``, or the release of the assignment
that ``--assignment`` names) is one Dask task that grades it in
its own sandboxed kernel. With no options a local cluster sized to the machine is started; with
``--scheduler ADDRESS`` the work goes to an existing cluster. Results are recorded only by this
process, one at a time, as tasks finish: a JSON per student (the resume marker), the feedback
page, nbgrader's gradebook and a CSV. A worker that dies has its task retried by Dask (bounded),
and a result is recorded once per student whatever happens.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..base.student_errors import described
from ..assignments import add_option, by_key, default, of_release
from ..feedback.nbgrader_autograded import write_autograded
from ..feedback.overview import RESULTS_FOLDER, results_folder


def csv_name(unit) -> str:
    """kit-grades.csv, or kit-grades-<key>.csv for an assignment other than the default."""
    return f"{RESULTS_FOLDER}{unit.suffix()}.csv"


@dataclass(frozen=True)
class Job:
    student: str
    path: str
    assignment: str  # the release the student took (one per language)

    @property
    def unit(self):
        return of_release(self.assignment)


def find_submissions(course_or_submitted: Path, key: str | None = None) -> tuple[Path, list[Job]]:
    """The course root and one job per ``submitted/<student>/<release>/`` folder of the assignment."""
    base = Path(course_or_submitted).resolve()
    submitted = base / "submitted" if (base / "submitted").is_dir() else base
    course = submitted.parent if submitted.name == "submitted" else base
    jobs = {}
    for assignment in (by_key(key) if key else default()).releases.values():  # a mixed class: each student took one release
        for folder in sorted(submitted.glob(f"*/{assignment}")):
            if folder.is_dir():
                jobs.setdefault(folder.parent.name, Job(folder.parent.name, str(folder), assignment))
    return course, [jobs[student] for student in sorted(jobs)]


def worker_threads(cores: int) -> dict:
    """Environment that keeps a kernel's training on its worker's share of the cores."""
    n = str(max(1, cores))
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": n}


def threads_set_here() -> int | None:
    """The training threads this environment already names (TF_NUM_INTRAOP_THREADS), if any: an
    instructor's or a suite's explicit setting wins over the default, so that every grader on
    the machine trains alike (and shares one training cache)."""
    value = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def grade_job(job: Job, threads: int | None, cell_timeout: int, cache_dir: str | None = "") -> dict:
    """Runs on a worker: grade one submission, return the JSON report (never raises for bad input)."""
    from ..running.harness import SubmissionError
    from ..base.i18n import t, use
    from ..feedback.report import handed_in_notes, json_safe, to_html
    from ..running.sandbox import GraderUnavailable
    from ..grading.submission import grade

    os.environ.update(worker_threads(threads) if threads else {})
    try:
        from ..running.training_cache import TrainingCache

        cache = None if cache_dir is None else TrainingCache(Path(cache_dir)) if cache_dir else "default"
        report = grade(job.path, cell_timeout=cell_timeout, cache=cache, assignment=job.unit.key)
    except SubmissionError as error:
        return {"student": job.student, "assignment": job.assignment, "error": str(error), "points": 0,
                "notebooks": []}
    except GraderUnavailable as error:  # the worker's failure: reported, never recorded as a grade
        return {"student": job.student, "grader_error": str(error)}
    result = json_safe(report.to_dict())
    result["student"], result["assignment"] = job.student, job.assignment
    with use(report.language):
        result["html"] = to_html(report, t("report.title-student", student=job.student, assignment=job.assignment))
        result["handed_in"] = handed_in_notes(report)
    return result


def check_worker(threads: int | None = None) -> dict:
    """Runs on every worker before work starts: is the kit importable, is the data right, and
    does a sandboxed kernel start and run a cell? (With the threads its kernels will have, so
    that the fork server it starts is the one that grading uses.)"""
    from ..base import data
    from ..running import sandbox

    os.environ.update(worker_threads(threads) if threads else {})
    problems = []
    for name in data.manifest():
        try:
            data.locate(name)
        except data.DataError as error:
            problems.append(str(error))
    try:
        from ..judging.reference import check_files

        check_files()
    except Exception as error:  # noqa: BLE001
        problems.append(f"the kit's reference file is unusable: {error}")
    state = None
    if not problems:
        try:
            state = sandbox.preflight()
        except sandbox.GraderUnavailable as error:
            problems.append(str(error))
    return {"kit": str(Path(__file__).resolve().parent.parent), "problems": problems,
            "sandbox": state is not None and state.active, "sandbox_detail": state.reason if state else None}


# --------------------------------------------------------------------------------------------
# Recording: only the client process writes, one result at a time.
# --------------------------------------------------------------------------------------------

def ensure_assignment(gradebook, assignment: str) -> None:
    """Register the assignment's notebooks and grade cells (what generate_assignment records)."""
    unit = of_release(assignment)
    gradebook.update_or_create_assignment(assignment)
    for name, build in unit.builders.items():
        gradebook.update_or_create_notebook(name, assignment)
        for cell in build().cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                gradebook.update_or_create_grade_cell(meta["grade_id"], name, assignment,
                                                      max_score=meta["points"], cell_type=cell.cell_type)


def record_gradebook(db_url: str, result: dict) -> None:
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    parts = {}
    for nb in result.get("notebooks", []):
        for q in nb["questions"]:
            for name, part in (q.get("parts") or {}).items():
                parts[f"{q['id']}_{name}"] = part["points"]
    assignment = result["assignment"]
    with warnings.catch_warnings(), Gradebook(db_url) as gradebook:
        # nbgrader's own models warn while a submission is created (harmless, and nbgrader's):
        # only that warning is silenced.
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session", category=SAWarning)
        ensure_assignment(gradebook, assignment)
        gradebook.update_or_create_student(result["student"])
        gradebook.update_or_create_submission(assignment, result["student"])
        for question in of_release(assignment).questions:
            for name, cell in getattr(question, "grade_cells", {}).items():
                grade = gradebook.find_grade(cell, question.notebook, assignment, result["student"])
                grade.auto_score = float(parts.get(f"{question.id}_{name}", 0))
                grade.needs_manual_grade = False  # graded: formgrader lists only the free responses
        gradebook.db.commit()


class Recorder:
    def __init__(self, course: Path, db_url: str, language: str | None = None, key: str | None = None):
        self.course, self.db_url, self.language = course, db_url, language
        self.unit = by_key(key) if key else default()
        # nbgrader's Gradebook runs `alembic` from PATH: make sure this environment's is found.
        scripts = str(Path(sys.executable).parent)
        if scripts not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
        self.results = course / results_folder(self.unit)
        self.results.mkdir(parents=True, exist_ok=True)
        self.handed_in = {}  # student -> what the report says of the files (report.handed_in_notes)

    def done(self, student: str) -> bool:
        return (self.results / f"{student}.json").exists()

    def record(self, result: dict) -> None:
        student = result["student"]
        html = result.pop("html", None)
        if result.get("handed_in"):  # which file was graded as which notebook, the files set aside
            self.handed_in[student] = result["handed_in"]
        if html:
            page = self.course / "feedback" / student / result["assignment"] / "kit-feedback.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(html)
        if not result.get("error"):
            write_autograded(self.course, result)  # what formgrader opens, as after nbgrader autograde
        record_gradebook(self.db_url, result)
        partial = self.results / f"{student}.json.partial"
        partial.write_text(json.dumps(result, indent=1) + "\n")
        os.replace(partial, self.results / f"{student}.json")  # written last: marks the student done

    def write_overview(self) -> None:
        """The class overview page, CSV and JSON (overview.py), from every recorded result."""
        from ..feedback.overview import records_from_kit_grades, write_overview

        write_overview(records_from_kit_grades(self.results, self.unit), self.course, self.language, self.unit)

    def write_csv(self) -> Path:
        path = self.course / csv_name(self.unit)
        ids = [f"{q.id}_{part}" for q in self.unit.questions for part in getattr(q, "grade_cells", {})]
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["student", "points", "max_points", "error", *ids])
            for file in sorted(self.results.glob("*.json")):
                result = json.loads(file.read_text())
                parts = {f"{q['id']}_{name}": part["points"] for nb in result.get("notebooks", [])
                         for q in nb["questions"] for name, part in (q.get("parts") or {}).items()}
                writer.writerow([result["student"], result.get("points", 0), result.get("max_points", ""),
                                 result.get("error") or "", *(parts.get(i, 0) for i in ids)])
        return path


# --------------------------------------------------------------------------------------------

def run_batch(course_or_submitted: Path, scheduler: str | None = None, workers: int | None = None,
              force: bool = False, retries: int = 2, cell_timeout: int = 300, db_url: str | None = None,
              progress: bool = True, on_submitted=None, threads: int | None = None,
              allow_unsandboxed: bool = False, cache_dir: str | None = "", lang: str | None = None,
              assignment: str | None = None) -> dict:
    """Grade every submission not yet graded; ``threads`` per kernel defaults to cores / workers.
    ``cache_dir``: the training cache ("" the default folder, None none); with ``--scheduler`` it
    must be a folder every worker reaches (a shared file system), or each machine keeps its own."""
    from dask.distributed import Client, LocalCluster, as_completed

    from ..running.sandbox import GraderUnavailable

    assignment = assignment or default().key
    course, jobs = find_submissions(course_or_submitted, assignment)
    recorder = Recorder(course, db_url or f"sqlite:///{course / 'gradebook.db'}", lang, assignment)
    todo = [job for job in jobs if force or not recorder.done(job.student)]
    summary = {"course": str(course), "assignment": assignment, "submissions": len(jobs),
               "skipped": len(jobs) - len(todo),
               "graded": 0, "failed": 0, "seconds": 0.0, "grader_errors": {}, "retried": {}, "resubmitted": {}}
    if not todo:
        recorder.write_csv()
        recorder.write_overview()
        return summary
    cores = os.cpu_count() or 1
    if scheduler:
        client, cluster = Client(scheduler), None
        # How long the client tries to reconnect after losing its scheduler (a restart): Dask
        # takes it from the connect timeout (30 s), which a scheduler restarted on a busy machine
        # can outlast; the first connection above keeps Dask's 30 s, so a wrong address fails fast.
        client._timeout = RECONNECT_WAIT_S
    else:
        n = workers or cores
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        threads = threads or threads_set_here() or max(1, cores // n)
    started = time.perf_counter()
    try:
        checks = client.run(check_worker, threads)
        broken = {address: c["problems"] for address, c in checks.items() if c["problems"]}
        if broken:
            raise GraderUnavailable("Workers are not ready; no submission was graded:\n" + "\n".join(
                f"  {address}: {problem}" for address, problems in broken.items() for problem in problems))
        unsandboxed = {address: c["sandbox_detail"] for address, c in checks.items() if not c["sandbox"]}
        if unsandboxed and not allow_unsandboxed:
            raise GraderUnavailable("Refusing to grade a class without a sandbox (student code would run with "
                                    "your rights); pass --no-sandbox to do it anyway:\n" + "\n".join(
                                        f"  {address}: {why}" for address, why in unsandboxed.items()))
        if unsandboxed:
            print(f"warning: grading WITHOUT a sandbox on {len(unsandboxed)} worker(s) (--no-sandbox): "
                  + "; ".join(sorted(set(unsandboxed.values()))), file=sys.stderr)
        summary["sandbox"] = not unsandboxed
        bar = _Progress(len(todo), enabled=progress)
        pending, resubmitted = list(todo), 0
        while pending:
            lost = _grade_all(client, pending, threads, cell_timeout, cache_dir, retries, recorder, summary, bar,
                              on_submitted)
            if not lost:
                break
            resubmitted += 1
            if resubmitted > retries or not _workers_back(client, threads):
                for job in lost:  # nothing recorded: graded on the next run
                    summary["grader_errors"][job.student] = (
                        "the connection to the Dask scheduler was lost while it was graded, and no worker came "
                        "back; run the command again when the cluster is back")
                break
            for job in lost:
                summary["resubmitted"][job.student] = "the connection to the Dask scheduler was lost"
            print(f"\nThe connection to the Dask scheduler was lost: {len(lost)} submission(s) not yet graded "
                  "are sent again.", file=sys.stderr)
            pending = lost
        bar.close()
        for student, workers in summary["retried"].items():
            print(f"{student}: graded again after the worker holding the submission died ({', '.join(workers)})",
                  file=sys.stderr)
        for student, why in summary["resubmitted"].items():
            if student not in summary["grader_errors"]:
                print(f"{student}: sent again after {why}", file=sys.stderr)
    except KeyboardInterrupt:
        summary["interrupted"] = True
        print("\nStopped: everything finished so far is recorded; run the command again to resume.",
              file=sys.stderr)
    finally:  # bounded: a cluster interrupted mid-task must not keep the command waiting
        _quietly(client.close, timeout=10)
        if cluster is not None:
            _quietly(cluster.close, timeout=30)
    recorder.write_csv()
    recorder.write_overview()
    summary["seconds"] = time.perf_counter() - started
    summary["handed_in"] = recorder.handed_in
    return summary


def _quietly(close, timeout: float) -> None:
    try:
        close(timeout=timeout)
    except Exception:  # noqa: BLE001 - what is recorded is recorded; the cluster goes with the process
        pass


def _grade_all(client, jobs, threads, cell_timeout, cache_dir, retries, recorder, summary, bar, on_submitted) -> list:
    """Send ``jobs`` to the workers and record each result as it comes; returns the jobs whose
    result was lost with the connection to the scheduler (never recorded: the grader's failure)."""
    from dask.distributed import as_completed

    since = client.run_on_scheduler(time.time)
    futures = {client.submit(grade_job, job, threads, cell_timeout, cache_dir, key=f"grade-{job.student}",
                             retries=retries, pure=False): job for job in jobs}
    if on_submitted:
        on_submitted(client, futures)
    lost = []
    for future in as_completed(futures):
        job = futures[future]
        try:
            result = future.result()
        except BaseException as error:  # noqa: BLE001 - Dask's cancellation is not an Exception
            if isinstance(error, KeyboardInterrupt):
                raise
            if _connection_lost(error, future.status):
                lost.append(job)
                continue
            # a task that failed every retry
            result = {"student": job.student, "assignment": job.assignment,
                      "error": f"grading failed: {described(type(error).__name__, str(error))}",
                      "points": 0, "notebooks": []}
        if result.get("grader_error"):  # nothing recorded: the student is graded on the next run
            summary["grader_errors"][job.student] = result["grader_error"]
            bar.update(job.student, True)
            continue
        recorder.record(result)
        failed = bool(result.get("error")) or not result.get("passed", False)
        summary["graded"] += 1
        summary["failed"] += failed
        bar.update(job.student, failed)
    if not lost:
        try:
            summary["retried"].update(retried(client, {f.key: j.student for f, j in futures.items()}, since))
        except Exception:  # noqa: BLE001 - a scheduler without the record (restarted): nothing to say
            pass
    return lost


def _connection_lost(error: BaseException, status: str) -> bool:
    """Was the result lost on the way, not failed in the task? Only a task that raised on its worker
    (after its retries) has the status "error", and only that is recorded, as the student's
    failure. Anything else is the connection's: Dask cancels every pending result when the client
    loses its scheduler (a restart), and a result that finished while the scheduler went away
    fails to be fetched (CommClosedError, "Stream is closed"); those are sent again."""
    import asyncio
    import concurrent.futures

    return status != "error" or isinstance(error, (asyncio.CancelledError, concurrent.futures.CancelledError))


RECONNECT_WAIT_S = 120


def _workers_back(client, threads) -> bool:
    """After the scheduler came back: are there workers again, and ready (the same checks as at
    the start)?"""
    try:
        client.wait_for_workers(1, timeout=RECONNECT_WAIT_S)
        checks = client.run(check_worker, threads)
    except Exception:  # noqa: BLE001 - no scheduler or no worker in time
        return False
    return bool(checks) and not any(c["problems"] for c in checks.values())


def retried(client, students: dict, since: float) -> dict:
    """Student -> the workers that died holding their submission (running it, or with it queued),
    which was then sent to another: read from the Dask scheduler's own record of removed workers
    since ``since``."""
    lost = {}
    for when, event in client.get_events("all"):
        if when < since or not isinstance(event, dict) or event.get("action") != "remove-worker":
            continue
        for key in event.get("processing-tasks", ()):
            if key in students:
                lost.setdefault(students[key], []).append(event.get("worker", "?"))
    return lost


class _Progress:
    """One line: done / failed / remaining, rate and time left."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.done, self.failed, self.enabled = total, 0, 0, enabled
        self.started = time.perf_counter()

    def update(self, student: str, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed * 60 if elapsed else 0
        left = (self.total - self.done) / (self.done / elapsed) if self.done else 0
        filled = int(30 * self.done / self.total)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} done, {self.failed} not full marks, "
              f"{self.total - self.done} remaining | {rate:.1f}/min | {left:.0f} s left | last: {student:12.12s}",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader batch",
                                     description="Grade every submission of a course in parallel (Dask).")
    parser.add_argument("course", type=Path, help="the nbgrader course folder, or its submitted/ folder")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    parser.add_argument("--workers", type=int, help="local workers (default: one per core)")
    parser.add_argument("--force", action="store_true", help="grade again students already graded")
    parser.add_argument("--retries", type=int, default=2, help="retries of a submission whose worker died")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--db", help="nbgrader gradebook URL (default sqlite:///COURSE/gradebook.db)")
    parser.add_argument("--threads", type=int, help="training threads per kernel (default: TF_NUM_INTRAOP_THREADS where set, else cores / workers)")
    parser.add_argument("--no-cache", action="store_true", help="train every model in its notebook (no training cache)")
    parser.add_argument("--cache-dir", help="training cache folder that every worker reaches (default: the user cache)")
    parser.add_argument("--lang", help="the course's language for the class overview: en or zh_CN (default: "
                                       "DROPOUT_KIT_LANG, else en); each student's feedback is in their notebooks' language")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade even where student code cannot be sandboxed (it runs with your rights)")
    add_option(parser, default().key)
    args = parser.parse_args(argv)
    from ..running.sandbox import GraderUnavailable

    try:
        summary = run_batch(args.course, args.scheduler, args.workers, args.force, args.retries, args.timeout,
                            args.db, threads=args.threads, allow_unsandboxed=args.no_sandbox,
                            cache_dir=None if args.no_cache else (args.cache_dir or ""), lang=args.lang,
                            assignment=args.assignment)
    except GraderUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from ..assignments import by_key
    from ..feedback.overview import file_names

    print(f"{summary['graded']} graded ({summary['failed']} without full marks), {summary['skipped']} already "
          f"graded and skipped, in {summary['seconds']:.0f} s. CSV: {Path(summary['course']) / csv_name(by_key(args.assignment))}"
          f"; class overview: {Path(summary['course']) / file_names(by_key(args.assignment))[0]}")
    for student, lines in sorted(summary.get("handed_in", {}).items()):
        for line in lines:
            print(f"{student}: {line}")
    for student, why in summary["grader_errors"].items():
        print(f"error: {student} was NOT graded (the grader failed, not the student): {why}", file=sys.stderr)
    if summary.get("interrupted"):
        return 130  # the shell's convention for a command ended by Ctrl-C
    return 2 if summary["grader_errors"] else 0
