"""The lesson in Chinese, end to end: the Chinese release graded by `pytest grader` and the
command, each answering in Chinese with the same verdicts and points as in English; `--lang`
overrides the notebook's language. (nbgrader: tests/test_nbgrader.py grades a Chinese student.)"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from answer_corpus import CORPUS
from grader.i18n import use
from grader.lesson.questions import CODING, QUESTIONS
from submissions import set_answer, solution_notebook, write

pytestmark = pytest.mark.slow
CJK = re.compile(r"[\u4e00-\u9fff]")


def run(args, cwd, timeout=1500):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def questions(report: dict) -> dict:
    return {q["id"]: q for nb in report["notebooks"] for q in nb["questions"]}


def test_pytest_grader_on_the_chinese_solutions_answers_in_chinese(root, tmp_path):
    result = run(["-m", "pytest", "grader", "--submission", str(root / "solutions" / "dropout-batchnorm-zh"),
                  "--json", str(tmp_path / "report.json"), "--report", str(tmp_path / "feedback.html"),
                  "-p", "no:cacheprovider", "-rs"], cwd=root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"{len(CODING)} passed, {len(QUESTIONS) - len(CODING)} skipped" in result.stdout
    assert "简答题，由教师阅读评分" in result.stdout and "含学习曲线的反馈报告" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["language"] == "zh_CN" and report["assignment"] == "dropout-batchnorm-zh"
    assert report["points"] == report["max_points"] == 15
    for entry in questions(report).values():
        assert CJK.search(entry["message"]), entry["message"]
    page = (tmp_path / "feedback.html").read_text()
    assert '<html lang="zh-Hans">' in page and "得分：15 / 15" in page and "@font-face" in page
    assert page.count("data:image/png;base64,") == len(CODING)


def _wrong_submission(tmp_path, lang: str):
    """spotify with Dropout after the first hidden layer only, in the release of ``lang``."""
    code = next(c[2] for c in CORPUS if c[0] == "spotify only first dropout")
    with use(lang):
        nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", code)
    return write(nb, tmp_path / lang, "spotify")


def test_the_same_answer_gets_the_same_grade_in_both_languages(root, tmp_path):
    """Each language trains its own models (no training cache), so equal numbers mean something."""
    reports = {}
    for lang in ("en", "zh_CN"):
        path = _wrong_submission(tmp_path, lang)
        result = run(["-m", "grader", str(path), "--json", str(tmp_path / f"{lang}.json"), "--quiet", "--no-cache"],
                     cwd=root)
        assert result.returncode == 1, result.stdout + result.stderr
        reports[lang] = questions(json.loads((tmp_path / f"{lang}.json").read_text()))
    en, zh = reports["en"], reports["zh_CN"]
    assert not any(q["training_reused"] for q in [*en.values(), *zh.values()])
    for question_id in en:
        assert (en[question_id]["points"], en[question_id]["passed"]) == (zh[question_id]["points"], zh[question_id]["passed"])
        assert en[question_id]["val_loss"] == zh[question_id]["val_loss"]
    assert en["spotify_q1"]["parts"]["architecture"]["mistake"] == "dropout-missing-in-some-blocks"
    assert zh["spotify_q1"]["parts"]["architecture"]["mistake"] == "dropout-missing-in-some-blocks"
    assert "but not after Dense(64)" in en["spotify_q1"]["message"]
    assert "但在 Dense(64) 之后没有放" in zh["spotify_q1"]["message"]


def test_lang_overrides_the_notebooks_language(root, tmp_path):
    path = _wrong_submission(tmp_path, "zh_CN")
    result = run(["-m", "grader", str(path), "--lang", "en", "--json", str(tmp_path / "r.json"), "--quiet"], cwd=root)
    assert result.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["language"] == "en" and "but not after Dense(64)" in questions(report)["spotify_q1"]["message"]
    assert "Score: 5/10" in result.stdout and not CJK.search(result.stdout)


def test_every_font_stack_of_the_chinese_page_reaches_the_shipped_font(root, tmp_path):
    """On a machine without a CJK font (a CI runner, a bare hub image), a CJK character in a font
    stack that never names the kit's own font renders as an empty box: every stack of the page
    names it, and the font the page embeds has a glyph for every CJK character of its text. The
    page names what the student handed in, not the grading machine's folders."""
    import base64
    import html
    import io
    import re

    from fontTools.ttLib import TTFont

    path = _wrong_submission(tmp_path, "zh_CN")
    result = run(["-m", "grader", str(path), "--html", str(tmp_path / "r.html"), "--quiet"], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    page = (tmp_path / "r.html").read_text()
    assert "应为" in page and "实际" in page and "差异" in page  # the layer table's headers
    embedded = re.search(r"@font-face\{font-family:'([^']+)';src:url\(data:font/otf;base64,([^)]+)\)", page)
    assert embedded, "the Chinese page embeds no font"
    family, data = embedded.groups()
    stacks = [s for s in re.findall(r"font-family:([^;}\"]+)", page) if not s.startswith(f"'{family}';src")]
    assert stacks and all(family in stack for stack in stacks), [s for s in stacks if family not in s]
    generic = {"monospace", "sans-serif", "serif", "system-ui", "ui-monospace", "ui-sans-serif", "cursive"}
    for stack in stacks:  # the kit's font before the first generic family: a generic one ends the search
        names = [name.strip().strip("'\"") for name in stack.split(",")]
        first_generic = next((i for i, name in enumerate(names) if name in generic), len(names))
        assert names.index(family) < first_generic, stack
    text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<(style|script)>.*?</\1>", "", page, flags=re.S)))
    glyphs = TTFont(io.BytesIO(base64.b64decode(data)))["cmap"].getBestCmap()
    lacking = sorted({ch for ch in text if ord(ch) > 0x2E7F and ord(ch) not in glyphs})
    assert not lacking, "".join(lacking)
    assert str(tmp_path) not in page and "spotify.ipynb" in page
