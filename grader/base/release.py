"""Where the kit is published, named once: its version and the repository its releases come from.

The released notebooks' first cell installs this release where the kit is missing (a hosted
notebook), and the open-in-Colab/Kaggle links point at this release's tag, so both are written
from here by ``python -m grader build``; pyproject.toml reads the version from here too.
"""
from __future__ import annotations

VERSION = "0.1.0"
DISTRIBUTION = "dropout-batchnorm-kit"
# The public repository. Releases attach the wheel; its "expanded assets" page is a plain list of
# links that pip reads with --find-links.
REPOSITORY = "https://github.com/dropout-kit/dropout-batchnorm-kit"


def tag() -> str:
    return f"v{VERSION}"


def requirement() -> str:
    """What a hosted notebook installs: this release, pinned."""
    return f"{DISTRIBUTION}=={VERSION}"


def release_assets() -> str:
    return f"{REPOSITORY}/releases/expanded_assets/{tag()}"


def _owner_and_name() -> str:
    return REPOSITORY.removeprefix("https://github.com/").strip("/")


def source_url(path: str) -> str:
    """A file of this release on GitHub (``path`` relative to the repository's root)."""
    return f"{REPOSITORY}/blob/{tag()}/{path}"


def colab_url(path: str) -> str:
    """Colab's documented form: colab.research.google.com/github/<owner>/<repo>/blob/<ref>/<path>."""
    return f"https://colab.research.google.com/github/{_owner_and_name()}/blob/{tag()}/{path}"


def kaggle_url(path: str) -> str:
    """Kaggle's form: kaggle.com/kernels/welcome?src=<the notebook's GitHub URL>."""
    return f"https://kaggle.com/kernels/welcome?src={source_url(path)}"
