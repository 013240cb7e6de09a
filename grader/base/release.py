"""Where the kit is published, named once: its version (here) and the repository its releases
come from (pyproject.toml's ``[project.urls] Repository``; an installed kit reads it from its own
metadata, which the build copied from there).

The released notebooks' first cell installs this release where the kit is missing (a hosted
notebook), and the open-in-Colab/Kaggle links point at this release's tag, so both are written
from here by ``python -m grader build``; pyproject.toml reads the version from here too.
"""
from __future__ import annotations

import re
from pathlib import Path

VERSION = "0.1.0"
DISTRIBUTION = "dropout-batchnorm-kit"
PYPROJECT = Path(__file__).resolve().parent.parent.parent / "pyproject.toml"  # in a clone
PLACEHOLDER_MARK = "# the template's placeholder"  # on the Repository line until a course names its own
_LINE = re.compile(r'^Repository\s*=\s*"(?P<url>[^"]+)"(?P<rest>.*)$', re.M)


def _from_pyproject() -> tuple[str, bool] | None:
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return None
    if f'name = "{DISTRIBUTION}"' not in text:  # not the kit's own (an installed kit has none beside it)
        return None
    found = _LINE.search(text)
    return (found["url"].rstrip("/"), PLACEHOLDER_MARK in found["rest"]) if found else None


def _from_metadata() -> str | None:
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "repository":
            return url.strip().rstrip("/")
    return None


def repository() -> str:
    """The public repository (https://github.com/OWNER/NAME). Releases attach the wheel; its
    "expanded assets" page is a plain list of links that pip reads with --find-links."""
    found = _from_pyproject()
    url = found[0] if found else _from_metadata()
    if not url:
        raise RuntimeError("the kit's repository is not named: set [project.urls] Repository in pyproject.toml "
                           "(python -m grader build --repository OWNER/NAME)")
    return url


def is_placeholder() -> bool:
    """Whether the repository is still the template's placeholder (a clone that has not named its own)."""
    found = _from_pyproject()
    return bool(found and found[1])


def name_repository(owner_and_name: str) -> str:
    """Write OWNER/NAME into pyproject.toml as the one setting (the placeholder mark goes)."""
    if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", owner_and_name):
        raise ValueError(f"{owner_and_name!r} is not OWNER/NAME (a GitHub repository)")
    text = PYPROJECT.read_text(encoding="utf-8")
    url = f"https://github.com/{owner_and_name}"
    if not _LINE.search(text):
        raise ValueError(f"{PYPROJECT} has no [project.urls] Repository line to rewrite")
    PYPROJECT.write_text(_LINE.sub(f'Repository = "{url}"', text, count=1), encoding="utf-8")
    return url


def placeholder_warning() -> str:
    return (f"WARNING: the kit's repository is still the template's placeholder ({repository()}): the released "
            "notebooks' install cell, the open-in links and the Classroom workflow point at a repository that is "
            "not yours. Name your fork: python -m grader build --repository OWNER/NAME")


def tag() -> str:
    return f"v{VERSION}"


def requirement() -> str:
    """What a hosted notebook installs: this release, pinned."""
    return f"{DISTRIBUTION}=={VERSION}"


def release_assets() -> str:
    return f"{repository()}/releases/expanded_assets/{tag()}"


def _owner_and_name() -> str:
    return repository().removeprefix("https://github.com/").strip("/")


def source_url(path: str) -> str:
    """A file of this release on GitHub (``path`` relative to the repository's root)."""
    return f"{repository()}/blob/{tag()}/{path}"


def colab_url(path: str) -> str:
    """Colab's documented form: colab.research.google.com/github/<owner>/<repo>/blob/<ref>/<path>."""
    return f"https://colab.research.google.com/github/{_owner_and_name()}/blob/{tag()}/{path}"


def kaggle_url(path: str) -> str:
    """Kaggle's form: kaggle.com/kernels/welcome?src=<the notebook's GitHub URL>."""
    return f"https://kaggle.com/kernels/welcome?src={source_url(path)}"
