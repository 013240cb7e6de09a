"""The training cache: its store (checksums, torn and damaged entries, eviction), and the
soundness corpus: answers that must either miss or give results identical to a fresh training in
the notebook, bit for bit, graded with no cache, with a cold cache and with a warm one."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.running import sandbox
from grader.running.training_cache import ENTRY_FILES, TrainingCache, _without_names



def result_folder(tmp_path: Path, content: str) -> Path:
    folder = tmp_path / f"result-{content}"
    folder.mkdir()
    for name in ENTRY_FILES:
        (folder / name).write_text(f"{name}:{content}")
    return folder


def test_an_entry_is_stored_verified_and_found(tmp_path):
    cache = TrainingCache(tmp_path / "cache")
    key = "ab" * 32
    assert cache.get(key).folder is None
    entry = cache.put(key, result_folder(tmp_path, "one"))
    found = cache.get(key)
    assert found.folder == entry and not found.damaged
    assert (entry / "history.json").read_text() == "history.json:one"


def test_a_damaged_or_partial_entry_is_discarded_and_reported(tmp_path):
    cache = TrainingCache(tmp_path / "cache")
    damaged, partial = "cd" * 32, "ef" * 32
    cache.put(damaged, result_folder(tmp_path, "two"))
    (cache.get(damaged).folder / "variables.npz").write_text("flipped bits")
    lookup = cache.get(damaged)
    assert lookup.folder is None and "did not match its checksum" in lookup.damaged
    assert not (tmp_path / "cache" / damaged[:2] / damaged).exists()
    cache.put(partial, result_folder(tmp_path, "three"))
    (cache.get(partial).folder / "entry.json").unlink()  # a writer that died half-way (not possible with rename)
    assert "incomplete" in cache.get(partial).damaged


def test_a_second_writer_of_the_same_key_keeps_the_first_entry(tmp_path):
    cache = TrainingCache(tmp_path / "cache")
    key = "12" * 32
    cache.put(key, result_folder(tmp_path, "first"))
    cache.put(key, result_folder(tmp_path, "second"))
    assert (cache.get(key).folder / "rng.json").read_text() == "rng.json:first"
    assert [p.name for p in (tmp_path / "cache" / key[:2]).iterdir()] == [key]  # no staging folder left


def test_a_full_disk_stores_nothing_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    """The second file cannot be written (no space left): put says so (None), no staging folder
    stays, and what was stored before is still found."""
    import errno
    import shutil

    cache = TrainingCache(tmp_path / "cache")
    kept = "34" * 32
    cache.put(kept, result_folder(tmp_path, "kept"))
    copies = []

    def copy_until_full(source, target):
        copies.append(target)
        if len(copies) > 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_copy(source, target)

    real_copy = shutil.copyfile
    monkeypatch.setattr(shutil, "copyfile", copy_until_full)
    key = "56" * 32
    assert cache.put(key, result_folder(tmp_path, "full")) is None
    assert len(copies) == 2
    assert [p.name for p in (tmp_path / "cache" / key[:2]).iterdir()] == []
    monkeypatch.undo()
    assert cache.get(key).folder is None and cache.get(kept).folder is not None


def test_a_second_grader_of_the_same_training_waits_and_reads_the_first_ones_entry(tmp_path):
    """Two graders on one machine (the suite's two workers, two terminals) that need the same
    training: the second waits for the first's entry instead of training it again."""
    import threading
    import time

    cache = TrainingCache(tmp_path / "cache")
    key, seen = "78" * 32, []

    def second():
        with cache.training(key):
            seen.append(cache.get(key).folder)

    with cache.training(key):
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.5)
        assert seen == []  # still waiting while the first trains
        cache.put(key, result_folder(tmp_path, "first"))
    waiting.join(timeout=10)
    assert seen and (seen[0] / "rng.json").read_text() == "rng.json:first"
    (tmp_path / "blocked").write_text("a file where the cache's folder should be")
    with TrainingCache(tmp_path / "blocked" / "cache").training(key):  # no lock file can be made: no lock
        pass


def test_least_recently_used_entries_are_evicted_beyond_the_bound(tmp_path):
    unbounded = TrainingCache(tmp_path / "cache")
    keys = [f"{i:02d}" * 32 for i in range(3)]
    for age, key in enumerate(keys):
        entry = unbounded.put(key, result_folder(tmp_path, str(age)))
        os.utime(entry / "entry.json", (1000 + age, 1000 + age))
    size = sum(f.stat().st_size for f in entry.iterdir())
    bounded = TrainingCache(tmp_path / "cache", max_bytes=int(2.5 * size))  # room for two entries
    bounded.get(keys[0])  # used now: the most recent of the three
    bounded.put("99" * 32, result_folder(tmp_path, "9"))
    kept = {p.name for p in (tmp_path / "cache").glob("??/*")}
    assert kept == {keys[0], "99" * 32}


