"""How the kit writes notebooks, the conventions every assignment's notebooks and the grading
harness share. Every cell carries nbgrader metadata and a grade id: ``<question>_seed``
(locked), ``<question>_model`` (the answer), ``<question>_train`` (locked), ``<question>_answer``
(free response); test cells are the ones nbgrader grades, and cells tagged ``demonstration``
teach but are skipped when grading. The notebook's language is in its metadata.
"""
from __future__ import annotations

from .i18n import UnknownLanguage, language, normalize, t, use

LANGUAGE_KEY = "dropout_kit"  # notebook metadata: {"language": "en" | "zh_CN"}

DEMONSTRATION_TAG = "demonstration"
# The released notebooks' first code cell: it installs the kit where it is missing (a hosted
# notebook) and does nothing where it is installed; grading, which runs where the kit is, skips it.
INSTALL_TAG = "install-kit"
NOT_GRADED_TAGS = (DEMONSTRATION_TAG, INSTALL_TAG)


def quiet_tf_line() -> str:
    return ("from grader.quiet import import_tensorflow\n"
            f"import_tensorflow()  # {t('nb.comment.quiet')}\n")


def install_cell(notebook: str):
    """The first code cell: pip installs the pinned release when the kit's distribution is absent.
    It cannot use the kit (it is what brings it), so its messages are written in at build time.
    pip's own configuration (PIP_FIND_LINKS, PIP_INDEX_URL, PIP_NO_INDEX…) applies as always."""
    from . import release

    names = {"requirement": "{KIT}", "source": "{RELEASE}"}  # messages as f-strings naming the cell's own
    installing, failed = (f"f{text!r}" for text in (t("nb.install.installing", **names), t("nb.install.failed", **names)))

    return code(f"{notebook}_install", f"""# {t('nb.install.comment', version=release.tag())}
import importlib, importlib.metadata, subprocess, sys

KIT, RELEASE = {release.requirement()!r}, {release.release_assets()!r}
try:
    importlib.metadata.version({release.DISTRIBUTION!r})
except importlib.metadata.PackageNotFoundError:
    print({installing}, flush=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", KIT, "--find-links", RELEASE],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        print((pip.stdout + pip.stderr)[-3000:], file=sys.stderr)
        raise SystemExit({failed})
    importlib.invalidate_caches()""", tags=[INSTALL_TAG])


def language_line() -> str:
    return f"from grader.i18n import set_language\nset_language({language()!r})  # {t('nb.comment.language')}\n"


def metadata(grade_id: str, *, solution=False, grade=False, locked=False, points=None, tags=None) -> dict:
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
    import nbformat  # here, not at the top: kernels import this module, and nbformat costs them seconds

    cell = nbformat.v4.new_markdown_cell(text, metadata=metadata(grade_id, locked=True, **kw))
    cell.id = grade_id.replace("_", "-")
    return cell


def code(grade_id: str, source: str, **kw):
    import nbformat

    kw.setdefault("locked", not kw.get("solution"))
    cell = nbformat.v4.new_code_cell(source, metadata=metadata(grade_id, **kw))
    cell.id = grade_id.replace("_", "-")
    return cell


def new_notebook(cells: list):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        LANGUAGE_KEY: {"language": language()},
    }
    return nb


def notebook_language(nb) -> str | None:
    """The language a notebook was released in (its metadata), if it says."""
    try:
        return normalize(nb.get("metadata", {}).get(LANGUAGE_KEY, {}).get("language"))
    except (AttributeError, UnknownLanguage):
        return None


def write_solutions(root, assignments: dict, builders: dict) -> list:
    """solutions/<assignment>/ for every language: one release per language, from one source.
    ``assignments``: language -> assignment name; ``builders``: notebook name -> builder."""
    from pathlib import Path

    import nbformat

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
