"""The instructor's release, named once: pyproject.toml's [project.urls] Repository is the one
setting, every install cell, open-in link, README block and the Classroom workflow is built from
it, the placeholder is said loudly, and the release workflow checks the tag before it builds."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from grader.base import release
from grader.base.notebook_cells import install_cell
from grader.commands import github_classroom, open_in

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import release_check  # noqa: E402


def _tracked() -> list[Path]:
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [ROOT / name for name in done.stdout.splitlines()]


def _generated_readme_parts(text: str) -> str:
    """README.md less the two blocks `python -m grader build` writes."""
    for begin, end in ((open_in.BEGIN, open_in.END), (open_in.INSTALL_BEGIN, open_in.INSTALL_END)):
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), "", text, flags=re.S)
    return text


def test_the_repository_is_written_in_one_place_and_everything_else_is_built_from_it():
    owner_and_name = release.repository().removeprefix("https://github.com/")
    written_by_hand = []
    for path in _tracked():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if owner_and_name not in text:
            continue
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("exercises/", "solutions/")) and (path.suffix == ".ipynb" or path.name == "README.md"):
            continue  # built by python -m grader build (tests/test_notebooks_generated.py, test_open_anywhere.py)
        if relative == "README.md" and owner_and_name not in _generated_readme_parts(text):
            continue
        written_by_hand.append(relative)
    assert written_by_hand == ["pyproject.toml"], written_by_hand


def test_naming_a_course_repository_moves_every_link(tmp_path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    shutil.copyfile(ROOT / "pyproject.toml", pyproject)
    monkeypatch.setattr(release, "PYPROJECT", pyproject)
    assert release.is_placeholder() and "placeholder" in release.placeholder_warning()
    old = release.repository()
    assert release.name_repository("my-course/dl-kit") == "https://github.com/my-course/dl-kit"
    assert not release.is_placeholder() and release.repository() == "https://github.com/my-course/dl-kit"
    assert 'Repository = "https://github.com/my-course/dl-kit"' in pyproject.read_text()
    new_assets = "https://github.com/my-course/dl-kit/releases/expanded_assets/v" + release.VERSION
    built = {"install cell": install_cell("wine").source, "README table": open_in.readme_block(),
             "README install": open_in.install_block(), "exercise README": open_in.folder_readme("en", "dropout-batchnorm"),
             "Classroom setup": github_classroom.install_command()}
    for name, text in built.items():
        assert "github.com/my-course/dl-kit" in text and old not in text, name
    assert new_assets in built["install cell"] and new_assets in built["Classroom setup"]
    for bad in ("my course/dl-kit", "https://github.com/a/b", "a/b/c", ""):
        with pytest.raises(ValueError):
            release.name_repository(bad)


def test_the_commands_say_when_the_placeholder_is_still_named(tmp_path):
    """The template names the placeholder until a course names its own (then nothing is said)."""
    classroom = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "-o", str(tmp_path / "c.yml")],
                               capture_output=True, text=True, cwd=tmp_path, timeout=120)
    warned = "WARNING: the kit's repository is still the template's placeholder" in classroom.stderr
    assert classroom.returncode == 0 and warned == release.is_placeholder(), classroom.stderr
    own = subprocess.run([sys.executable, "-m", "grader", "github-classroom", "-o", str(tmp_path / "d.yml"),
                          "--install", "dropout-batchnorm-kit[cpu]"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert own.returncode == 0 and "WARNING" not in own.stderr  # grading with the instructor's own build
    before = (ROOT / "pyproject.toml").read_bytes()
    refused = subprocess.run([sys.executable, "-m", "grader", "build", "--repository", "not a repository"],
                             capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert refused.returncode == 2 and "is not OWNER/NAME" in refused.stderr and "Traceback" not in refused.stderr
    assert (ROOT / "pyproject.toml").read_bytes() == before


def test_the_release_check_wants_the_version_tag_and_a_named_repository(tmp_path):
    here = release_check.problems(f"v{release.VERSION}")
    assert here == (["pyproject.toml still names the template's placeholder repository "
                     f"({release.repository()}): run python -m grader build --repository OWNER/NAME and commit what it "
                     "rewrites"] if release.is_placeholder() else [])
    (tmp_path / "grader" / "base").mkdir(parents=True)
    shutil.copyfile(ROOT / "grader" / "base" / "release.py", tmp_path / "grader" / "base" / "release.py")
    (tmp_path / "pyproject.toml").write_text('[project.urls]\nRepository = "https://github.com/my-course/dl-kit"\n')
    assert release_check.problems(f"v{release.VERSION}", tmp_path) == []
    wrong = release_check.problems("v9.9.9", tmp_path)
    assert len(wrong) == 1 and f"not the kit's version v{release.VERSION}" in wrong[0]
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "release_check.py"), "v9.9.9"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1 and "error: the tag v9.9.9" in done.stderr


def test_the_release_workflow_tests_builds_attaches_and_can_publish():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert flow[True]["push"]["tags"] == ["v*"]  # YAML reads the key `on` as True
    assert flow["permissions"] == {"contents": "write", "id-token": "write"}
    steps = flow["jobs"]["release"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert "actions/checkout@v5" in uses and "actions/setup-python@v6" in uses  # Node 24 actions
    runs = [step.get("run", "") for step in steps]
    readme = (ROOT / "README.md").read_text()
    test_command = next(line for line in readme.splitlines() if line.startswith("pytest -n"))
    order = [next(i for i, run in enumerate(runs) if needle in run)
             for needle in ("tools/release_check.py", test_command, "python -m build --wheel", "gh release")]
    assert order == sorted(order), "check the tag, test, build, attach: in that order"
    publish = next(step for step in steps if step.get("uses", "").startswith("pypa/gh-action-pypi-publish"))
    assert publish["if"] == "vars.PUBLISH_TO_PYPI == 'true'" and publish["with"]["packages-dir"] == "dist/"
