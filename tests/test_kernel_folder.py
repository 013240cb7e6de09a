"""The grader never follows a link that student code put in its working folder (kernel_folder.py):
where `.kit-training`, a captured file or the folder a training is loaded into was replaced by a
link, the grader reads and writes nothing outside the folder, and says it could not."""
from __future__ import annotations

import os

import pytest

from grader.running import kernel_folder


@pytest.fixture
def places(tmp_path):
    work, outside, mine = tmp_path / "work", tmp_path / "outside", tmp_path / "grader"
    for folder in (work, outside, mine):
        folder.mkdir()
    (outside / "secret.json").write_text("the instructor's")
    return work, outside, mine


def test_a_captured_state_is_copied_out_and_a_missing_file_is_left_out(places):
    work, _, mine = places
    (work / ".kit-training" / "q1" / "pre").mkdir(parents=True)
    (work / ".kit-training" / "q1" / "pre" / "state.json").write_text('{"ok": false}')
    kernel_folder.copy_out(work, (".kit-training", "q1", "pre"), ("state.json", "model.keras"), mine / "pre")
    assert [p.name for p in (mine / "pre").iterdir()] == ["state.json"]


@pytest.mark.parametrize("linked", [".kit-training", "q1", "pre", "state.json"])
def test_a_link_anywhere_on_the_way_out_is_refused(places, linked):
    work, outside, mine = places
    chain = [".kit-training", "q1", "pre", "state.json"]
    (outside / "other" / ".kit-training" / "q1" / "pre").mkdir(parents=True)  # another student's, say
    (outside / "other" / ".kit-training" / "q1" / "pre" / "state.json").write_text("the instructor's")
    folder, theirs = work, outside / "other"
    for name in chain:
        theirs = theirs / name
        if name == linked:
            os.symlink(theirs, folder / name)  # where a link-following grader would find a file to read
            break
        (folder / name).mkdir()
        folder = folder / name
    with pytest.raises(kernel_folder.Replaced):
        kernel_folder.copy_out(work, (".kit-training", "q1", "pre"), ("state.json",), mine / "pre")
    assert not (mine / "pre" / "state.json").exists()


def test_removing_a_linked_folder_removes_the_link_and_nothing_it_points_to(places):
    work, outside, _ = places
    (work / ".kit-training").mkdir()
    os.symlink(outside, work / ".kit-training" / "q1")
    kernel_folder.remove(work, (".kit-training", "q1"))
    assert not os.path.lexists(work / ".kit-training" / "q1") and (outside / "secret.json").exists()
    os.rmdir(work / ".kit-training")
    os.symlink(outside, work / ".kit-training")
    kernel_folder.remove(work, (".kit-training", "q1"))
    assert not os.path.lexists(work / ".kit-training") and (outside / "secret.json").exists()


def test_a_training_is_loaded_into_a_new_folder_never_through_a_link(places):
    work, outside, mine = places
    (mine / "history.json").write_text("{}")
    (work / ".kit-training").mkdir()
    os.symlink(outside, work / ".kit-training" / "q1")  # planted after the capture, by a process left running
    folder = kernel_folder.copy_in({"history.json": mine / "history.json"}, work, (".kit-training", "q1", "cached"))
    assert sorted(p.name for p in outside.iterdir()) == ["secret.json"]  # the link went, nothing came through
    assert not (work / ".kit-training" / "q1").is_symlink() and (folder / "history.json").read_text() == "{}"
    kernel_folder.remove(work, (".kit-training", "q1"))
    (work / ".kit-training" / "q1").mkdir()
    os.symlink(outside / "secret.json", work / ".kit-training" / "q1" / "cached")
    folder = kernel_folder.copy_in({"history.json": mine / "history.json"}, work, (".kit-training", "q1", "cached"))
    assert (folder / "history.json").read_text() == "{}" and not folder.is_symlink()
    assert (outside / "secret.json").read_text() == "the instructor's"
