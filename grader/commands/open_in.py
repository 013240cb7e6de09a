"""The open-in-Colab and open-in-Kaggle links of every released notebook, in both languages.

``python -m grader build`` writes them into each exercise folder's README.md and into the
block of the kit's README.md between the two ``open-in`` markers (and the install command between
the ``install`` markers), from the release named in base/release.py and pyproject.toml, so that a
new release or a course's own repository moves every link at once.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..assignments import all_assignments
from ..base import release
from ..base.i18n import t, use

BEGIN = "<!-- open-in: written by python -m grader build -->"
END = "<!-- /open-in -->"
INSTALL_BEGIN = "<!-- install: written by python -m grader build -->"
INSTALL_END = "<!-- /install -->"


def released_notebooks() -> list:
    """(language, release folder, notebook) for every student notebook the kit releases."""
    return [(lang, folder, notebook) for unit in all_assignments()
            for lang, folder in unit.releases.items() for notebook in unit.notebooks]


def _row(folder: str, notebook: str, path_prefix: str = "") -> str:
    path = f"exercises/{folder}/{notebook}.ipynb"
    return (f"| [`{path_prefix}{notebook}.ipynb`]({release.source_url(path)}) "
            f"| [{t('open-in.colab')}]({release.colab_url(path)}) | [{t('open-in.kaggle')}]({release.kaggle_url(path)}) |")


def _header() -> list:
    return [f"| {t('open-in.notebook')} | Colab | Kaggle |", "|---|---|---|"]


def readme_block() -> str:
    """The kit README's table: every notebook of every release, both languages."""
    rows = [_row(folder, notebook, f"{folder}/") for _lang, folder, notebook in released_notebooks()]
    with use("en"):
        return "\n".join([BEGIN, *_header(), *rows, END])


def install_block() -> str:
    """The kit README's install-without-a-clone commands: this release, from its repository."""
    return "\n".join([
        INSTALL_BEGIN, "```bash", f"pip install {release.requirement()} --find-links {release.release_assets()}",
        "# or, in a clone: pip install .",
        "python -m grader exercises my-notebooks      # copies wine.ipynb and spotify.ipynb there",
        "cd my-notebooks && pytest --pyargs grader     # the self-check, from the folder with the notebooks",
        "python -m grader my-notebooks                 # or the grading command, from any folder",
        "```", INSTALL_END])


def folder_readme(lang: str, folder: str) -> str:
    """exercises/<release>/README.md, in the release's language."""
    notebooks = [notebook for lang_, folder_, notebook in released_notebooks() if folder_ == folder]
    with use(lang):
        return "\n".join([
            f"# {folder}", "", t("open-in.intro", version=release.tag(), requirement=release.requirement()), "",
            *_header(), *(_row(folder, notebook) for notebook in notebooks), "", t("open-in.data"), ""])


def write(root: Path) -> list:
    """The exercise folders' READMEs and the block in README.md; the paths it wrote."""
    written = []
    for lang, folder in dict.fromkeys((lang, folder) for lang, folder, _notebook in released_notebooks()):
        path = root / "exercises" / folder / "README.md"
        path.write_text(folder_readme(lang, folder), encoding="utf-8")
        written.append(path)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    for begin, end, content in ((BEGIN, END, readme_block()), (INSTALL_BEGIN, INSTALL_END, install_block())):
        block = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not block.search(text):
            raise SystemExit(f"README.md has no {begin} … {end} block to write into")
        text = block.sub(lambda _m: content, text)
    readme.write_text(text, encoding="utf-8")
    written.append(readme)
    return written
