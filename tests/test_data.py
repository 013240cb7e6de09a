"""Finding the data by checksum: local folder, cache, download (via a loopback server), errors."""
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from grader.base import data


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No shared data folder, an empty cache: only what the test provides."""
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setenv(data.ROOTS_ENV, "")  # no platform's attached data either
    return tmp_path


def test_real_files_verify_and_have_the_documented_shape(real_data):
    for name, entry in data.manifest().items():
        path = real_data[name]
        assert data.sha256_of(path) == entry["sha256"]
        frame = pd.read_csv(path)
        assert frame.shape == (entry["rows"], entry["columns"])
        assert data.content_fingerprint(frame) == entry["content_sha256"]


def test_splits_match_the_lesson():
    wine = data.wine_splits()
    assert wine.X_train.shape == (1119, 11) and wine.X_valid.shape == (480, 11)
    spotify = data.spotify_splits()
    assert spotify.X_train.shape == (24788, 18) and spotify.X_valid.shape == (8040, 18)
    concrete = data.concrete_splits()
    assert concrete.X_train.shape == (721, 8) and concrete.X_valid.shape == (309, 8)


def test_a_notebook_that_changes_its_split_gets_the_original_on_the_next_call():
    """The splits are read once per process (and once per fork server): a notebook gets a copy."""
    first = data.wine_splits()
    original = first.X_train.copy()
    changed = first.X_train
    changed /= 100
    first.y_valid[:] = 0
    again = data.wine_splits()
    assert (again.X_train == original).all() and again.y_valid.any()
    assert again.X_train is not data.splits("wine").X_train


def test_offline_without_a_copy_gives_one_clear_error(isolated):
    with pytest.raises(data.DataError) as error:
        data.locate("red-wine.csv", download=False)
    message = str(error.value)
    assert "red-wine.csv not found" in message and str(isolated / "cache") in message
    assert data.DATA_ENV in message


def test_a_platforms_attached_course_data_is_used_once_verified(isolated, monkeypatch, real_data, capsys):
    """Kaggle's dl-course-data, attached where the lesson reads it: an exact copy is used; a
    byte-different copy of a file the kit converts (the wine table written with other float
    round-off) is used when its table is the same; a damaged one is passed over, with the reason,
    for the next source (here the cache)."""
    kaggle = isolated / "kaggle" / "input" / "dl-course-data"
    kaggle.mkdir(parents=True)
    monkeypatch.setenv(data.ROOTS_ENV, str(isolated / "nothing-here") + os.pathsep + str(kaggle))
    shutil.copy(real_data["concrete.csv"], kaggle / "concrete.csv")
    assert data.locate("concrete.csv", download=False) == kaggle / "concrete.csv"
    pd.read_csv(real_data["red-wine.csv"]).to_csv(kaggle / "red-wine.csv", index=False, float_format="%.12g")
    assert data.sha256_of(kaggle / "red-wine.csv") != data.manifest()["red-wine.csv"]["sha256"]
    assert data.locate("red-wine.csv", download=False) == kaggle / "red-wine.csv"
    original = real_data["spotify.csv"].read_bytes()
    (kaggle / "spotify.csv").write_bytes(original[: len(original) // 2])
    (isolated / "cache").mkdir()
    shutil.copy(real_data["spotify.csv"], isolated / "cache" / "spotify.csv")
    capsys.readouterr()
    assert data.locate("spotify.csv", download=False) == isolated / "cache" / "spotify.csv"
    said = capsys.readouterr().err
    assert f"the copy at {kaggle / 'spotify.csv'} is not the course's file" in said and "looks for it elsewhere" in said
    (isolated / "cache" / "spotify.csv").unlink()
    with pytest.raises(data.DataError) as error:
        data.locate("spotify.csv", download=False)
    assert str(kaggle / "spotify.csv") in str(error.value)  # the error says where it looked


def test_kaggles_input_folder_is_where_the_kit_looks_by_default(monkeypatch):
    monkeypatch.delenv(data.ROOTS_ENV, raising=False)
    assert Path("/kaggle/input/dl-course-data") in data.attached_roots()


def test_corrupted_and_truncated_files_are_refused(isolated, monkeypatch, real_data):
    folder = isolated / "data"
    folder.mkdir()
    original = real_data["concrete.csv"].read_bytes()
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    (folder / "concrete.csv").write_bytes(original[: len(original) // 2])
    with pytest.raises(data.DataError, match="corrupted or not the expected file"):
        data.locate("concrete.csv", download=False)
    (folder / "concrete.csv").write_bytes(original.replace(b"79.99", b"79.98", 1))
    with pytest.raises(data.DataError, match="sha256"):
        data.locate("concrete.csv", download=False)


@pytest.fixture
def publisher(tmp_path, real_data):
    """A loopback HTTP server that serves each data set in its publisher's own form."""
    site = tmp_path / "site"
    site.mkdir()
    wine = pd.read_csv(real_data["red-wine.csv"])
    # UCI's semicolon form, its numbers written without the course copy's float round-off (other bytes)
    wine.to_csv(site / "winequality-red.csv", sep=";", index=False, float_format="%.12g")
    shutil.copy(real_data["spotify.csv"], site / "spotify_songs.csv")
    write_uci_concrete_xls(pd.read_csv(real_data["concrete.csv"]), site / "Concrete_Data.xls")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", site
    server.shutdown()


