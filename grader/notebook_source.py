"""The instructor notebooks, written as code: ``python -m grader build`` writes ``solutions/``.

Every cell carries nbgrader metadata. The grade ids follow one convention that the grading
harness relies on: ``<question>_seed`` (locked), ``<question>_model`` (the answer),
``<question>_train`` (locked), ``<question>_answer`` (free response); test cells are the ones
nbgrader grades, and cells tagged ``demonstration`` teach but are skipped when grading.
"""
from __future__ import annotations

import nbformat

from .i18n import UnknownLanguage, language, normalize, t, use
from .questions import ASSIGNMENTS, SEED, SPOTIFY_Q1, SPOTIFY_Q3, WINE_Q1, CodingQuestion, FreeResponse
from .questions import CONCRETE_DEMO, CONCRETE_PROTOCOL, SPOTIFY_Q2, SPOTIFY_Q4, WINE_Q2

LANGUAGE_KEY = "dropout_kit"  # notebook metadata: {"language": "en" | "zh_CN"}

DEMONSTRATION_TAG = "demonstration"

def _quiet_tf() -> str:
    return ("from grader.quiet import import_tensorflow\n"
            f"import_tensorflow()  # {t('nb.comment.quiet')}\n")


def _language_line() -> str:
    return f"from grader.i18n import set_language\nset_language({language()!r})  # {t('nb.comment.language')}\n"


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
    answer = nbformat.v4.new_markdown_cell(
        f"### BEGIN SOLUTION\n{q.model_answer}\n### END SOLUTION",
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
        LANGUAGE_KEY: {"language": language()},
    }
    return nb


def wine_notebook():
    setup = _language_line() + _quiet_tf() + f"""
import keras
from keras import layers
import matplotlib.pyplot as plt

from grader import wine as checks
from grader.data import wine_splits
from grader.plots import learning_curves

# {t('nb.comment.wine-split')}
X_train, X_valid, y_train, y_valid = wine_splits()
print(f"{t('nb.print.wine')}")"""
    return _notebook([
        markdown("wine_intro", t("nb.wine.intro")),
        code("wine_setup", setup),
        *coding_question(WINE_Q1),
        *free_response(WINE_Q2),
    ])


def spotify_notebook():
    setup = _language_line() + _quiet_tf() + f"""
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
    return _notebook([
        markdown("spotify_intro", t("nb.spotify.intro")),
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


def notebook_language(nb) -> str | None:
    """The language a notebook was released in (its metadata), if it says."""
    try:
        return normalize(nb.get("metadata", {}).get(LANGUAGE_KEY, {}).get("language"))
    except (AttributeError, UnknownLanguage):
        return None


def write_solutions(root, assignments: dict = ASSIGNMENTS, builders: dict = NOTEBOOK_BUILDERS) -> list:
    """solutions/<assignment>/ for every language: one release per language, from one source.
    ``assignments``: language -> assignment name; ``builders``: notebook name -> builder."""
    from pathlib import Path

    written = []
    for lang, assignment in assignments.items():
        folder = Path(root) / "solutions" / assignment
        folder.mkdir(parents=True, exist_ok=True)
        with use(lang):
            for name, builder in builders.items():
                path = folder / f"{name}.ipynb"
                nbformat.write(builder(), path)
                written.append(path)
    return written
