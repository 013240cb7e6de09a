"""Every message of the corpora, as the grader reports it, in both languages: no Python exception
names in their 'ValueError: ...' form, no colour codes, no Keras call dump (tests/readable.py)."""
import json

import pytest

from answer_corpus import CORPUS
from internals_corpus import BATCHNORM, FUNCTIONS, LAYERS
from readable import messages_of, problems_in
from test_architecture import build
from test_internals_checks import _verdict_as_graded

INTERNALS = ([("function", *c) for c in FUNCTIONS] + [("layer", *c) for c in LAYERS]
             + [("batchnorm", *c) for c in BATCHNORM])
# code that raises in the check: Keras' own error inside the layer (colour codes, call dump)
RAISING = [("batchnorm", "batchnorm calls a missing method", '''
class MyBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)

    def call(self, inputs, training=False):
        return ops.reshape(inputs, (-1, 7))
''', False, "raised"), ("function", "dropout divides strings", '''
def inverted_dropout(x, rate, training, seed_generator):
    raise ValueError("\\x1b[1mbad\\x1b[0m value\\nsecond line")
''', False, "raised")]


def test_the_scan_finds_what_it_looks_for():
    assert problems_in("Your code raised ValueError: bad") and problems_in("x \x1b[1mbold\x1b[0m")
    assert problems_in("TypeError：中文冒号") and problems_in("Arguments received by Dense.call():")
    assert not problems_in("Your code raised ValueError with the message “bad”.")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_architecture_message_reads_as_feedback(lang):
    from grader.i18n import use
    from grader.judging.checks import check_architecture
    from grader.lesson.questions import BY_ID

    with use(lang):
        for name, question_id, code, passes, fragment in CORPUS:
            question = BY_ID[question_id]
            verdict = check_architecture(question, build(question, code))
            for text in (verdict.text(), verdict._repr_html_(), *messages_of(verdict.to_dict())):
                assert not problems_in(text), (name, problems_in(text), text)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_internals_message_reads_as_feedback(lang, answer_sources, tmp_path):
    from grader.i18n import use

    with use(lang):
        for kind, name, code, passes, mistake in INTERNALS + RAISING:
            answer_sources(code, name)
            verdict = _verdict_as_graded(kind, name, code, tmp_path)
            assert verdict.mistake == mistake, verdict.text()
            assert not problems_in(verdict.text()), (name, problems_in(verdict.text()), verdict.text())
            if mistake == "raised":  # the instructor keeps the whole traceback, without colour codes
                record = verdict.to_dict()
                assert "Traceback" in record["traceback"] and "\x1b" not in record["traceback"]
                assert "\x1b" not in json.dumps(record)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_cell_that_raised_and_the_training_notes_read_as_feedback(lang, tmp_path):
    """What the harness reports for a cell that raised (Keras' coloured error included) and the
    training notes the training cache gives before it reads the data."""
    from grader.i18n import use
    from grader.lesson.questions import BY_ID
    from grader.running.harness import CellProblem
    from grader.running.training_cache import key_for

    keras_error = ("Exception encountered when calling Dense.call().\n\n\x1b[1mInvalid dtype: str\x1b[0m\n\n"
                   "Arguments received by Dense.call():\n  • inputs='x'")
    protocol = BY_ID["spotify_q1"].protocol
    with use(lang):
        for ename, evalue in (("NameError", "name 'laye' is not defined"), ("ValueError", keras_error),
                              ("KeyError", "'gamma'"), ("ValueError", "")):
            text = CellProblem("spotify_q1_model", 5, "error", ename, evalue).describe()
            assert not problems_in(text) and ename in text, text
        for state in ({"ok": False, "reason": "no-model"}, {"ok": False, "reason": "data-not-arrays"},
                      {"ok": False, "reason": "not-captured", "why": "TypeError: boom"},
                      {"ok": False, "reason": "notebook-layers", "notebook_layers": "MyBatchNormalization"}):
            (tmp_path / "state.json").write_text(json.dumps(state))
            key, note = key_for(tmp_path, protocol, {})
            assert key is None and note and not problems_in(note), note


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_model_that_could_not_be_saved_reads_as_feedback(lang, tmp_path):
    """The kernel records the exception of model.save() as [type, message]; the grader tells it in
    words, whatever the record holds (it is written where the student's code runs)."""
    from grader.grading.results import grade_coding
    from grader.i18n import use
    from grader.lesson.questions import BY_ID
    from grader.running.harness import NotebookRun

    keras_error = "Exception encountered when calling X.call().\n\n\x1b[1mcannot pickle 'generator'\x1b[0m"
    for error in (["TypeError", keras_error], "TypeError: not a list", None):
        (tmp_path / "status.json").write_text(json.dumps({"model": "unsavable", "model_error": error}))
        with use(lang):
            result = grade_coding(BY_ID["spotify_q1"], NotebookRun("spotify", exports={"spotify_q1": tmp_path}))
        message = result.parts["architecture"][0].message
        assert not problems_in(message), message
        assert ("cannot pickle 'generator'" in message) is isinstance(error, list), message
