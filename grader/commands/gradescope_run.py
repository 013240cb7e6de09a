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
import time
from pathlib import Path

from ..assignments import by_key
from ..base.i18n import normalize, t, use
from ..feedback.report import answer_text, json_safe, summary, to_html
from ..grading.submission import NotebookResult, SubmissionReport, failed_results, grade, identify
from ..judging.verdict import table_text
from ..running.harness import SubmissionError
from ..running.sandbox import GraderUnavailable

ROOT_ENV = "AUTOGRADER_ROOT"
CONFIG = "config.json"  # written by `python -m grader gradescope` into the zip
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


def run(root: Path) -> int:
    started = time.perf_counter()
    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    os.environ.setdefault("DROPOUT_KIT_DATA", str(root / "source" / "data"))
    os.environ["DROPOUT_KIT_SANDBOX"] = config.get("sandbox") or "on"  # contained unless the zip says otherwise
    unit = by_key(config["assignment"])
    results_file = root / "results" / "results.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    with use(config["lang"]):
        found, set_aside = collect(root / "submission", unit.notebooks)
    for line in set_aside:
        print(line)
    if not found:
        results = nothing_to_grade(unit, config, set_aside, time.perf_counter() - started)
    else:
        staged = root / "work" / "submission"
        shutil.rmtree(staged.parent, ignore_errors=True)
        staged.mkdir(parents=True)
        for name, path in found.items():
            shutil.copyfile(path, staged / f"{name}.ipynb")
        try:
            report = grade(staged, expect_all=True, assignment=unit.key, lang=config.get("feedback_lang"))
        except GraderUnavailable as error:
            print(f"The autograder cannot grade (nothing was written; the student's score is untouched): {error}")
            return 2
        print(report.sandbox.describe() if report.sandbox.active else report.sandbox.warning())
        print(summary(report))
        results = results_of(report, config, set_aside, time.perf_counter() - started)
    partial = results_file.with_suffix(".json.partial")
    partial.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(results_file)  # whole or absent: Gradescope never reads half a file
    print(f"results: {results_file} (score {results['score']})")
    return 0


def main(argv=None) -> int:
    try:
        return run(autograder_root())
    except Exception as error:  # noqa: BLE001 - the grader's own failure: staff must see it, the student keeps no 0
        import traceback

        traceback.print_exc(file=sys.stdout)
        print(f"The autograder failed (nothing was written): {type(error).__name__}: {error}")
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
