"""The matcher on a corpus of real student answers: verdict and message for each."""
import keras
import pytest
from keras import layers

from answer_corpus import CORPUS, NAMED_MISTAKES
from grader.judging.checks import check_architecture
from grader.i18n import t
from grader.lesson.questions import BY_ID, CODING


def build(question, code):
    namespace = {"keras": keras, "layers": layers, "input_shape": [question.expected.input_dim]}
    exec(code, namespace)
    return namespace["model"]


@pytest.mark.parametrize("name,question_id,code,passes,fragment", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_answer(name, question_id, code, passes, fragment):
    question = BY_ID[question_id]
    verdict = check_architecture(question, build(question, code))
    assert verdict.passed is passes, verdict.text()
    assert fragment in verdict.message, verdict.text()


def test_corpus_is_large_and_covers_both_notebooks():
    assert len(CORPUS) >= 40
    assert {c[1] for c in CORPUS} == {q.id for q in CODING}
    assert any(c[3] for c in CORPUS) and any(not c[3] for c in CORPUS)


@pytest.mark.parametrize("question", CODING, ids=[q.id for q in CODING])
def test_every_solution_passes_and_every_starter_fails(question):
    from grader.base.training import build as build_answer

    assert check_architecture(question, build_answer(question.solution_code, question.expected.input_dim)).passed
    starter = keras.Sequential([keras.Input(shape=(question.expected.input_dim,))] + [
        layers.Dense(layer.units, activation=layer.activation) for layer in question.starter.layers])
    verdict = check_architecture(question, starter)
    assert not verdict.passed and verdict.not_attempted
    assert "starter model" in verdict.message


def test_failing_verdict_shows_expected_vs_found_table():
    question = BY_ID["spotify_q1"]
    model = build(question, "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(128, activation='relu'),"
                            " layers.Dense(64, activation='relu'), layers.Dropout(0.3), layers.Dense(1)])")
    text = check_architecture(question, model).text()
    assert "expected" in text and "found" in text
    assert "Dropout(rate=0.3)" in text and "-   2  Dropout(rate=0.3)" in text  # the missing row is marked
    html = check_architecture(question, model)._repr_html_()
    assert "<table" in html and "Incorrect" in html


def test_undefined_model_is_reported_as_not_attempted():
    verdict = check_architecture(BY_ID["wine_q1"], None)
    assert not verdict.passed and verdict.not_attempted and "`model` is None" in verdict.message


@pytest.mark.parametrize("name", sorted(NAMED_MISTAKES))
def test_the_mistake_is_named(name):
    """The common mistakes are named in one sentence; the position-by-position detail, which can
    point at another layer than the named mistake does, is left to the table under it."""
    import re

    _, question_id, code, passes, _ = next(c for c in CORPUS if c[0] == name)
    question = BY_ID[question_id]
    verdict = check_architecture(question, build(question, code))
    assert not passes and not verdict.passed
    assert verdict.mistake == NAMED_MISTAKES[name], verdict.text()
    if "-" in verdict.mistake and " " not in verdict.mistake and verdict.mistake != "starter-model":
        sentence, pointer = verdict.message.split("\n")
        assert pointer == t("check.detail-table") and verdict.rows, verdict.text()
        assert not re.search(r"\bLayers? \d", sentence), sentence  # no position that could contradict it


def _statuses(question_id, code):
    question = BY_ID[question_id]
    return [row.status for row in check_architecture(question, build(question, code)).rows]


def test_table_aligns_a_missing_layer_as_one_empty_cell():
    from answer_corpus import D1, D64, D128, DO3, spotify

    assert _statuses("spotify_q1", spotify(D128, D64, DO3, D1)) == ["same", "missing", "same", "same", "same"]


def test_table_aligns_an_extra_layer_on_the_found_side():
    from answer_corpus import D1, D64, D128, DO3, spotify

    assert _statuses("spotify_q1", spotify(D128, DO3, D64, DO3, D1, DO3)) == ["same"] * 5 + ["extra"]


def test_table_shows_a_swapped_pair_as_a_missing_and_an_extra_row():
    from answer_corpus import CORPUS

    code = next(c[2] for c in CORPUS if c[0] == "wine dropout and BN swapped")
    assert _statuses("wine_q1", code)[:4] == ["same", "missing", "same", "extra"]


def test_table_shows_a_changed_rate_on_one_row_with_the_difference():
    from answer_corpus import WINE_RIGHT

    question = BY_ID["wine_q1"]
    verdict = check_architecture(question, build(question, WINE_RIGHT.replace("Dropout(0.3)", "Dropout(0.5)", 1)))
    changed = [row for row in verdict.rows if not row.equal]
    assert [(r.status, r.expected_position, r.found_position, r.note) for r in changed] == [
        ("changed", 2, 2, "rate 0.5, expected 0.3")]
    text, html = verdict.text(), verdict._repr_html_()
    assert "changed: rate 0.5, expected 0.3" in text and "changed: rate 0.5, expected 0.3" in html


@pytest.mark.parametrize("name,question_id,code,passes,fragment",
                         [c for c in CORPUS if not c[3]], ids=[c[0] for c in CORPUS if not c[3]])
def test_every_rendering_shows_the_same_aligned_table(name, question_id, code, passes, fragment):
    """Terminal, notebook and feedback page draw the same rows, each marked in words. An answer
    with no layers to align (a list, None, a string, a branching model) gets its message and no
    table, the same in all three."""
    import re

    from grader.grading.results import QuestionResult
    from grader.feedback.report import _question_html
    from grader.judging.verdict import ROW_MARKS, row_word

    question = BY_ID[question_id]
    verdict = check_architecture(question, build(question, code))
    pages = (verdict._repr_html_(), _question_html(QuestionResult(question, parts={"architecture": (verdict, 3)})))
    if not verdict.rows:
        assert fragment in verdict.message and not verdict.passed
        assert verdict.text() == t("verdict.incorrect", message=verdict.message)  # the message, no table
        for html in pages:
            assert not re.findall(r'<tr class="\w+">', html) and fragment.split("`")[0] in html
        return
    statuses = [row.status for row in verdict.rows]
    table = verdict.text().splitlines()[-len(verdict.rows):]
    for row, line in zip(verdict.rows, table):
        sign, word = ROW_MARKS[row.status][0], row_word(row.status)
        assert line.startswith(f"  {sign}  ") and row.expected in line and row.found in line, line
        assert row.status == "same" or word in line
    for html in pages:
        assert re.findall(r'<tr class="(\w+)">', html) == statuses
        marks = re.findall(r"<td[^>]*>(✓ ok|✗ [^<]*)</td></tr>", html)
        assert [m.split(":")[0] for m in marks] == [("✓ " if s == "same" else "✗ ") + row_word(s) for s in statuses]


@pytest.mark.parametrize("name,question_id,code,passes,fragment", CORPUS, ids=[c[0] for c in CORPUS])
def test_the_corpus_gets_the_same_verdict_in_chinese(name, question_id, code, passes, fragment):
    """Same verdict, same mistake, same table; the words in Chinese."""
    from grader.i18n import use

    question = BY_ID[question_id]
    model = build(question, code)
    english = check_architecture(question, model)
    with use("zh_CN"):
        chinese = check_architecture(question, model)
        text = chinese.text()
    assert (chinese.passed, chinese.mistake, chinese.not_attempted) == (english.passed, english.mistake,
                                                                        english.not_attempted)
    assert [(r.status, r.expected, r.found) for r in chinese.rows] == [(r.status, r.expected, r.found) for r in english.rows]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.message), chinese.message
    assert text.startswith("正确" if passes else "不正确")
