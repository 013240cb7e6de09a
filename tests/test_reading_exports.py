"""The grader reads an exported model once per content: the same answer handed in again (saved
at another moment) is the same model, another answer never is, and an export too large to hold
is read where it is and never kept. Small real Keras models; no kernel."""
from __future__ import annotations

import json
import time

import pytest

from grader.assignments import question
from grader.grading import results

QID = "spotify_q1"


def export(folder, units: int = 8, seed: int = 0, name: str | None = None):
    """An export as the harness leaves it: model.keras (+ the status the grader reads)."""
    from grader.base.quiet import import_tensorflow

    keras = import_tensorflow()
    keras.backend.clear_session()  # layer names as in a fresh kernel (each submission has its own)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((18,)), keras.layers.Dense(units, activation="relu", name=name),
                              keras.layers.Dense(1)])
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    (folder / "status.json").write_text(json.dumps({"model": "saved"}))
    return folder


@pytest.fixture(autouse=True)
def _forget():
    results._READ.__dict__.clear()
    yield
    results._READ.__dict__.clear()


def test_the_same_answer_saved_again_is_read_once(tmp_path):
    first = results._load_model(export(tmp_path / "a"), question(QID))
    time.sleep(1.1)  # keras writes the date into the archive: the files differ, the model does not
    again = results._load_model(export(tmp_path / "b"), question(QID))
    assert (tmp_path / "a" / "model.keras").read_bytes() != (tmp_path / "b" / "model.keras").read_bytes()
    assert again is first


def test_other_weights_or_another_question_are_other_models(tmp_path):
    base = results._load_model(export(tmp_path / "a"), question(QID))
    other_weights = results._load_model(export(tmp_path / "b", seed=1), question(QID))
    other_layers = results._load_model(export(tmp_path / "c", units=16), question(QID))
    other_question = results._load_model(tmp_path / "a", question("spotify_q3"))
    # a name is part of the answer (feedback may quote it): another student's never comes back
    named = results._load_model(export(tmp_path / "d", name="alices_layer"), question(QID))
    assert len({id(base), id(other_weights), id(other_layers), id(other_question), id(named)}) == 5
    assert named.layers[0].name == "alices_layer" and base.layers[0].name != "alices_layer"
    assert [w.shape for w in other_layers.weights] != [w.shape for w in base.weights]


def test_the_loss_of_a_model_read_again_is_the_loss_of_its_weights(tmp_path):
    protocol = question(QID).protocol
    a = results._load_model(export(tmp_path / "a"), question(QID))
    b = results._load_model(export(tmp_path / "b", seed=1), question(QID))
    loss_a, loss_b = results._evaluate_read(a, protocol), results._evaluate_read(b, protocol)
    assert loss_a != loss_b
    assert results._evaluate_read(results._load_model(export(tmp_path / "c"), question(QID)), protocol) == loss_a


def test_an_export_too_large_to_hold_is_read_but_never_kept(tmp_path, monkeypatch):
    folder = export(tmp_path / "a")
    monkeypatch.setattr(results, "READ_MAX_BYTES", (folder / "model.keras").stat().st_size - 1)
    first = results._load_model(folder, question(QID))
    assert first is not results._load_model(folder, question(QID))
    assert len(first.layers) == 2
