"""The under-the-hood checks on a corpus of implementations, right and wrong: every one gets the
right verdict and, when wrong, the classic mistake it makes, named."""
import keras
import pytest
from keras import ops

from grader.internals.checks import (GRADIENT_TOLERANCE, TOLERANCE, Z_ONE_IN_A_MILLION, check_batchnorm_layer,
                                     check_dropout_function, check_dropout_layer, largest_differences,
                                     zero_fraction_bound)
from internals_corpus import BATCHNORM, FUNCTIONS, LAYERS


def define(code: str, name: str):
    namespace = {"keras": keras, "ops": ops}
    exec(compile(code, f"<answer {name}>", "exec"), namespace)
    return namespace


@pytest.fixture(autouse=True)
def _sources(monkeypatch):
    """inspect.getsource needs a file: give it the corpus code through linecache."""
    import linecache

    def remember(code, name):
        linecache.cache[f"<answer {name}>"] = (len(code), None, code.splitlines(True), f"<answer {name}>")
    yield remember


def _verdict(kind, name, code, remember):
    remember(code, name)
    namespace = define(code, name)
    if kind == "function":
        return check_dropout_function(namespace["inverted_dropout"])
    if kind == "layer":
        return check_dropout_layer(namespace["MyDropout"])
    return check_batchnorm_layer(namespace["MyBatchNormalization"])


CASES = ([("function", *c) for c in FUNCTIONS] + [("layer", *c) for c in LAYERS] + [("batchnorm", *c) for c in BATCHNORM])


@pytest.mark.parametrize("kind,name,code,passes,mistake", CASES, ids=[c[1] for c in CASES])
def test_every_implementation_gets_its_verdict(kind, name, code, passes, mistake, _sources):
    verdict = _verdict(kind, name, code, _sources)
    assert verdict.passed is passes, verdict.text()
    assert verdict.mistake == mistake, verdict.text()


def test_the_corpus_is_large_and_has_right_answers_written_differently():
    assert len(CASES) >= 20
    assert sum(c[3] for c in CASES if c[0] == "batchnorm") >= 3 and sum(c[3] for c in CASES if c[0] == "function") >= 3


def test_the_binomial_bound_is_one_in_a_million():
    from math import erfc, sqrt

    assert erfc(Z_ONE_IN_A_MILLION / sqrt(2)) < 1e-6
    assert 0.006 < zero_fraction_bound() < 0.008  # 100 000 units at rate 0.3


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_messages_name_the_mistake_in_both_languages(lang, _sources):
    from grader.i18n import use

    name, code = "batchnorm epsilon outside the root", next(c[1] for c in BATCHNORM if c[0] == "batchnorm epsilon outside the root")
    with use(lang):
        verdict = _verdict("batchnorm", name, code, _sources)
    assert "epsilon" in verdict.message


def test_the_tolerances_separate_the_right_implementations_from_the_wrong_ones(_sources):
    """Measured again here: every right one at least 5x inside each tolerance; every wrong one
    that the values or gradients catch at least 10x outside."""
    for name, code, passes, mistake in BATCHNORM:
        if mistake in ("uses-keras-layer", "bn-gamma-beta-not-trainable", "bn-statistics-trainable"):
            continue  # caught before any number is compared
        values, gradients = largest_differences(define(code, name)["MyBatchNormalization"])
        if passes:
            assert values <= TOLERANCE / 5 and gradients <= GRADIENT_TOLERANCE / 5, (name, values, gradients)
        else:
            assert values >= 10 * TOLERANCE or gradients >= 10 * GRADIENT_TOLERANCE, (name, values, gradients)
