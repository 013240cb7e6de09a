"""The internals notebook, written as code: ``python -m grader build`` writes it, in both
languages, to solutions/dropout-batchnorm-internals{,-zh}/ and nbgrader makes the releases.
The same cell conventions as the lesson's (base/notebook_cells.py)."""
from __future__ import annotations

from ..base.i18n import t
from ..base.kinds import SEED
from ..base.notebook_cells import code, install_cell, language_line, markdown, new_notebook, quiet_tf_line
from ..base.notebook_cells import write_solutions as write_releases
from .questions import ASSIGNMENTS, NOTEBOOK, QUESTIONS, SWAP_IN, Question


def _question(q: Question) -> list:
    return [
        markdown(f"{q.id}_prompt", t(f"internals.nb.{q.key}")),
        code(f"{q.id}_answer", q.solution, solution=True, locked=False),
        code(f"{q.id}_check", f"checks.{q.key}.check({q.name})\n# checks.{q.key}.hint()\n# checks.{q.key}.solution()"),
        code(f"{q.id}_test", f"from grader.internals.autograde import assert_answer\nassert_answer({q.key!r}, {q.name})",
             grade=True, locked=True, points=q.points),
    ]


def _swap_in() -> list:
    """Q4: the concrete model with the student's layers, trained like spotify Q3."""
    q = SWAP_IN
    train = (q.protocol.compile_and_fit_source()
             + f"\n\nlearning_curves(history, '{t('plot.title.internals_q4')}', question_id='spotify_q3')\nplt.show()\n"
             + f"print(f\"{t('nb.min-val-loss')}: {{min(history.history['val_loss']):.4f}}\")\n"
             + "checks.q4.check_training(history, model)")
    return [
        markdown(f"{q.id}_prompt", t("internals.nb.q4")),
        code(f"{q.id}_data", "from grader.data import concrete_splits\n\n"
                             "X_train, X_valid, y_train, y_valid = concrete_splits()\ninput_shape = [X_train.shape[1]]"),
        code(f"{q.id}_seed", f"keras.utils.set_random_seed({SEED})  # {t('nb.comment.seed')}"),
        code(f"{q.id}_model", q.solution, solution=True, locked=False),
        code(f"{q.id}_check", "checks.q4.check(model)\n# checks.q4.hint()\n# checks.q4.solution()"),
        code(f"{q.id}_architecture", "from grader.internals.autograde import assert_swap_in_architecture\n"
                                     "assert_swap_in_architecture(model)",
             grade=True, locked=True, points=q.points_architecture),
        markdown(f"{q.id}_train_intro", t("nb.train-intro")),
        code(f"{q.id}_train", train),
        code(f"{q.id}_val_loss", "### BEGIN HIDDEN TESTS\nfrom grader.internals.autograde import assert_swap_in_val_loss\n"
                                 "assert_swap_in_val_loss(model, history)\n### END HIDDEN TESTS",
             grade=True, locked=True, points=q.points_val_loss),
    ]


def internals_notebook():
    setup = language_line() + quiet_tf_line() + """
import keras
from keras import layers, ops
import matplotlib.pyplot as plt

from grader.internals import notebook as checks
from grader.plots import learning_curves"""
    cells = [markdown(f"{NOTEBOOK}_intro", t("internals.nb.intro")), install_cell(NOTEBOOK),
             code(f"{NOTEBOOK}_setup", setup)]
    for question in QUESTIONS:
        cells.extend(_question(question))
    cells.extend(_swap_in())
    cells.append(markdown(f"{NOTEBOOK}_end", t("internals.nb.end")))
    return new_notebook(cells)


def write_solutions(root) -> list:
    return write_releases(root, ASSIGNMENTS, {NOTEBOOK: internals_notebook})