def test_the_key_ignores_names_and_object_ids_only():
    config = {"name": "sequential_7", "layers": [{"class_name": "Dense", "config": {
        "name": "dense_3", "units": 64, "dtype": {"config": {"name": "float32"}, "shared_object_id": 1407}}}]}
    other = json.loads(json.dumps(config).replace("dense_3", "hidden").replace("1407", "9"))
    assert _without_names(config) == _without_names(other)
    wider = json.loads(json.dumps(config).replace("64", "65"))
    assert _without_names(config) != _without_names(wider)


# ---------------------------------------------------------------------------------------------
# The soundness corpus (real kernels, real training)
# ---------------------------------------------------------------------------------------------

Q1_ADD = """model = keras.Sequential(name='my_model')
model.add(keras.Input(shape=input_shape))
model.add(layers.Dense(128, activation='relu', name='hidden_1'))
model.add(layers.Dropout(0.3, name='drop_1'))
model.add(layers.Dense(64, activation='relu', name='hidden_2'))
model.add(layers.Dropout(0.3, name='drop_2'))
model.add(layers.Dense(1, name='out'))"""
Q3_FUNCTIONAL = """inputs = keras.Input(shape=input_shape)
x = layers.BatchNormalization()(inputs)
x = layers.Dense(512, activation='relu')(x)
x = layers.BatchNormalization()(x)
x = layers.Dense(512, activation='relu')(x)
x = layers.BatchNormalization()(x)
x = layers.Dense(512, activation='relu')(x)
x = layers.BatchNormalization()(x)
model = keras.Model(inputs, layers.Dense(1)(x))"""


def solution(question_id: str) -> str:
    from grader.lesson.questions import BY_ID

    return "\n".join(line for line in BY_ID[question_id].solution.splitlines() if "SOLUTION" not in line)


def corpus() -> dict:
    """name -> (Q1 answer, Q3 answer, extra cell after Q3's answer or None)."""
    q1, q3 = solution("spotify_q1"), solution("spotify_q3")
    return {
        "solutions": (q1, q3, None),
        "other forms and names": (Q1_ADD, Q3_FUNCTIONAL, None),
        "random draws; trained before the training cell": (
            q1 + "\nimport random\nimport numpy as np\nimport tensorflow as tf\n"
                 "random.random(); np.random.rand(3); tf.random.uniform((2,))",
            q3 + "\nmodel.compile(optimizer='sgd', loss='mae')\n"
                 "model.fit(X_train, y_train, batch_size=64, epochs=1, verbose=0)", None),
        "another seed, built twice; other training data": (
            "keras.utils.set_random_seed(1)\n" + q1 + "\n" + q1, q3,
            "X_train, y_train = X_train[:-7], y_train[:-7]"),
    }


def graded_questions(report) -> dict:
    return {r.question.id: r for r in report.results if not r.manual}


@pytest.mark.slow
@pytest.mark.skipif(not sandbox.available(), reason="without a sandbox the kit does not use the training cache")
@pytest.mark.parametrize("variant", list(corpus()), ids=list(corpus()))
def test_cached_grading_equals_fresh_training(variant, tmp_path, tmp_path_factory):
    from grader.grading.submission import grade
    from submissions import add_cell_after, set_answer, solution_notebook, write

    q1, q3, extra = corpus()[variant]
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", q1)
    set_answer(nb, "spotify_q3_model", q3)
    if extra:
        add_cell_after(nb, "spotify_q3_model", extra)
    path = write(nb, tmp_path, "spotify")
    cache = TrainingCache(tmp_path_factory.getbasetemp() / "corpus-cache")  # shared by the variants, in order
    fresh = graded_questions(grade(path, expect_all=False, cache=None))
    cold = graded_questions(grade(path, expect_all=False, cache=cache))
    warm = graded_questions(grade(path, expect_all=False, cache=cache))
    for qid, reference in fresh.items():
        assert reference.history and reference.parts["val_loss"][0].val_loss is not None, (qid, reference.message)
        for other in (cold[qid], warm[qid]):
            assert other.history == reference.history, (variant, qid)  # bit for bit, every epoch
            assert other.points == reference.points and other.message == reference.message
            assert other.parts["val_loss"][0].val_loss == reference.parts["val_loss"][0].val_loss
        assert reference.training is None
    if extra:  # other data: never reused, trained in the notebook every time
        assert "not reusable: the training data are not the notebook's own" in warm["spotify_q3"].training
        assert warm["spotify_q1"].training.startswith("reused")
    else:
        assert all(r.training.startswith("reused") for r in warm.values()), {q: r.training for q, r in warm.items()}
    if variant == "solutions":  # a damaged entry: discarded, retrained, reported, same grades
        for entry in cache.folder.glob("??/*"):
            (entry / "history.json").write_text('{"loss": [0.0], "val_loss": [0.0]}')
        repaired = graded_questions(grade(path, expect_all=False, cache=cache))
        for qid, reference in fresh.items():
            assert "damaged cache entry was discarded" in repaired[qid].training
            assert repaired[qid].history == reference.history and repaired[qid].points == reference.points
