"""The calibration file: complete, consistent with the data, and it separates right from wrong."""
import pytest

from grader.base import data
from grader.judging.checks import check_val_loss
from grader.lesson.questions import BY_ID, CALIBRATION_VARIANTS, CODING
from grader.lesson.calibrate import REFERENCE_PATH
from grader.judging.reference import band, read


def runs(question_id, correct):
    return [(v["variant"], r) for v in read(REFERENCE_PATH)["variants"] if v["question"] == question_id and v["correct"] is correct
            for r in v["runs"]]


def test_reference_records_versions_machine_and_data():
    reference = read(REFERENCE_PATH)
    assert {"tensorflow", "keras", "cpu", "cpu_count", "intra_op_threads"} <= set(reference["machine"])
    assert reference["data_sha256"] == {name: e["sha256"] for name, e in data.manifest().items()}
    assert {v.question.id for v in CALIBRATION_VARIANTS} == {q.id for q in CODING}
    for question in CODING:
        assert len(runs(question.id, True)) >= 10


# Whether the solutions pass and the known mistakes are caught is tested on seeds the calibration
# never saw (tests/test_held_out_seeds.py): judging the calibrated seeds against thresholds made
# from them could not fail.

@pytest.mark.parametrize("variant", [v for v in CALIBRATION_VARIANTS if not v.correct], ids=lambda v: f"{v.question.id} {v.name}")
def test_a_mistake_the_val_loss_cannot_catch_is_documented_as_such(variant):
    """The reference's summary, the band and the variant's note agree on what only the
    architecture check catches (the note is what the README and the calibration report say)."""
    reference = band(variant.question.id)
    recorded = read(REFERENCE_PATH)["summary"][variant.question.id]["wrong_answers"][variant.name]
    assert recorded["caught_by_val_loss"] is (variant.name not in reference.misses)
    assert ("only the architecture check catches it" in variant.note) is (variant.name in reference.misses)


def test_the_concrete_model_without_batchnorm_is_told_why_it_diverged():
    for name, run in runs("spotify_q3", False):
        verdict = check_val_loss(BY_ID["spotify_q3"], run["evaluated_val_loss"], run)
        assert "diverged" in verdict.message and "BatchNormalization" in verdict.message


def test_an_edited_history_is_caught():
    _, run = runs("spotify_q1", True)[0]
    forged = dict(run, val_loss=[v * 0.5 for v in run["val_loss"]])
    verdict = check_val_loss(BY_ID["spotify_q1"], run["evaluated_val_loss"], forged)
    assert not verdict.passed and "changed after training" in verdict.message


def test_the_internals_reference_is_calibrated_on_this_data_and_inside_the_band():
    """grader/internals/reference.json (python -m grader calibrate --assignment internals): the swap-in model
    with the solution's own layers lands, every seed, under the thresholds of the Keras-layer
    model that judge it; the recorded bound and tolerances are the ones the checks use."""
    import json

    from grader.base.data import manifest
    from grader.internals import checks
    from grader.internals.calibrate import REFERENCE_PATH
    from grader.internals.questions import SWAP_IN

    recorded = json.loads(REFERENCE_PATH.read_text())
    assert recorded["data_sha256"] == {"concrete.csv": manifest()["concrete.csv"]["sha256"]}
    assert recorded["swap_in"]["judged_as"] == SWAP_IN.band_id == "spotify_q3"
    keras_band = band(SWAP_IN.band_id)
    runs = recorded["swap_in"]["runs"]
    assert len(runs) >= 5
    for run in runs:
        assert run["min_val_loss"] <= keras_band.threshold and run["evaluated_val_loss"] <= keras_band.final_threshold
    assert recorded["dropout"]["half_width"] == pytest.approx(checks.zero_fraction_bound())
    assert (recorded["batchnorm"]["tolerance"], recorded["batchnorm"]["gradient_tolerance"]) == (
        checks.TOLERANCE, checks.GRADIENT_TOLERANCE)


@pytest.mark.parametrize("key", ["lesson", "internals"])
def test_one_command_calibrates_each_assignment(key, capsys):
    """`python -m grader calibrate --assignment KEY` reaches that assignment's own calibration
    (shown by its --help, which runs nothing)."""
    from grader.commands.cli import main

    with pytest.raises(SystemExit) as done:
        main(["calibrate", "--assignment", key, "--help"])
    assert done.value.code == 0
    said = capsys.readouterr().out
    assert ("--seeds" in said) is (key == "internals")
    assert ("internals/reference.json" in said) is (key == "internals")


def _just_past_the_band(question_id):
    """A history whose lowest val_loss lies just above the threshold, its final one matching it."""
    limit = band(question_id).threshold
    curve = [limit * 1.5, limit * 1.02, limit * 1.01]
    return {"loss": [2.0, 1.0, 0.9], "val_loss": curve}, curve[-1]


@pytest.mark.parametrize("difference", ["", "a GPU"])
def test_the_notebooks_check_calls_a_figure_past_the_band_indicative_only_on_another_runtime(difference, monkeypatch,
                                                                                             capsys):
    """On the calibration's runtime the notebook says the val_loss failed; on a GPU (or another
    TensorFlow) it shows the figure against the band and says the grading machine decides. The
    grader's own verdict is the same either way."""
    from grader.judging import notebook_checks
    from grader.judging.notebook_checks import QuestionCheck

    question = BY_ID["spotify_q1"]
    history, final = _just_past_the_band(question.id)
    monkeypatch.setattr(notebook_checks, "runtime_difference", lambda machine: difference)
    QuestionCheck(question).check_training(history)
    shown = capsys.readouterr().out
    assert check_val_loss(question, final, history).mistake == "val-loss-above-threshold"  # the grader's, unchanged
    if difference:
        assert shown.startswith("ⓘ On this runtime (a GPU) the val_loss check is only indicative")
        assert f"{min(history['val_loss']):.4f}" in shown and "The grading machine retrains" in shown
        assert "Incorrect" not in shown
    else:
        assert shown.startswith("Incorrect: The lowest val_loss was")


def test_the_calibration_records_the_device_and_this_runtime_is_the_calibrations():
    """`python -m grader calibrate` records the device; here (a CPU, the reference's TensorFlow
    release) the notebook's check finds no difference, so it still says "failed" where it should."""
    from grader.judging.notebook_checks import runtime_difference
    from grader.judging.reference import machine

    recorded = machine()
    assert recorded["device"] == "CPU" or recorded["device"].startswith("GPU: ")
    assert runtime_difference(recorded) == ""
    assert "measured with TensorFlow 1.15.0" in runtime_difference(dict(recorded, tensorflow="1.15.0"))
