"""Before a release is built: the tag pushed is the kit's version, and the repository is named.

    python tools/release_check.py v0.1.0

Exit 0 when the tag is ``v`` + grader/base/release.py's VERSION and pyproject.toml names a
repository of the course's own; otherwise 1, saying what to change. Reads the two files as text,
so it runs before anything is installed."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems(tag: str, root: Path = ROOT) -> list[str]:
    found = []
    version = re.search(r'^VERSION = "([^"]+)"', (root / "grader" / "base" / "release.py").read_text(), re.M)
    if not version:
        return ["grader/base/release.py names no VERSION"]
    if tag != f"v{version[1]}":
        found.append(f"the tag {tag} is not the kit's version v{version[1]} (grader/base/release.py): "
                     f"tag v{version[1]}, or change VERSION and run python -m grader build")
    line = re.search(r'^Repository\s*=\s*"([^"]+)"(.*)$', (root / "pyproject.toml").read_text(), re.M)
    if not line:
        found.append("pyproject.toml's [project.urls] names no Repository")
    elif "placeholder" in line[2]:
        found.append(f"pyproject.toml still names the template's placeholder repository ({line[1]}): "
                     "run python -m grader build --repository OWNER/NAME and commit what it rewrites")
    return found


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python tools/release_check.py TAG", file=sys.stderr)
        return 2
    found = problems(argv[0])
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if not found:
        print(f"release {argv[0]}: the tag is the kit's version and the repository is named")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