def write_uci_concrete_xls(frame, path: Path) -> None:
    """A real Excel 97 workbook shaped like UCI's Concrete_Data.xls: its long column titles, the
    age as a float, and the other values with more digits than the course's CSV keeps."""
    import xlwt

    titles = ["Cement (component 1)(kg in a m^3 mixture)", "Blast Furnace Slag (component 2)(kg in a m^3 mixture)",
              "Fly Ash (component 3)(kg in a m^3 mixture)", "Water  (component 4)(kg in a m^3 mixture)",
              "Superplasticizer (component 5)(kg in a m^3 mixture)",
              "Coarse Aggregate  (component 6)(kg in a m^3 mixture)", "Fine Aggregate (component 7)(kg in a m^3 mixture)",
              "Age (day)", "Concrete compressive strength(MPa, megapascals) "]
    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for column, title in enumerate(titles):
        sheet.write(0, column, title)
    noise = [0.0000001, -0.0000002]  # UCI's sheet holds values such as 79.98611076
    for row, values in enumerate(frame.itertuples(index=False), start=1):
        for column, value in enumerate(values):
            sheet.write(row, column, float(value) + (noise[row % 2] if column != 7 and value else 0.0))
    book.save(str(path))


def test_download_converts_and_verifies(isolated, monkeypatch, publisher):
    url, site = publisher
    monkeypatch.setenv(data.MIRROR_ENV, url)
    # The UCI wine file's own sha256 differs from our generated stand-in: check the content path.
    entry = dict(data.manifest()["red-wine.csv"], url_sha256=None)
    monkeypatch.setitem(data.manifest(), "red-wine.csv", entry)
    path = data.locate("red-wine.csv")
    assert path.parent == isolated / "cache"
    assert data.content_fingerprint(pd.read_csv(path)) == entry["content_sha256"]
    assert data.locate("red-wine.csv", download=False) == path  # the converted copy is served from the cache
    path.write_text(path.read_text().replace("7.4", "7.5", 1))
    with pytest.raises(data.DataError, match="corrupted or not the expected file"):
        data.locate("red-wine.csv", download=False)  # ... and a damaged one is still refused
    spotify = data.locate("spotify.csv")
    assert data.sha256_of(spotify) == data.manifest()["spotify.csv"]["sha256"]
    assert data.locate("spotify.csv", download=False) == spotify  # now served from the cache


def test_download_of_a_wrong_file_is_refused(isolated, monkeypatch, publisher):
    """A file with a published checksum (spotify) is refused by pooch before any conversion."""
    url, site = publisher
    (site / "spotify_songs.csv").write_text("track_id,track_name\n1,a\n")
    monkeypatch.setenv(data.MIRROR_ENV, url)
    with pytest.raises(data.DataError, match="the download failed: .*hash"):
        data.locate("spotify.csv")
    assert not (isolated / "cache" / "spotify.csv").exists()


def test_a_converted_download_with_other_values_is_refused_by_its_content(isolated, monkeypatch, publisher, real_data):
    """The publisher's workbook (no published checksum) converts fine but holds one other value:
    the content fingerprint of the parsed table refuses it, and nothing is kept in the cache."""
    url, site = publisher
    frame = pd.read_csv(real_data["concrete.csv"])
    frame.iloc[0, 0] += 1.0
    write_uci_concrete_xls(frame, site / "Concrete_Data.xls")
    monkeypatch.setenv(data.MIRROR_ENV, url)
    with pytest.raises(data.DataError, match="does not hold the expected data for concrete.csv") as error:
        data.locate("concrete.csv")
    assert "content fingerprint" in str(error.value) and data.manifest()["concrete.csv"]["content_sha256"] in str(error.value)
    assert not (isolated / "cache" / "concrete.csv").exists()
    assert not list((isolated / "cache").glob("concrete*.partial"))


def test_unreachable_publisher_says_where_it_looked(isolated, monkeypatch):
    monkeypatch.setenv(data.MIRROR_ENV, "http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(data.DataError) as error:
        data.locate("concrete.csv")
    assert "the download failed" in str(error.value) and "Looked in" in str(error.value)


def test_download_of_the_concrete_workbook_converts_and_verifies(isolated, monkeypatch, publisher):
    url, site = publisher
    monkeypatch.setenv(data.MIRROR_ENV, url)
    assert site.joinpath("Concrete_Data.xls").read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 workbook
    path = data.locate("concrete.csv")
    assert path.parent == isolated / "cache"
    assert data.content_fingerprint(pd.read_csv(path)) == data.manifest()["concrete.csv"]["content_sha256"]
    assert data.locate("concrete.csv", download=False) == path


def test_manifest_checksums_are_the_documented_ones(root):
    text = (root / "datasets" / "README.md").read_text()
    for name, entry in data.manifest().items():
        assert f"| {name} |" in text and entry["sha256"] in text


def test_the_command_without_its_data_stops_with_the_cause_not_a_traceback(tmp_path):
    """The grader's own data missing (no folder, no cache, the publisher unreachable): exit 2, the
    message that says how to provide it, and no traceback: nothing was graded."""
    import subprocess
    import sys

    from submissions import solution_notebook, write

    write(solution_notebook("spotify"), tmp_path / "submission", "spotify")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DROPOUT_KIT_")}
    env.update(DROPOUT_KIT_CACHE=str(tmp_path / "cache"), DROPOUT_KIT_MIRROR="http://127.0.0.1:9/nothing",
               DROPOUT_KIT_DATA_ROOTS=str(tmp_path / "none"))
    done = subprocess.run([sys.executable, "-m", "grader", str(tmp_path / "submission"), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "error: Data file" in done.stderr and "DROPOUT_KIT_DATA" in done.stderr
    assert "Traceback" not in done.stderr
