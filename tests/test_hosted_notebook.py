"""A student on a hosted notebook (Kaggle, Colab): an image that already has `tensorflow` (not
`-cpu`) and Keras 3, and no kit. The released notebook's own first cell installs the kit, offline,
from a folder pip is pointed at with its own setting (PIP_FIND_LINKS); the image keeps its one
TensorFlow; the notebooks then run with the data in a Kaggle-shaped input folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.base import data
from grader.base.i18n import t, use
from grader.base.notebook_cells import INSTALL_TAG

pytestmark = pytest.mark.slow

# What a hosted image holds before the kit (Colab's TensorFlow of late 2025, the full build).
IMAGE = ["tensorflow==2.19.1", "keras>=3.5", "ipykernel", "nbclient", "nbformat", "pandas", "matplotlib",
         "scikit-learn"]
TENSORFLOWS = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly"}
# Runs a notebook in the image's own kernel, as Jupyter there would.
DRIVER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                        resources={"metadata": {"path": sys.argv[2]}})
client.execute()
nbformat.write(nb, sys.argv[3])
"""


def pip_list(python: Path) -> dict:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                         check=True).stdout
    return {row["name"].lower(): row["version"] for row in json.loads(out)}


@pytest.fixture(scope="module")
def image(tmp_path_factory, root, real_data) -> dict:
    """The hosted-like environment, an offline wheel folder holding the kit, and a Kaggle layout."""
    base = tmp_path_factory.mktemp("hosted")
    venv = base / "image"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    made = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *IMAGE], capture_output=True, text=True,
                          timeout=1200)
    assert made.returncode == 0, made.stderr[-3000:]
    wheels = base / "wheels"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels),
                            str(root)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    # The wheel folder a course would hand out: the kit and what it needs, resolved for this image.
    fetched = subprocess.run([str(python), "-m", "pip", "download", "--quiet", "--dest", str(wheels),
                              str(next(wheels.glob("*.whl")))], capture_output=True, text=True, timeout=1200)
    assert fetched.returncode == 0, fetched.stderr[-3000:]
    kaggle = base / "kaggle"
    course_data = kaggle / "input" / "dl-course-data"
    course_data.mkdir(parents=True)
    for name, path in real_data.items():
        shutil.copy(path, course_data / name)
    (kaggle / "working").mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DROPOUT_KIT_", "PIP_", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER"))}
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "HOME": str(base / "home"),
        # pip's own settings for a machine without the package index: the folder, nothing else.
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_RETRIES": "0", "PIP_TIMEOUT": "5",
        "PIP_CONFIG_FILE": os.devnull,
        # Nothing but the Kaggle input folder can give the data: no cache, no download.
        data.CACHE_ENV: str(base / "empty-cache"), data.MIRROR_ENV: "http://127.0.0.1:9/",
    })
    return {"python": python, "before": pip_list(python), "env": env, "kaggle": kaggle, "base": base}


def run_notebook(image, nb, name: str):
    source, executed = image["base"] / f"{name}.ipynb", image["base"] / f"{name}.out.ipynb"
    nbformat.write(nb, source)
    done = subprocess.run([str(image["python"]), "-c", DRIVER, str(source), str(image["kaggle"] / "working"),
                           str(executed)], env=image["env"], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(executed, as_version=4)


def outputs(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.extend(str(value) for value in out.get("data", {}).values())
        if out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(parts)


def errors(nb) -> list:
    return [f"{cell.metadata.get('nbgrader', {}).get('grade_id')}: {outputs(cell)[-1500:]}" for cell in nb.cells
            if any(out.get("output_type") == "error" for out in cell.get("outputs", []))]


@pytest.fixture(scope="module")
def solutions_run(image, root) -> dict:
    """The English solutions, top to bottom, the wine notebook first: its first cell installs the kit."""
    return {name: run_notebook(image, nbformat.read(root / "solutions" / "dropout-batchnorm" / f"{name}.ipynb", 4),
                               f"solution-{name}") for name in ("wine", "spotify")}


def test_the_first_cell_installs_the_kit_and_the_image_keeps_its_one_tensorflow(image, solutions_run):
    first = solutions_run["wine"].cells[1]
    assert INSTALL_TAG in first.metadata["tags"]
    assert "dropout-batchnorm-kit==" in outputs(first), outputs(first)  # it did install, this time
    after = pip_list(image["python"])
    assert "dropout-batchnorm-kit" in after and "dropout-batchnorm-kit" not in image["before"]
    assert sorted(TENSORFLOWS & set(after)) == ["tensorflow"], after
    assert after["tensorflow"] == image["before"]["tensorflow"] == "2.19.1"
    assert after["keras"] == image["before"]["keras"]
    assert not {"nbgrader", "dask", "distributed", "jupyterlab"} & set(after), "instructor tools in a student's image"
    check = subprocess.run([str(image["python"]), "-m", "pip", "check"], env=image["env"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    tf = subprocess.run([str(image["python"]), "-c", "import tensorflow as tf; print(tf.__version__)"],
                        env=image["env"], capture_output=True, text=True)
    assert tf.stdout.strip() == "2.19.1", tf.stderr[-2000:]


def test_where_the_kit_is_installed_the_first_cell_does_nothing(solutions_run):
    second = solutions_run["spotify"].cells[1]  # the kit came with the wine notebook's first cell
    assert INSTALL_TAG in second.metadata["tags"] and outputs(second) == ""


def test_the_solutions_run_top_to_bottom_on_the_kaggle_data(image, solutions_run):
    for name, nb in solutions_run.items():
        assert not errors(nb), f"{name}: {errors(nb)}"
        text = "\n".join(outputs(cell) for cell in nb.cells)
        with use("en"):
            assert t("model.starter") not in text
        assert "val_loss" in text or "validation" in text.lower()
    assert not any((image["base"] / "empty-cache").rglob("*.csv")), "the data came from elsewhere than Kaggle's input"


def test_the_chinese_starters_checks_say_still_the_starter(image, root, solutions_run):
    """The released starters, up to each check (no training): the kit is there from the first run."""
    for name in ("wine", "spotify"):
        nb = nbformat.read(root / "exercises" / "dropout-batchnorm-zh" / f"{name}.ipynb", 4)
        keep = ("_install", "_setup", "_seed", "_model", "_check", "_data")
        nb.cells = [cell for cell in nb.cells if cell.cell_type == "code"
                    and cell.metadata["nbgrader"]["grade_id"].endswith(keep)]
        executed = run_notebook(image, nb, f"starter-zh-{name}")
        checks = [cell for cell in executed.cells if cell.metadata["nbgrader"]["grade_id"].endswith("_check")]
        assert checks and not errors(executed), errors(executed)
        with use("zh_CN"):
            starter = t("model.starter")
        for cell in checks:
            assert starter in outputs(cell), f"{cell.metadata['nbgrader']['grade_id']}: {outputs(cell)[-800:]}"
