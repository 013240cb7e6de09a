"""The instructor notebooks, written as code: ``python -m grader build`` writes ``solutions/``.

Every cell carries nbgrader metadata. The grade ids follow one convention that the grading
harness relies on: ``<question>_seed`` (locked), ``<question>_model`` (the answer),
``<question>_train`` (locked), ``<question>_answer`` (free response); test cells are the ones
nbgrader grades, and cells tagged ``demonstration`` teach but are skipped when grading.
"""
from __future__ import annotations

import nbformat

from .questions import ASSIGNMENT, SEED, SPOTIFY_Q1, SPOTIFY_Q3, WINE_Q1, CodingQuestion, FreeResponse
from .questions import CONCRETE_DEMO, CONCRETE_PROTOCOL, SPOTIFY_Q2, SPOTIFY_Q4, WINE_Q2

DEMONSTRATION_TAG = "demonstration"

QUIET_TF = (
    "from grader.quiet import import_tensorflow\n"
    "import_tensorflow()  # TensorFlow's start-up log would otherwise fill this cell's output\n"
)


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None, tags=None) -> dict:
    nbgrader = {
        "grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
        "solution": solution, "task": False,
    }
    if grade:
        nbgrader["points"] = points
    meta = {"nbgrader": nbgrader}
    if tags:
        meta["tags"] = list(tags)
    return meta


def markdown(grade_id: str, text: str, **kw):
    cell = nbformat.v4.new_markdown_cell(text, metadata=_meta(grade_id, locked=True, **kw))
    cell.id = grade_id.replace("_", "-")
    return cell


def code(grade_id: str, source: str, **kw):
    kw.setdefault("locked", not kw.get("solution"))
    cell = nbformat.v4.new_code_cell(source, metadata=_meta(grade_id, **kw))
    cell.id = grade_id.replace("_", "-")
    return cell


def coding_question(q: CodingQuestion, instructions: str, plot_title: str) -> list:
    return [
        markdown(f"{q.id}_prompt", instructions),
        code(f"{q.id}_seed", f"keras.utils.set_random_seed({SEED})  # every run starts from the same weights"),
        code(f"{q.id}_model", q.solution, solution=True, locked=False),
        code(f"{q.id}_check",
             f"checks.{q.key}.check(model)\n# checks.{q.key}.hint()\n# checks.{q.key}.solution()"),
        code(f"{q.id}_architecture",
             f"from grader.autograde import assert_architecture\nassert_architecture('{q.id}', model)",
             grade=True, locked=True, points=q.points_architecture),
        markdown(f"{q.id}_train_intro",
                 "Now train the model. The training settings are fixed so that everyone's run can be "
                 "compared with the reference; this takes about half a minute."),
        code(f"{q.id}_train",
             q.protocol.compile_and_fit_source()
             + f"\n\nlearning_curves(history, '{plot_title}', question_id='{q.id}')\nplt.show()\n"
             + "print(f\"Minimum validation loss: {min(history.history['val_loss']):.4f}\")\n"
             + f"checks.{q.key}.check_training(history)"),
        code(f"{q.id}_val_loss",
             "### BEGIN HIDDEN TESTS\nfrom grader.autograde import assert_val_loss\n"
             f"assert_val_loss('{q.id}', model, history)\n### END HIDDEN TESTS",
             grade=True, locked=True, points=q.points_val_loss),
    ]


def free_response(q: FreeResponse, model_answer: str) -> list:
    answer = nbformat.v4.new_markdown_cell(
        f"### BEGIN SOLUTION\n{model_answer}\n### END SOLUTION",
        metadata=_meta(f"{q.id}_answer", solution=True, grade=True, points=q.points),
    )
    answer.id = f"{q.id}-answer".replace("_", "-")
    return [markdown(f"{q.id}_prompt", f"**{q.key.upper()}.** {q.prompt}"), answer]


def _notebook(cells: list):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def wine_notebook():
    setup = QUIET_TF + """
import keras
from keras import layers
import matplotlib.pyplot as plt

from grader import wine as checks
from grader.data import wine_splits
from grader.plots import learning_curves

# 70% of the wines to train on, the other 30% to validate; the features are NOT standardized.
X_train, X_valid, y_train, y_valid = wine_splits()
print(f"{len(X_train)} training wines, {len(X_valid)} validation wines, {X_train.shape[1]} features")"""
    return _notebook([
        markdown("wine_intro", """# Dropout and Batch Normalization: red wine

In the lesson we increased the capacity of the red-wine model and added two special layers:
**dropout** to control overfitting and **batch normalization** to make optimization faster
and steadier. This time the data are **not standardized**, to show how batch normalization
copes with raw scales.

Run the cells from top to bottom. After your answer, `checks.q1.check(model)` tells you at once
whether the model is right; `checks.q1.hint()` and `checks.q1.solution()` help if you are stuck.
Check the whole notebook from a terminal with `pytest grader`."""),
        code("wine_setup", setup),
        *coding_question(WINE_Q1, """## Q1. Add dropout and batch normalization

The model below has three hidden `Dense(1024, activation='relu')` layers. After **each** of them,
add a `layers.Dropout(0.3)` layer and then a `layers.BatchNormalization()` layer, where the
`# YOUR CODE HERE` lines are. The output layer `Dense(1)` stays as it is.""",
                         "Red wine: dropout and batch normalization"),
        *free_response(WINE_Q2, (
            "Dropout randomly drops 30% of the units' outputs at each training step, so the network "
            "cannot rely on fragile combinations of weights: the validation loss stays close to the "
            "training loss instead of rising (less overfitting). Batch normalization rescales each "
            "batch's activations, so the network trains quickly and steadily even though the inputs "
            "were not standardized.")),
    ])


