"""Benchmark: the course platforms' paths, timed on this machine.

    python bench/bench_platforms.py

Prints:
 1. the Gradescope zip: its size, the time to write it, and `setup.sh` (a venv, the kit's wheel
    and a CPU TensorFlow from the package index this machine reaches) in a folder laid out like
    Gradescope's container;
 2. `run_autograder` on the solutions with an empty training cache, the same again with the
    cache it filled, and on the starter;
 3. `nbgrader validate` (with the kit's nbgrader_config.py) on the spotify starter and on the
    spotify notebook answered right.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SOLUTIONS, env  # noqa: E402

STARTERS = ROOT / "exercises" / "dropout-batchnorm"


def timed(command, **kw) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kw)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def gradescope(scratch: Path) -> None:
    zip_path = scratch / "autograder.zip"
    seconds = timed([sys.executable, "-m", "grader", "gradescope", "-o", str(zip_path)], env=env())
    print(f"gradescope zip: {zip_path.stat().st_size / 1e6:.1f} MB, written in {seconds:.1f} s")
    root = scratch / "autograder"
    (root / "source").mkdir(parents=True)
    zipfile.ZipFile(zip_path).extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    run_env = {k: v for k, v in env().items() if not k.startswith(("DROPOUT_KIT_", "VIRTUAL_ENV"))}
    run_env.update(AUTOGRADER_ROOT=str(root), DROPOUT_KIT_TRAINING_CACHE=str(scratch / "cache"),
                   PATH=os.pathsep.join(p for p in run_env["PATH"].split(os.pathsep)
                                        if Path(p) != Path(sys.executable).parent))
    print(f"setup.sh: {timed(['bash', str(root / 'source' / 'setup.sh')], env=run_env, cwd=root):.1f} s")
    for label, folder in (("solutions, empty training cache", SOLUTIONS), ("solutions, trainings reused", SOLUTIONS),
                          ("starter", STARTERS)):
        shutil.rmtree(root / "submission", ignore_errors=True)
        shutil.copytree(folder, root / "submission", ignore=shutil.ignore_patterns("*.md"))
        (root / "results").mkdir(exist_ok=True)
        print(f"run_autograder, {label}: {timed([str(root / 'run_autograder')], env=run_env, cwd=root):.1f} s")


def validate(scratch: Path) -> None:
    import nbformat

    solved = nbformat.read(STARTERS / "spotify.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in
               nbformat.read(SOLUTIONS / "spotify.ipynb", as_version=4).cells}
    for cell in solved.cells:
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    nbformat.write(solved, scratch / "solved.ipynb")
    shutil.copy(STARTERS / "spotify.ipynb", scratch / "starter.ipynb")
    for label, path in (("the spotify starter", scratch / "starter.ipynb"), ("spotify answered right", scratch / "solved.ipynb")):
        print(f"nbgrader validate, {label}: "
              f"{timed([sys.executable, '-m', 'nbgrader', 'validate', str(path)], env=env(), cwd=ROOT):.1f} s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-platforms-") as scratch:
        gradescope(Path(scratch))
        validate(Path(scratch))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
