"""Nothing a student submits breaks grading: broken files, crashes, endless loops, dying kernels,
memory bombs, floods of output, tampering and file-system damage. Each case gets its own clear
verdict, the other question of the same notebook is still graded, and nothing outside the
submission's working folder changes."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.running import sandbox
from grader.grading.submission import grade
from submissions import SPOTIFY_STARTER_Q3, set_answer, solution_notebook, write

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CANARY = Path.home() / ".kit-canary"


def wine_starter() -> str:
    return ("model = keras.Sequential([keras.Input(shape=(11,)), layers.Dense(1024, activation='relu'), "
            "layers.Dense(1024, activation='relu'), layers.Dense(1024, activation='relu'), layers.Dense(1)])")


# (name, answer cell of spotify Q1, fragment of Q1's message, cell timeout)
KERNEL_CASES = [
    ("model variable missing", "x = 1", "`model` is not defined after your answer cell", 60),
    ("not a keras model", "model = 'a model'", "found a str", 60),
    ("wrong input shape", "model = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(128, activation='relu'), "
     "layers.Dropout(0.3), layers.Dense(64, activation='relu'), layers.Dropout(0.3), layers.Dense(1)])",
     "expects 5 input features", 60),
    ("exception", "raise ValueError('boom')", "your answer cell of spotify Q1 (spotify_q1_model) raised ValueError with the message “boom”", 60),
    ("syntax error", "model = keras.Sequential([", "raised SyntaxError", 60),
    ("missing package", "import a_package_that_is_not_installed", "raised ModuleNotFoundError", 60),
    ("endless loop", "while True:\n    pass", "ran longer than the time limit", 20),
    ("ten thousand epochs", "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(1)])\n"
     "model.compile(optimizer='adam', loss='mae')\nmodel.fit(X_train, y_train, epochs=10_000, verbose=0)",
     "ran longer than the time limit", 20),
    ("sys.exit", "import sys\nsys.exit()", "raised SystemExit", 60),
    ("raise SystemExit", "raise SystemExit(3)", "raised SystemExit", 60),
    ("os._exit", "import os\nos._exit(1)", "the Python kernel died while running your answer cell of spotify Q1", 60),
    ("kill -9", "import os\nos.kill(os.getpid(), 9)", "the Python kernel died", 60),
    ("50 GB array", "import numpy as np\nbig = np.ones(50 * 10**9 // 8)", "ran out of memory: it asked for an array of shape 6250000000,", 60),
    ("a billion units", "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(10**9)])",
     "×1000000000, far more than the grading machine has", 120),  # the shape: (18 or 8 inputs)×10⁹
    ("million printed lines", "for i in range(2_000_000):\n    print(i)\nmodel = None", "`model` is None", 120),
    ("stderr flood", "import sys\nfor i in range(200_000):\n    sys.stderr.write('noise ' * 10 + '\\n')\nmodel = None",
     "`model` is None", 120),
    ("reads the solutions and the reference", "print(open('" + str(ROOT / "solutions" / "dropout-batchnorm" / "wine.ipynb")
     + "').read())", "raised FileNotFoundError", 60),
    # Writes outside the working folder fail, or land in the sandbox's throwaway /tmp when the kit lives
    # under /tmp; either way the real files are untouched (checked by the canary fixture).
    ("writes the gradebook", "try:\n    open('" + str(ROOT / "gradebook.db") + "', 'w').write('gone')\n"
     "except OSError:\n    pass\nmodel = None", "`model` is None", 60),
    # denied either way: the file is not there (ENOENT) or its folder is read-only (EROFS); the canary survives
    ("deletes files outside its folder", "import os\nos.remove('" + str(CANARY) + "')", "[Errno ", 60),
    ("reads the grading user's home", "print(open('" + str(CANARY) + "').read())", "raised FileNotFoundError", 60),
    ("writes beside the kit", "try:\n    open('" + str(ROOT / "planted.py") + "', 'w').write('x')\n"
     "except OSError:\n    pass\nmodel = None", "`model` is None", 60),
]


@pytest.fixture(scope="module", autouse=True)
def canary():
    CANARY.write_text("must survive")
    digest = hashlib.sha256((ROOT / "grader" / "lesson" / "questions.py").read_bytes()).hexdigest()
    gradebook = ROOT / "gradebook.db"
    before = gradebook.read_bytes() if gradebook.exists() else None
    yield
    assert CANARY.read_text() == "must survive"
    assert not (ROOT / "planted.py").exists()
    assert (gradebook.read_bytes() if gradebook.exists() else None) == before
    assert hashlib.sha256((ROOT / "grader" / "lesson" / "questions.py").read_bytes()).hexdigest() == digest
    CANARY.unlink()


def messages(report) -> dict:
    return {r.question.id: r.message for r in report.results}


# Two cases per notebook run: one in Q1's answer cell, one in Q3's. Each must get its own message,
# which also shows that a question is still graded after the other one crashed its cell or kernel.
PAIRS = [(KERNEL_CASES[i], KERNEL_CASES[i + 1] if i + 1 < len(KERNEL_CASES) else None)
         for i in range(0, len(KERNEL_CASES), 2)]


@pytest.mark.parametrize("first,second", PAIRS, ids=[f"{a[0]} + {b[0] if b else 'starter'}" for a, b in PAIRS])
def test_hostile_answers_fail_alone(tmp_path, first, second):
    cases = [c for c in (first, second) if c]
    if any(word in c[0] for c in cases for word in ("reads", "writes", "deletes")) and not sandbox.available():
        pytest.skip(f"the file-system cases need a sandbox: {sandbox.status().reason}")
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", first[1])
    set_answer(nb, "spotify_q3_model", second[1] if second else SPOTIFY_STARTER_Q3)
    report = grade(write(nb, tmp_path, "spotify"), cell_timeout=max(c[3] for c in cases), expect_all=False)
    found = messages(report)
    assert first[2] in found["spotify_q1"], found["spotify_q1"]
    expected_q3 = second[2].replace("spotify Q1 (spotify_q1_model)", "spotify Q3 (spotify_q3_model)") \
        .replace("answer cell of spotify Q1", "answer cell of spotify Q3") if second else "still the starter model"
    assert expected_q3 in found["spotify_q3"], found["spotify_q3"]
    assert report.points == 0


def test_output_floods_are_cut_in_the_executed_notebook(tmp_path):
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", "for i in range(2_000_000):\n    print(i)\nmodel = None")
    set_answer(nb, "spotify_q3_model", SPOTIFY_STARTER_Q3)
    report = grade(write(nb, tmp_path, "spotify"), expect_all=False)
    executed = report.notebooks[0].run.executed
    answer = next(c for c in executed.cells if c.metadata.get("kit", {}).get("grade_id") == "spotify_q1_model")
    assert sum(len(o.get("text", "")) for o in answer.outputs) < 25_000
    assert "output cut by the grader" in answer.outputs[-1]["text"]


FILE_CASES = [
    ("not JSON", lambda p: p.write_text("print('hello')"), "is not valid JSON"),
    ("truncated JSON", lambda p: p.write_text(json.dumps(nbformat.v4.new_notebook())[:-10]), "damaged or truncated"),
    ("empty file", lambda p: p.write_text(""), "is empty"),
    ("empty notebook", lambda p: nbformat.write(nbformat.v4.new_notebook(), p), "not a notebook of the dropout-batchnorm"),
    ("another assignment", lambda p: nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade_id": "titanic_q1", "solution": True}})]), p), "not a notebook of"),
    ("JSON but not a notebook", lambda p: p.write_text('{"cells": 3}'), "not a Jupyter notebook"),
]


@pytest.mark.parametrize("name,make,fragment", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_unreadable_notebook_is_a_usage_error_with_a_clear_message(tmp_path, name, make, fragment):
    path = tmp_path / "wine.ipynb"
    make(path)
    result = subprocess.run([sys.executable, "-m", "grader", str(path), "--quiet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_broken_notebook_in_a_folder_fails_only_its_own_questions(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "wine.ipynb").write_text("{not json")
    nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", "raise ValueError('boom')")
    set_answer(nb, "spotify_q3_model", SPOTIFY_STARTER_Q3)
    write(nb, folder, "spotify")
    report = grade(folder)
    found = messages(report)
    assert "not valid JSON" in found["wine_q1"]
    assert "ValueError with the message “boom”" in found["spotify_q1"] and "starter model" in found["spotify_q3"]


def test_old_format_reordered_and_deleted_cells_are_graded_as_released(tmp_path):
    """An nbformat 3 notebook whose cells were shuffled and whose locked cells were deleted."""
    nb = solution_notebook("wine")
    set_answer(nb, "wine_q1_model", wine_starter())
    nb.cells = [c for c in reversed(nb.cells) if c.metadata["nbgrader"]["grade_id"] != "wine_q1_train"]
    path = tmp_path / "wine.ipynb"
    path.write_text(nbformat.writes(nbformat.convert(nb, 3)))
    assert json.loads(path.read_text())["nbformat"] == 3
    report = grade(path, expect_all=False)
    assert "still the starter model" in messages(report)["wine_q1"]


def test_divergence_gets_its_own_message():
    from grader.judging.checks import check_val_loss
    from grader.lesson.questions import BY_ID

    history = {"loss": [30.0, float("nan")], "val_loss": [25.0, float("nan")]}
    verdict = check_val_loss(BY_ID["spotify_q3"], float("nan"), history)
    assert not verdict.passed and "diverged" in verdict.message and "BatchNormalization layer before each Dense" in verdict.message
