"""Benchmark: the notebook the student really has, graded by the command, case by case.

    python bench/bench_mangled.py [--lang en] [--only NAME ...]

Each case of tests/mangled_corpus.py (Colab's copy, a second download, Kaggle's title, metadata
dropped, answers copied, deleted or turned into Markdown, ...) plus the changes that must keep a
right answer right (ids dropped at nbformat 4.2, check and grade cells deleted, the concrete block
moved up, a kernelspec from the student's machine, pip and magics, ``tf.keras``, a 20 MB output),
each alone, with the answered wine notebook beside it, graded by ``python -m grader FOLDER
--json``. It prints one row per case: the grade, what the corpus expects for spotify, the seconds,
and the first words the kit said about spotify (the report's note on the file, else the first
failed question's message, and a question's note). The training cache is the user's own (warm after the first case).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import ROOT, env  # noqa: E402
from mangled_corpus import RELEASES, cases, kept_right, write_case  # noqa: E402


def said_about_spotify(report: dict, printed: str) -> str:
    spotify = next((nb for nb in report.get("notebooks", []) if nb["notebook"] == "spotify"), None)
    if spotify is None:
        return "(spotify not in the report)"
    notes = [line.strip() for line in printed.splitlines() if "spotify" in line and ".ipynb" in line]
    questions = [q for q in spotify.get("questions", []) if not q["manual"]]
    failed = [q["message"] for q in questions if not q["passed"]]
    told = [note for q in questions for note in q.get("notes", [])]  # e.g. which of two answer cells was taken
    words = (notes[:1] + failed[:1] + told[:1]) or ["(all passed, nothing to say)"]
    return " / ".join(" ".join(text.split())[:140] for text in words)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="en", choices=sorted(RELEASES))
    parser.add_argument("--only", nargs="*", help="case names (default: every case)")
    args = parser.parse_args()
    corpus = cases(args.lang) + kept_right(args.lang)
    if args.only:
        corpus = [case for case in corpus if case.name in args.only]
    wine = ROOT / "solutions" / RELEASES[args.lang] / "wine.ipynb"
    print(f"{'case':58} {'grade':>6} {'spotify':>8} {'s':>5}  what the kit said")
    with tempfile.TemporaryDirectory(prefix="bench-mangled-") as tmp:
        for number, case in enumerate(corpus):
            folder = write_case(case, Path(tmp) / f"case{number}")
            shutil.copy(wine, folder / "wine.ipynb")
            report_path = Path(tmp) / f"case{number}.json"
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "grader", str(folder), "--json", str(report_path)],
                                  capture_output=True, text=True, env=env(), timeout=900)
            seconds = time.perf_counter() - started
            if not report_path.exists():
                print(f"{case.name:58} {'-':>6} {case.points:>5}/10 {seconds:5.0f}  exit {done.returncode}: "
                      f"{(done.stderr or done.stdout)[-200:]!r}")
                continue
            report = json.loads(report_path.read_text())
            grade = f"{report['points']:g}/{report['max_points']:g}"
            print(f"{case.name:58} {grade:>6} {case.points:>5}/10 {seconds:5.0f}  {said_about_spotify(report, done.stdout)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
