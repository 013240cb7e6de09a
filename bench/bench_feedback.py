"""What the feedback costs once the models are judged: the feedback page (English, Chinese with
its embedded font subset), the terminal summary and a class overview of 30 students.

    python bench/bench_feedback.py

No training: the verdicts come from the real checks on answers of the corpus, the learning
curves from the calibration's runs. Prints seconds per item, best of three.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def report(lang: str, wrong: bool):
    from answer_corpus import CORPUS
    from test_architecture import build

    from grader.judging.checks import check_architecture, check_val_loss
    from grader.grading.results import QuestionResult
    from grader.i18n import use
    from grader.lesson.questions import BY_ID
    from grader.lesson.calibrate import REFERENCE_PATH
from grader.judging.reference import read
    from grader.grading.submission import NotebookResult, SubmissionReport
    from grader.judging.verdict import Verdict

    runs = {v["question"]: v["runs"][0] for v in read(REFERENCE_PATH)["variants"] if v["correct"]}
    with use(lang):
        results = []
        for qid, name in (("spotify_q1", "spotify only first dropout" if wrong else "spotify both dropout 0.3"),
                          ("spotify_q3", "concrete BN before each dense")):
            question, code = BY_ID[qid], next(c[2] for c in CORPUS if c[0] == name)
            result = QuestionResult(question, history={"loss": runs[qid]["loss"], "val_loss": runs[qid]["val_loss"]})
            architecture = check_architecture(question, build(question, code))
            result.parts["architecture"] = (architecture, 3)
            result.parts["val_loss"] = (check_val_loss(question, runs[qid]["evaluated_val_loss"], result.history)
                                        if architecture.passed else Verdict(False, "-"), 2)
            results.append(result)
        results.insert(1, QuestionResult(BY_ID["spotify_q2"], manual=True, answer="…"))
        return SubmissionReport("bench", notebooks=[NotebookResult("spotify", "spotify.ipynb", results)], language=lang)


def best(function, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    from grader.base.quiet import import_tensorflow

    import_tensorflow()
    from grader.feedback.overview import records_from_kit_grades, write_overview
    from grader.feedback.report import json_safe, summary, to_html

    for lang in ("en", "zh_CN"):
        r = report(lang, wrong=True)
        print(f"{lang:6s} feedback page (2 plots): {best(lambda: to_html(r)):.2f} s, "
              f"{len(to_html(r)) // 1024} KB; terminal summary: {best(lambda: summary(r)) * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as folder:
        grades = Path(folder) / "kit-grades"
        grades.mkdir()
        for i in range(30):
            data = json_safe(report("en" if i % 3 else "zh_CN", wrong=i % 4 == 0).to_dict())
            data["student"] = f"student{i:02d}"
            (grades / f"student{i:02d}.json").write_text(json.dumps(data))
        for lang in ("en", "zh_CN"):
            seconds = best(lambda: write_overview(records_from_kit_grades(grades), Path(folder), lang))
            print(f"{lang:6s} class overview of 30 students (HTML, CSV, JSON): {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
