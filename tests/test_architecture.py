"""The matcher on a corpus of real student answers: verdict and message for each."""
import keras
import pytest
from keras import layers

from answer_corpus import CORPUS
from grader.checks import check_architecture
from grader.questions import BY_ID, CODING


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
    from grader.training import build as build_answer

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
    assert "Dropout(rate=0.3)" in text and "x  2" in text  # the wrong row is marked
    html = check_architecture(question, model)._repr_html_()
    assert "<table" in html and "Incorrect" in html


def test_undefined_model_is_reported_as_not_attempted():
    verdict = check_architecture(BY_ID["wine_q1"], None)
    assert not verdict.passed and verdict.not_attempted and "`model` is None" in verdict.message
