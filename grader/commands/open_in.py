"""The open-in-Colab and open-in-Kaggle links of every released notebook, in both languages.

``python -m grader build`` writes them into each exercise folder's README.md and into the
block of the kit's README.md between the two ``open-in`` markers, from the release named in
base/release.py, so that a new release moves every link at once.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..assignments import all_assignments
from ..base import release
from ..base.i18n import t, use

BEGIN = "<!-- open-in: written by python -m grader build -->"
END = "<!-- /open-in -->"


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
    block = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not block.search(text):
        raise SystemExit(f"README.md has no {BEGIN} … {END} block to write the open-in links into")
    readme.write_text(block.sub(lambda _m: readme_block(), text), encoding="utf-8")
    written.append(readme)
    return written
