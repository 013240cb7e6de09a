"""A class graded in parallel on a local Dask cluster (2 worker processes on loopback)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from gradebook import scores, scores_of
from grader.i18n import t, use
from grader.commands.batch import RESULTS_FOLDER, run_batch
from submissions import SPOTIFY_STARTER_Q3, set_answer, solution_notebook

pytestmark = pytest.mark.slow
ASSIGNMENT = "dropout-batchnorm"
ASSIGNMENT_ZH = "dropout-batchnorm-zh"
STUDENTS = {"alice", "bob", "carol", "dave", "erin", "frank", "li"}


def make_class(course, exercises):
    """Seven students: right, untouched, wrong, broken files, a dying kernel, another course's
    notebook, and one who took the Chinese release (a mixed class)."""
    def hand_in(student, files, assignment=ASSIGNMENT):
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for name, content in files.items():
            if isinstance(content, str):
                (folder / f"{name}.ipynb").write_text(content)
            else:
                nbformat.write(content, folder / f"{name}.ipynb")

    hand_in("alice", {"spotify": solution_notebook("spotify")})
    hand_in("bob", {n: nbformat.read(exercises / f"{n}.ipynb", as_version=4) for n in ("wine", "spotify")})
    carol = solution_notebook("spotify")
    set_answer(carol, "spotify_q1_model", "model = keras.Sequential([keras.Input(shape=input_shape), "
               "layers.Dense(128, activation='relu'), layers.Dropout(0.7), layers.Dense(64, activation='relu'), "
               "layers.Dropout(0.7), layers.Dense(1)])")
    set_answer(carol, "spotify_q3_model", SPOTIFY_STARTER_Q3)
    hand_in("carol", {"spotify": carol})
    text = (exercises / "spotify.ipynb").read_text()
    hand_in("dave", {"wine": "this is not a notebook", "spotify": text[: len(text) // 2]})
    erin = solution_notebook("spotify")
    set_answer(erin, "spotify_q1_model", "import os\nos._exit(1)")
    set_answer(erin, "spotify_q3_model", SPOTIFY_STARTER_Q3)
    hand_in("erin", {"spotify": erin})
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello from another course')")])
    hand_in("frank", {"spotify": other})
    with use("zh_CN"):
        hand_in("li", {"spotify": solution_notebook("spotify")}, ASSIGNMENT_ZH)
    return course


def _executing(dask_worker) -> list:
    """On a worker: the keys of the tasks it is running now (not those queued on it)."""
    return [ts.key for ts in dask_worker.state.executing]


def kill_worker_grading(student: str, killed: list):
    """A run_batch hook: once the worker's own state says it is running `student`'s task, let
    it run a few seconds more (its kernel is training), then kill that worker process; `killed`
    gets the worker once the scheduler has seen it go."""
    def hook(client, futures):
        def holding(key):
            try:
                return [w for w, keys in client.run(_executing).items() if key in keys]
            except Exception:  # noqa: BLE001 - a worker starting or stopping
                return []

        def killer():
            key = next(f.key for f in futures if student in str(f.key))
            for _ in range(600):
                if holding(key):
                    time.sleep(8)  # let the kernel start training
                    where = holding(key)
                    if not where:
                        return  # it finished first: the test then says no worker was killed
                    try:
                        client.run(os._exit, 1, workers=where)
                    except Exception:  # noqa: BLE001 - the worker dies before it can answer
                        pass
                    for _ in range(300):
                        if where[0] not in client.scheduler_info()["workers"]:
                            killed.append(where[0])
                            return
                        time.sleep(0.1)
                    return
                time.sleep(0.1)
        threading.Thread(target=killer, daemon=True).start()
    return hook


@pytest.fixture(scope="module")
def classes(tmp_path_factory, exercises):
    """The same class graded one by one, then by two workers, one of which is killed mid-run;
    each run with a training cache of its own that starts empty, so that both train."""
    sequential = make_class(tmp_path_factory.mktemp("sequential"), exercises)
    parallel = tmp_path_factory.mktemp("parallel")
    shutil.copytree(sequential / "submitted", parallel / "submitted")
    one = run_batch(sequential, workers=1, threads=1, progress=False, cache_dir=str(sequential / "cold-cache"))
    killed = []
    two = run_batch(parallel, workers=2, threads=1, progress=False, on_submitted=kill_worker_grading("alice", killed),
                    cache_dir=str(parallel / "cold-cache"))
    two["killed"] = killed
    return sequential, parallel, one, two


def results(course) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in (course / RESULTS_FOLDER).glob("*.json")}


def comparable(result: dict) -> dict:
    return {"points": result.get("points"), "error": result.get("error"),
            "questions": [(q["id"], q["points"], q["message"], q["val_loss"])
                          for nb in result.get("notebooks", []) for q in nb["questions"]]}


def gradebook(course) -> list:
    return sorted((student, cell, auto) for (student, _, cell), (auto, _, _) in scores(course).items())


def test_parallel_results_are_identical_to_one_by_one(classes):
    sequential, parallel, one, two = classes
    assert one["graded"] == two["graded"] == 7
    a, b = results(sequential), results(parallel)
    assert set(a) == set(b) == STUDENTS
    for student in a:
        assert comparable(a[student]) == comparable(b[student]), student
    stored = {t("training.stored")}
    with use("zh_CN"):
        stored.add(t("training.stored"))
    for run in (a, b):  # each run trained the right answer itself (alice and li, in Chinese, share it)
        trainings = {q["training"] for s in ("alice", "li") for nb in run[s]["notebooks"] for q in nb["questions"]
                     if q["id"] == "spotify_q1"}
        assert trainings & stored, trainings
    assert a["alice"]["points"] == 10 and a["bob"]["points"] == 0
    assert a["carol"]["points"] == 0
    messages = {s: " ".join(q["message"] for nb in r["notebooks"] for q in nb["questions"]) for s, r in a.items()}
    assert "is not the question's rate=0.3" in messages["carol"]
    assert "not valid JSON" in messages["dave"]
    assert "kernel died" in messages["erin"] and "still the starter model" in messages["erin"]
    assert "not a notebook of the dropout-batchnorm assignment" in messages["frank"]
    assert a["li"]["points"] == 10 and a["li"]["language"] == "zh_CN" and "正确" in messages["li"]


def test_gradebook_after_parallel_run_matches_sequential(classes):
    sequential, parallel, _, _ = classes
    rows = gradebook(sequential)
    assert rows == gradebook(parallel)
    assert ("alice", "spotify_q3_val_loss", 2.0) in rows and ("bob", "wine_q1_architecture", 0.0) in rows
    assert (parallel / "kit-grades.csv").read_text().count("\n") == 8
    assert (parallel / "feedback" / "alice" / ASSIGNMENT / "kit-feedback.html").exists()
    li = (parallel / "feedback" / "li" / ASSIGNMENT_ZH / "kit-feedback.html").read_text()
    assert '<html lang="zh-Hans">' in li and "li 的反馈" in li
    assert scores_of(parallel, ASSIGNMENT_ZH)[("li", "spotify", "spotify_q3_val_loss")][0] == 2.0


def test_running_again_resumes_and_skips_graded_students(classes):
    _, parallel, _, _ = classes
    again = run_batch(parallel, workers=1, threads=1, progress=False)
    assert again["skipped"] == 7 and again["graded"] == 0


def test_a_worker_killed_mid_run_still_records_everyone_once(classes):
    """The worker killed was running alice's submission (its own state said so); batch records,
    from the scheduler, that alice's submission (and any queued on that worker) was lost with it
    and graded again elsewhere: once, with full marks."""
    _, parallel, one, two = classes
    assert two["killed"], "the test did not manage to kill a worker"
    assert two["retried"]["alice"] == two["killed"] and one["retried"] == {}
    assert all(workers == two["killed"] for workers in two["retried"].values()), two["retried"]
    assert two["graded"] == 7
    assert results(parallel)["alice"]["points"] == 10
    rows = gradebook(parallel)
    assert len(rows) == len({(s, c) for s, c, _ in rows})  # every grade recorded once
    assert sorted({s for s, _, _ in rows}) == ["alice", "bob", "carol", "dave", "erin", "frank"]


def test_batch_writes_the_class_overview(classes):
    """Passing, failing, ungradeable and not-attempted students, each where the instructor looks."""
    from grader.feedback.overview import CSV_NAME, HTML_NAME, JSON_NAME

    _, parallel, _, _ = classes
    data = json.loads((parallel / JSON_NAME).read_text())
    assert data["students"] == 7 and data["scores"]["alice"] == 10 and data["scores"]["li"] == 10
    assert data["languages"] == {"en": 6, "zh_CN": 1}
    assert data["ungradeable"] == ["dave", "frank"]
    assert "not valid JSON" in " ".join(data["problems"]["dave"])
    assert data["not_attempted"] == ["bob"]
    q1 = data["questions"]["spotify_q1"]
    assert q1["passed"] == 2 and q1["students"] == 5  # alice, bob, carol, erin, li handed spotify in
    groups = {group["mistake"]: group["students"] for group in q1["mistakes"]}
    assert groups["dropout-rate"] == ["carol"]
    assert "alice" in data["questions"]["spotify_q1"]["val_losses"]
    page = (parallel / HTML_NAME).read_text()
    assert "2 of 5 (40%)" in page and "bob" in page and "dave" in page
    assert (parallel / CSV_NAME).read_text().count("\n") == 8


@pytest.fixture(scope="module")
def formgrader(classes):
    """nbgrader's formgrader (the Jupyter server with nbgrader's extension) on the batch-graded course."""
    import socket
    import urllib.request

    course = classes[0]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               "--IdentityProvider.token=kit", f"--ServerApp.root_dir={course}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"))

    def get(path: str) -> str:
        separator = "&" if "?" in path else "?"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}{separator}token=kit", timeout=60) as answer:
            return answer.read().decode()

    try:
        for _ in range(120):
            try:
                get("/formgrader/api/submitted_notebooks/dropout-batchnorm/spotify")
                break
            except OSError:
                time.sleep(0.5)
        yield course, get
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_formgrader_opens_what_batch_graded_with_only_the_free_responses_to_grade(formgrader):
    course, get = formgrader
    submissions = {s["student"]: s for s in json.loads(get("/formgrader/api/submitted_notebooks/dropout-batchnorm/spotify"))}
    assert {"alice", "bob", "carol"} <= set(submissions)
    alice = submissions["alice"]
    assert alice["code_score"] == alice["max_code_score"] == 10 and not alice["failed_tests"]
    grades = json.loads(get(f"/formgrader/api/grades?submission_id={alice['id']}"))
    manual = {g["name"] for g in grades if g["needs_manual_grade"]}
    assert manual == {"spotify_q2_answer", "spotify_q4_answer"}, grades
    assert all(g["auto_score"] == g["max_score"] for g in grades if g["name"] not in manual)
    page = get(f"/formgrader/submissions/{alice['id']}/")
    assert "the model has the expected 5 layers in the right order." in page  # the kit's verdict, in its test cell
    assert "lowest val_loss" in page and "Without dropout" in page  # the hidden test's verdict; her free response
    carol = json.loads(get(f"/formgrader/api/grades?submission_id={submissions['carol']['id']}"))
    assert {g["name"]: g["auto_score"] for g in carol}["spotify_q1_architecture"] == 0
    graded = nbformat.read(course / "autograded" / "carol" / ASSIGNMENT / "spotify.ipynb", as_version=4)
    test_cell = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "spotify_q1_architecture")
    assert test_cell.outputs[0]["output_type"] == "error" and "Dropout" in test_cell.outputs[0]["evalue"]


def test_only_a_task_that_failed_on_its_worker_is_recorded_as_the_students_failure():
    """A result lost on the way is sent again, never recorded: when the scheduler is killed while a
    finished result is being fetched, Dask raises CommClosedError ("Stream is closed") on a future
    whose task succeeded (the soak once recorded a right answer as 0 points that way)."""
    import asyncio
    import concurrent.futures

    from distributed.comm.core import CommClosedError

    from grader.commands.batch import _connection_lost

    assert _connection_lost(CommClosedError("in <TCP (closed) ...>: Stream is closed"), "finished")
    assert _connection_lost(concurrent.futures.CancelledError("grade-alice"), "cancelled")
    assert _connection_lost(asyncio.CancelledError(), "pending")
    assert _connection_lost(OSError("timed out"), "lost")
    assert not _connection_lost(RuntimeError("the task's own failure"), "error")
    assert not _connection_lost(CommClosedError("raised by the task itself"), "error")
