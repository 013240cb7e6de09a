"""Released notebooks start anywhere: the first code cell installs the pinned release where the kit
is missing and only there, says so clearly when pip cannot get it, and is not graded; every
released notebook has its open-in-Colab and open-in-Kaggle links, written from the one release."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.assignments import all_assignments
from grader.base import release
from grader.base.i18n import t, use
from grader.base.notebook_cells import INSTALL_TAG, install_cell, notebook_language
from grader.commands import open_in
from grader.running.harness import assemble

LINK = re.compile(r"\]\((https://[^)\s]+)\)")


def released(root) -> list:
    """(path, language, notebook) of every notebook under exercises/ and solutions/."""
    return [(root / kind / folder / f"{notebook}.ipynb", lang, notebook) for kind in ("exercises", "solutions")
            for lang, folder, notebook in open_in.released_notebooks()]


def test_every_released_notebook_starts_with_the_install_cell_of_this_release(root):
    for path, lang, notebook in released(root):
        nb = nbformat.read(path, as_version=4)
        first = next(cell for cell in nb.cells if cell.cell_type == "code")
        assert INSTALL_TAG in first.metadata.get("tags", []), path
        assert notebook_language(nb) == lang
        with use(lang):
            assert first.source == install_cell(notebook).source, f"{path}: rebuild with python -m grader build"
        assert f"'{release.requirement()}'" in first.source and release.release_assets() in first.source


def test_the_release_pinned_is_the_kit_installed():
    from importlib.metadata import version

    assert version(release.DISTRIBUTION) == release.VERSION


def test_where_the_kit_is_installed_the_cell_does_nothing(root):
    source = install_cell("wine").source
    ran = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=os.devnull))
    assert ran.returncode == 0 and ran.stdout == "" and ran.stderr == "", ran.stdout + ran.stderr


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_where_pip_cannot_get_the_kit_the_cell_says_why_and_how(tmp_path, lang):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    with use(lang):
        source = install_cell("wine").source
        told = t("nb.install.failed", requirement=release.requirement(), source=release.release_assets())
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", source], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PIP_NO_INDEX": "1",
                              "PIP_FIND_LINKS": str(empty), "PIP_RETRIES": "0", "PIP_TIMEOUT": "5",
                              "PIP_CONFIG_FILE": os.devnull})
    assert ran.returncode == 1
    assert told in ran.stderr, ran.stderr[-2000:]
    assert "No matching distribution found for " + release.requirement() in ran.stderr  # pip's own words, above
    assert "Traceback" not in ran.stderr


def test_grading_skips_the_install_cell(solutions):
    for name in ("wine", "spotify"):
        nb, _missing, _labels = assemble(nbformat.read(solutions / f"{name}.ipynb", as_version=4), name)
        assert not any("importlib.metadata.version" in cell.source for cell in nb.cells)
        assert any(cell.metadata["kit"].get("grade_id") == f"{name}_setup" for cell in nb.cells)


def test_the_readme_and_each_exercise_folder_carry_the_links_of_this_release(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert open_in.readme_block() in readme, "python -m grader build rewrites README.md's open-in table"
    for lang, folder in {(lang, folder) for lang, folder, _ in open_in.released_notebooks()}:
        written = (root / "exercises" / folder / "README.md").read_text(encoding="utf-8")
        assert written == open_in.folder_readme(lang, folder), folder
    assert release.requirement() in readme


def test_every_link_opens_a_notebook_of_the_repository_in_each_platforms_documented_form(root):
    owner_repo = release.repository().removeprefix("https://github.com/")
    links = LINK.findall(open_in.readme_block())
    assert len(links) == 3 * len(open_in.released_notebooks())
    prefixes = {"colab": f"https://colab.research.google.com/github/{owner_repo}/blob/{release.tag()}/",
                "kaggle": f"https://kaggle.com/kernels/welcome?src={release.repository()}/blob/{release.tag()}/",
                "github": f"{release.repository()}/blob/{release.tag()}/"}
    seen = {kind: set() for kind in prefixes}
    for link in links:
        kind = next(kind for kind, prefix in prefixes.items() if link.startswith(prefix))
        path = link.removeprefix(prefixes[kind])
        assert (root / path).is_file() and path.startswith("exercises/") and path.endswith(".ipynb"), link
        seen[kind].add(path)
    everything = {f"exercises/{folder}/{notebook}.ipynb" for _lang, folder, notebook in open_in.released_notebooks()}
    assert all(paths == everything for paths in seen.values())
    assert len(everything) == sum(len(unit.notebooks) * len(unit.releases) for unit in all_assignments()) == 6
