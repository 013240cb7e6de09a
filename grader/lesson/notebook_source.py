"""The lesson's notebooks (wine, spotify), written as code: ``python -m grader build`` writes
``solutions/``. The cell conventions they follow are base/notebook_cells.py's."""
from __future__ import annotations

from ..base.i18n import t
from ..base.kinds import SEED, CodingQuestion, FreeResponse
from ..base.notebook_cells import DEMONSTRATION_TAG, code, install_cell, language_line, markdown, metadata, new_notebook
from ..base.notebook_cells import quiet_tf_line
from ..base.notebook_cells import write_solutions as write_releases
from .questions import ASSIGNMENTS, CONCRETE_DEMO, CONCRETE_PROTOCOL, SPOTIFY_Q1, SPOTIFY_Q2, SPOTIFY_Q3
from .questions import SPOTIFY_Q4, WINE_Q1, WINE_Q2


def coding_question(q: CodingQuestion) -> list:
    plot_title = t(f"plot.title.{q.id}")
    return [
        markdown(f"{q.id}_prompt", t(f"nb.{q.id}.instructions")),
        code(f"{q.id}_seed", f"keras.utils.set_random_seed({SEED})  # {t('nb.comment.seed')}"),
        code(f"{q.id}_model", q.solution, solution=True, locked=False),
        code(f"{q.id}_check",
             f"checks.{q.key}.check(model)\n# checks.{q.key}.hint()\n# checks.{q.key}.solution()"),
        code(f"{q.id}_architecture",
             f"from grader.autograde import assert_architecture\nassert_architecture('{q.id}', model)",
             grade=True, locked=True, points=q.points_architecture),
        markdown(f"{q.id}_train_intro", t("nb.train-intro")),
        code(f"{q.id}_train",
             q.protocol.compile_and_fit_source()
             + f"\n\nlearning_curves(history, '{plot_title}', question_id='{q.id}')\nplt.show()\n"
             + f"print(f\"{t('nb.min-val-loss')}: {{min(history.history['val_loss']):.4f}}\")\n"
             + f"checks.{q.key}.check_training(history)"),
        code(f"{q.id}_val_loss",
             "### BEGIN HIDDEN TESTS\nfrom grader.autograde import assert_val_loss\n"
             f"assert_val_loss('{q.id}', model, history)\n### END HIDDEN TESTS",
             grade=True, locked=True, points=q.points_val_loss),
    ]


def free_response(q: FreeResponse) -> list:
    import nbformat  # not at the top: kernels import this module (through the assignments)

    answer = nbformat.v4.new_markdown_cell(
        f"### BEGIN SOLUTION\n{q.model_answer}\n### END SOLUTION",
        metadata=metadata(f"{q.id}_answer", solution=True, grade=True, points=q.points),
    )
    answer.id = f"{q.id}-answer".replace("_", "-")
    return [markdown(f"{q.id}_prompt", f"**{q.key.upper()}.** {q.prompt}"), answer]


def wine_notebook():
    setup = language_line() + quiet_tf_line() + f"""
import keras
from keras import layers
import matplotlib.pyplot as plt

from grader import wine as checks
from grader.data import wine_splits
from grader.plots import learning_curves

# {t('nb.comment.wine-split')}
X_train, X_valid, y_train, y_valid = wine_splits()
print(f"{t('nb.print.wine')}")"""
    return new_notebook([
        markdown("wine_intro", t("nb.wine.intro")),
        install_cell("wine"),
        code("wine_setup", setup),
        *coding_question(WINE_Q1),
        *free_response(WINE_Q2),
    ])


def spotify_notebook():
    setup = language_line() + quiet_tf_line() + f"""
import keras
from keras import layers
import matplotlib.pyplot as plt

from grader import spotify as checks
from grader.data import concrete_splits, spotify_splits
from grader.plots import learning_curves

# {t('nb.comment.spotify-features')}
# {t('nb.comment.spotify-split')}
X_train, X_valid, y_train, y_valid = spotify_splits()
input_shape = [X_train.shape[1]]
print(f"{t('nb.print.spotify')}")"""
    demo = (
        f"keras.utils.set_random_seed({SEED})\n{CONCRETE_DEMO}\n"
        + CONCRETE_PROTOCOL.compile_and_fit_source()
        + f"\n\nlearning_curves(history, '{t('plot.title.concrete-demo')}')\nplt.show()\n"
        + f"print(f\"{t('nb.last-val-loss')}: {{history.history['val_loss'][-1]}}\")"
    )
    return new_notebook([
        markdown("spotify_intro", t("nb.spotify.intro")),
        install_cell("spotify"),
        code("spotify_setup", setup),
        *coding_question(SPOTIFY_Q1),
        *free_response(SPOTIFY_Q2),
        markdown("spotify_q3_intro", t("nb.spotify_q3.intro")),
        code("spotify_q3_data", f"""X_train, X_valid, y_train, y_valid = concrete_splits()
input_shape = [X_train.shape[1]]
print(f"{t('nb.print.concrete')}")"""),
        code("spotify_q3_demo", demo, tags=[DEMONSTRATION_TAG]),
        *coding_question(SPOTIFY_Q3),
        *free_response(SPOTIFY_Q4),
    ])


NOTEBOOK_BUILDERS = {"wine": wine_notebook, "spotify": spotify_notebook}


def write_solutions(root) -> list:
    """solutions/<release>/ for every language: one release per language, from one source."""
    return write_releases(root, ASSIGNMENTS, NOTEBOOK_BUILDERS)