def spotify_notebook():
    setup = QUIET_TF + """
import keras
from keras import layers
import matplotlib.pyplot as plt

from grader import spotify as checks
from grader.data import concrete_splits, spotify_splits
from grader.plots import learning_curves

# 12 standardized audio features + the one-hot playlist genre; the target is popularity / 100.
# The split is by artist, so that no artist's songs are in both the training and validation set.
X_train, X_valid, y_train, y_valid = spotify_splits()
input_shape = [X_train.shape[1]]
print(f"{len(X_train)} training songs, {len(X_valid)} validation songs, input shape {input_shape}")"""
    demo = (
        f"keras.utils.set_random_seed({SEED})\n{CONCRETE_DEMO}\n"
        + CONCRETE_PROTOCOL.compile_and_fit_source()
        + "\n\nlearning_curves(history, 'Concrete without batch normalization (SGD)')\nplt.show()\n"
        + "print(f\"Last validation loss: {history.history['val_loss'][-1]}\")"
    )
    return _notebook([
        markdown("spotify_intro", """# Dropout and Batch Normalization: exercise

First you will add **dropout** to the Spotify popularity model to fight overfitting, then see
**batch normalization** rescue a model that plain SGD cannot train on the raw *Concrete* data.

Run the cells from top to bottom. After each answer, `checks.qN.check(model)` tells you at once
whether the model is right; `.hint()` and `.solution()` help if you are stuck. Check the whole
notebook from a terminal with `pytest grader`."""),
        code("spotify_setup", setup),
        *coding_question(SPOTIFY_Q1, """## Q1. Add dropout to the Spotify model

Add a `layers.Dropout(0.3)` layer after each of the two hidden `Dense` layers (after
`Dense(128)` and after `Dense(64)`), where the `# YOUR CODE HERE` lines are.""",
                         "Spotify popularity with dropout"),
        *free_response(SPOTIFY_Q2, (
            "Yes. Without dropout the validation loss reached its minimum early and then rose while "
            "the training loss kept falling. With dropout the two curves stay close and the "
            "validation loss keeps improving: the gap between the curves is smaller.")),
        markdown("spotify_q3_intro", """## Q3. Batch normalization on the Concrete data

Now a harder data set: the strength of concrete from its mixture, **without** standardizing the
features (their scales range from single digits to over a thousand). The cell below trains a
plain model with SGD. Watch what happens to the loss (it takes about half a minute)."""),
        code("spotify_q3_data", """X_train, X_valid, y_train, y_valid = concrete_splits()
input_shape = [X_train.shape[1]]
print(f"{len(X_train)} training mixes, {len(X_valid)} validation mixes, input shape {input_shape}")"""),
        code("spotify_q3_demo", demo, tags=[DEMONSTRATION_TAG]),
        *coding_question(SPOTIFY_Q3, """The loss blew up to NaN (or got stuck): with unstandardized inputs, SGD takes
steps that are far too large. Add a `layers.BatchNormalization()` layer **before each** of
the four `Dense` layers, where the `# YOUR CODE HERE` lines are. The first one then acts as an
adaptive standardizer of the raw inputs.""",
                         "Concrete with batch normalization (SGD)"),
        *free_response(SPOTIFY_Q4, (
            "Yes. Without batch normalization the loss became NaN: the raw inputs produce huge "
            "activations and SGD's steps explode. With a BatchNormalization layer before each Dense "
            "layer every layer sees inputs on a common scale, so SGD trains steadily to a val_loss of "
            "about 4.")),
    ])


NOTEBOOK_BUILDERS = {"wine": wine_notebook, "spotify": spotify_notebook}


def write_solutions(root) -> list:
    from pathlib import Path

    folder = Path(root) / "solutions" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in NOTEBOOK_BUILDERS.items():
        path = folder / f"{name}.ipynb"
        nbformat.write(builder(), path)
        written.append(path)
    return written
