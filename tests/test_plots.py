"""The learning-curve plots: the student's curves, the solution's band and the calibrated
comparison runs that the free-response questions ask about, all drawn from the reference file."""
import json
import math

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from grader.lesson.calibrate import REFERENCE_PATH  # noqa: E402
from grader.feedback.plots import learning_curves  # noqa: E402
from grader.base.kinds import SEED  # noqa: E402
from grader.judging.reference import comparison_label  # noqa: E402
from grader.lesson.questions import CODING  # noqa: E402

COMPARISONS = {q.id: q.comparisons for q in CODING if q.comparisons}


def _reference_run(question_id, variant):
    data = json.loads(REFERENCE_PATH.read_text())
    runs = next(v for v in data["variants"] if v["question"] == question_id and v["variant"] == variant)["runs"]
    return next(r for r in runs if r["seed"] == SEED)


@pytest.mark.parametrize("question_id", sorted(COMPARISONS))
def test_the_comparison_runs_are_drawn_and_labelled(question_id):
    student = _reference_run(question_id, "solution")
    fig, ax = plt.subplots()
    learning_curves({"loss": student["loss"], "val_loss": student["val_loss"]}, "t", question_id=question_id, ax=ax)
    _, labels = ax.get_legend_handles_labels()
    lines = {line.get_label(): line for line in ax.get_lines()}
    for variant in COMPARISONS[question_id]:
        label = comparison_label(question_id, variant)
        run = _reference_run(question_id, variant)
        drawn = next(name for name in labels if label in name)
        expected = [v if math.isfinite(v) else math.nan for v in run["val_loss"]]
        values = list(lines[drawn].get_ydata())
        assert len(values) == len(expected)
        assert all((math.isnan(a) and math.isnan(b)) or a == pytest.approx(b) for a, b in zip(values, expected))
        if all(math.isnan(v) for v in expected):  # a diverged run cannot be drawn: it is named and marked
            assert "diverged" in drawn and "epoch 1" in drawn
            assert any("diverged (NaN) at epoch 1" in text.get_text() for text in ax.texts)
    assert any(name.startswith("your val_loss") for name in labels)
    plt.close(fig)


def test_the_free_response_prompts_point_at_the_drawn_comparisons():
    from grader.lesson.questions import BY_ID

    assert "drawn dashed" in BY_ID["spotify_q2"].prompt
    assert "marked in your plot" in BY_ID["spotify_q4"].prompt
    assert "without dropout and without batch normalization" in BY_ID["wine_q2"].prompt


def test_without_the_reference_file_the_plot_still_draws_the_students_curves(monkeypatch):
    import grader.judging.reference as reference

    def missing():
        raise reference.ReferenceMissing("hidden")

    monkeypatch.setattr(reference, "load", lambda _q: missing())
    monkeypatch.setattr(reference, "band", lambda _q: missing())
    fig, ax = plt.subplots()
    learning_curves({"loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 1.5]}, "t", question_id="spotify_q1", ax=ax)
    assert [line.get_label() for line in ax.get_lines()] == ["your loss (training)", "your val_loss (validation)"]
    plt.close(fig)
