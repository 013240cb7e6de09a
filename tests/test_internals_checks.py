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
def test_every_implementation_gets_its_verdict(kind, name, code, passes, mistake, answer_sources):
    verdict = _verdict(kind, name, code, answer_sources)
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
def test_messages_name_the_mistake_in_both_languages(lang, answer_sources):
    from grader.i18n import use

    name, code = "batchnorm epsilon outside the root", next(c[1] for c in BATCHNORM if c[0] == "batchnorm epsilon outside the root")
    with use(lang):
        verdict = _verdict("batchnorm", name, code, answer_sources)
    assert "epsilon" in verdict.message


def test_the_tolerances_separate_the_right_implementations_from_the_wrong_ones(answer_sources):
    """Measured again here: every right one at least 5x inside each tolerance; every wrong one
    that the values or gradients catch at least 10x outside."""
    for name, code, passes, mistake in BATCHNORM:
        if mistake in ("uses-keras-layer", "bn-gamma-beta-not-trainable", "bn-statistics-trainable"):
            continue  # caught before any number is compared
        if mistake in ("bn-fails-on-3d", "bn-features-axis"):
            continue  # raises on some batches (the statistics have another shape): named, not measured
        values, gradients = largest_differences(define(code, name)["MyBatchNormalization"])
        if passes:
            assert values <= TOLERANCE / 5 and gradients <= GRADIENT_TOLERANCE / 5, (name, values, gradients)
        else:
            assert values >= 10 * TOLERANCE or gradients >= 10 * GRADIENT_TOLERANCE, (name, values, gradients)


# ----------------------------------------------------------------------------- the grader's path

def _verdict_as_graded(kind, name, code, tmp_path):
    """What ``python -m grader`` does, minus the kernel: the probe's half records the outputs,
    the record crosses through files (exchange.py), the grader's half judges the numbers and reads
    the answer cell's text (not the objects) for Keras layers."""
    from grader.base import exchange
    from grader.internals import checks

    namespace = define(code, name)
    subject = {"function": "dropout_function", "layer": "dropout_layer", "batchnorm": "batchnorm_layer"}[kind]
    answer = namespace[{"function": "inverted_dropout", "layer": "MyDropout", "batchnorm": "MyBatchNormalization"}[kind]]
    exchange.save(tmp_path / name, getattr(checks, f"observe_{subject}")(answer))
    record = exchange.load(tmp_path / name)
    used = checks.forbidden_in_source(code, checks.FORBIDDEN["batchnorm" if kind == "batchnorm" else "dropout"])
    if used:
        return checks._fail("internals.forbidden", "uses-keras-layer", name=used)
    return getattr(checks, f"judge_{subject}")(record)


@pytest.mark.parametrize("kind,name,code,passes,mistake", CASES, ids=[c[1] for c in CASES])
def test_the_graders_path_gives_every_implementation_the_same_verdict(kind, name, code, passes, mistake, answer_sources,
                                                                       tmp_path):
    in_notebook = _verdict(kind, name, code, answer_sources)
    graded = _verdict_as_graded(kind, name, code, tmp_path)
    assert (graded.passed, graded.mistake) == (passes, mistake), graded.text()
    assert graded.message == in_notebook.message


WRONG = [c for c in CASES if not c[3]]


@pytest.mark.parametrize("kind,name,code,passes,mistake", WRONG, ids=[c[1] for c in WRONG])
def test_the_graders_path_names_every_mistake_in_chinese(kind, name, code, passes, mistake, answer_sources, tmp_path):
    """The same mistake as in English, told in Chinese, every placeholder filled."""
    from grader.i18n import use

    with use("zh_CN"):
        graded = _verdict_as_graded(kind, name, code, tmp_path)
    assert (graded.passed, graded.mistake) == (False, mistake), graded.text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in graded.message) and "{" not in graded.message, graded.message


def test_a_record_from_the_kernel_is_data_never_code(tmp_path):
    """The record is written where student code runs: object arrays (pickles), a missing or
    non-numeric array, a record that is not a dict and an oversized one are all refused."""
    import json

    import numpy as np

    from grader.base import exchange

    exchange.save(tmp_path / "ok", {"a": np.arange(3.0), "b": [None, "x", {"c": np.ones((2, 2), "float32")}]})
    back = exchange.load(tmp_path / "ok")
    assert back["a"].tolist() == [0.0, 1.0, 2.0] and back["b"][2]["c"].shape == (2, 2)

    np.savez(tmp_path / "ok" / exchange.ARRAYS, a0=np.array([object()], dtype=object))
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "ok")
    np.savez(tmp_path / "ok" / exchange.ARRAYS, a0=np.array(["text"]))
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "ok")
    np.savez(tmp_path / "ok" / exchange.ARRAYS)
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "ok")
    (tmp_path / "ok" / exchange.RECORD).write_text(json.dumps([1, 2]))
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "ok")
    (tmp_path / "ok" / exchange.RECORD).write_text("{not json")
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "ok")
    with open(tmp_path / "ok" / exchange.ARRAYS, "wb") as handle:
        handle.truncate(exchange.MAX_BYTES + 1)
    with pytest.raises(exchange.DamagedRecord, match="larger"):
        exchange.load(tmp_path / "ok")
    with pytest.raises(exchange.DamagedRecord):
        exchange.load(tmp_path / "nothing-there")
