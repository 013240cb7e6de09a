"""Find the lesson's data sets by checksum, and split them exactly as the notebooks do.

Lookup order for a file such as ``red-wine.csv``:

1. the folder named by ``DROPOUT_KIT_DATA`` (a course's shared copy; inside the sandbox, the
   files the grader verified);
2. the course data a hosted platform attached: Kaggle's ``dl-course-data`` data set, where the
   lesson reads it (``/kaggle/input/dl-course-data``, ``../input/dl-course-data``), or the folders
   named by ``DROPOUT_KIT_DATA_ROOTS`` (separated by ``os.pathsep``) instead; a copy that fails
   verification is passed over, with the reason on stderr;
3. the local cache (``DROPOUT_KIT_CACHE``, else the user's cache folder);
4. a download from the original publisher (or from ``DROPOUT_KIT_MIRROR``, a base URL that
   serves the publishers' file names), converted to the course's CSV form and verified.

A file is only used when its sha256 matches ``datasets/manifest.json``. A converted download
is verified by a content fingerprint (the parsed table), because the publishers ship other
byte forms (UCI's wine file is semicolon-separated, its concrete file is an Excel sheet).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_ENV = "DROPOUT_KIT_DATA"
CACHE_ENV = "DROPOUT_KIT_CACHE"
MIRROR_ENV = "DROPOUT_KIT_MIRROR"
ROOTS_ENV = "DROPOUT_KIT_DATA_ROOTS"
# Where Kaggle attaches the course's data set (the lesson's notebooks read ../input/dl-course-data/).
PLATFORM_ROOTS = ("/kaggle/input/dl-course-data", "../input/dl-course-data")


def attached_roots() -> list[Path]:
    """The folders where a platform may have attached the course's data: DROPOUT_KIT_DATA_ROOTS,
    else Kaggle's."""
    setting = os.environ.get(ROOTS_ENV)
    return [Path(p) for p in (setting.split(os.pathsep) if setting is not None else PLATFORM_ROOTS) if p]


class DataError(RuntimeError):
    """A data file could not be found or failed verification; the message says what to do."""


@lru_cache(maxsize=1)
def manifest() -> dict:
    from .resources import manifest_path

    return json.loads(manifest_path().read_text())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_fingerprint(frame) -> str:
    """sha256 of the table's values at 10 significant digits: equal for byte-different copies."""
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    import pooch

    return Path(pooch.os_cache("dropout-batchnorm-kit"))


def _entry(name: str) -> dict:
    try:
        return manifest()[name]
    except KeyError:
        raise DataError(f"Unknown data set {name!r}; the kit knows {sorted(manifest())}.") from None


def _verified(path: Path, entry: dict, by_content: bool = False) -> Path:
    """``path`` if it is the expected file: the same bytes, or (``by_content``, for a copy the kit
    converted from the publisher's form) the same table."""
    found = sha256_of(path)
    if _is_expected(path, found, entry, by_content):
        return path
    raise DataError(
        f"{path} is corrupted or not the expected file: sha256 {found}, expected {entry['sha256']}. "
        "Delete it and provide a good copy (see datasets/README.md)."
    )


def _is_expected(path: Path, sha256: str, entry: dict, by_content: bool) -> bool:
    """The same bytes, or (``by_content``: a copy the kit converts) the same parsed table."""
    return sha256 == entry["sha256"] or by_content and _content_of(path) == entry["content_sha256"]


def _content_of(path: Path) -> str | None:
    import pandas as pd

    try:
        return content_fingerprint(pd.read_csv(path))
    except Exception:  # noqa: BLE001 - unreadable is simply not the expected table
        return None


def locate(name: str, download: bool = True) -> Path:
    """Return the path of a verified copy of ``name``, downloading it if needed and allowed."""
    entry = _entry(name)
    looked = []
    if os.environ.get(DATA_ENV):
        candidate = Path(os.environ[DATA_ENV]) / name
        looked.append(str(candidate))
        if candidate.is_file():  # it may be a converted copy that the grader's cache holds
            return _verified(candidate, entry, by_content=entry["convert"] != "none")
    for root in attached_roots():
        candidate = root / name
        if candidate.is_file():
            looked.append(str(candidate))
            found = _attached_copy(candidate, entry)
            if found is not None:
                return found
    cached = cache_dir() / name
    looked.append(str(cached))
    if cached.is_file():
        return _verified(cached, entry, by_content=entry["convert"] != "none")
    if not download:
        raise DataError(_missing_message(name, looked, "downloads are switched off"))
    try:
        return _download(name, entry, cached)
    except DataError:
        raise
    except Exception as error:  # network, HTTP, or a publisher that changed its file
        raise DataError(_missing_message(name, looked, f"the download failed: {error}")) from None


def _attached_copy(path: Path, entry: dict) -> Path | None:
    """A platform's copy, verified as a download is (its sha256, or the parsed table's content
    fingerprint for a file the kit converts); None, with the reason on stderr, if it is not the file."""
    by_content = entry["convert"] != "none"
    found = sha256_of(path)
    if _is_expected(path, found, entry, by_content):
        return path
    import sys

    expected = "its content" if by_content else f"sha256 {entry['sha256']}"
    print(f"{path.name}: the copy at {path} is not the course's file (sha256 {found}; expected {expected}); "
          "the kit looks for it elsewhere.", file=sys.stderr)
    return None


def _missing_message(name: str, looked: list[str], why: str) -> str:
    return (
        f"Data file {name} not found. Looked in: {', '.join(looked)}; {why}.\n"
        f"Provide it by setting {DATA_ENV} to a folder holding {name} "
        f"(sha256 {_entry(name)['sha256']}), or connect to the internet so that the kit can "
        "download it from its publisher (see datasets/README.md)."
    )


def _download(name: str, entry: dict, target: Path) -> Path:
    import pooch

    url = entry["url"]
    if os.environ.get(MIRROR_ENV):
        url = os.environ[MIRROR_ENV].rstrip("/") + "/" + url.rsplit("/", 1)[-1]
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = pooch.retrieve(
        url,
        known_hash=f"sha256:{entry['url_sha256']}" if entry.get("url_sha256") else None,
        path=target.parent / "downloads",
        progressbar=False,
    )
    convert = CONVERTERS[entry["convert"]]
    partial = target.with_suffix(".partial")
    convert(Path(raw), partial)
    try:
        _verified(partial, entry, by_content=True)
    except DataError:
        got = _content_of(partial)
        partial.unlink()
        raise DataError(
            f"The file downloaded from {url} does not hold the expected data for {name} "
            f"(content fingerprint {got}, expected {entry['content_sha256']})."
        ) from None
    os.replace(partial, target)
    return target


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _semicolon_csv(source: Path, target: Path) -> None:
    import pandas as pd

    pd.read_csv(source, sep=";").to_csv(target, index=False)


CONCRETE_COLUMNS = [
    "Cement", "BlastFurnaceSlag", "FlyAsh", "Water", "Superplasticizer",
    "CoarseAggregate", "FineAggregate", "Age", "CompressiveStrength",
]


def _concrete_xls(source: Path, target: Path) -> None:
    import pandas as pd

    try:
        sheet = pd.read_excel(source)
    except ImportError as error:
        raise DataError(
            "Reading UCI's Concrete_Data.xls needs the 'xlrd' package: pip install xlrd"
        ) from error
    sheet.columns = CONCRETE_COLUMNS
    sheet[CONCRETE_COLUMNS[:7]] = sheet[CONCRETE_COLUMNS[:7]].round(1) + 0.0  # + 0.0: no "-0.0"
    sheet["Age"] = sheet["Age"].round().astype(int)
    sheet["CompressiveStrength"] = sheet["CompressiveStrength"].round(2) + 0.0
    buffer = io.StringIO()
    sheet.to_csv(buffer, index=False)
    target.write_text(buffer.getvalue())


CONVERTERS = {"none": _copy, "semicolon_csv": _semicolon_csv, "concrete_xls": _concrete_xls}


# ---------------------------------------------------------------------------------------------
# The splits. The notebooks, the grader and the calibration all call these, so that a model is
# always trained and judged on the same rows.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Splits:
    X_train: object
    X_valid: object
    y_train: object
    y_valid: object

    def __iter__(self):
        return iter((self.X_train, self.X_valid, self.y_train, self.y_valid))


def read(name: str):
    import pandas as pd

    return pd.read_csv(locate(name))


def _as_arrays(X_train, X_valid, y_train, y_valid) -> Splits:
    import numpy as np

    return Splits(*(np.asarray(part, dtype="float32") for part in (X_train, X_valid, y_train, y_valid)))


def _wine_splits() -> Splits:
    """Read and split, once per process: see ``wine_splits``."""
    red_wine = read("red-wine.csv")
    df_train = red_wine.sample(frac=0.7, random_state=0)
    df_valid = red_wine.drop(df_train.index)
    return _as_arrays(
        df_train.drop("quality", axis=1), df_valid.drop("quality", axis=1),
        df_train["quality"], df_valid["quality"],
    )


SPOTIFY_NUMERIC = [
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
]


def _spotify_splits() -> Splits:
    """Read and split, once per process: see ``spotify_splits``."""
    from sklearn.compose import make_column_transformer
    from sklearn.model_selection import GroupShuffleSplit
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    spotify = read("spotify.csv").dropna()
    X = spotify[SPOTIFY_NUMERIC + ["playlist_genre"]]
    y = spotify["track_popularity"] / 100
    preprocessor = make_column_transformer(
        (StandardScaler(), SPOTIFY_NUMERIC),
        (OneHotEncoder(), ["playlist_genre"]),
    )
    splitter = GroupShuffleSplit(train_size=0.75, random_state=0)
    train, valid = next(splitter.split(X, y, groups=spotify["track_artist"]))
    X_train = preprocessor.fit_transform(X.iloc[train])
    X_valid = preprocessor.transform(X.iloc[valid])
    return _as_arrays(X_train, X_valid, y.iloc[train], y.iloc[valid])


def _concrete_splits() -> Splits:
    """Read and split, once per process: see ``concrete_splits``."""
    concrete = read("concrete.csv")
    df_train = concrete.sample(frac=0.7, random_state=0)
    df_valid = concrete.drop(df_train.index)
    return _as_arrays(
        df_train.drop("CompressiveStrength", axis=1), df_valid.drop("CompressiveStrength", axis=1),
        df_train["CompressiveStrength"], df_valid["CompressiveStrength"],
    )


SPLITS = {"wine": _wine_splits, "spotify": _spotify_splits, "concrete": _concrete_splits}


@lru_cache(maxsize=None)
def splits(name: str) -> Splits:
    """The named split, computed once per process: the one copy the process keeps (the grader
    reads it; notebooks get copies through the functions below)."""
    return SPLITS[name]()


def _fresh(name: str) -> Splits:
    """A copy of the named split, for a notebook to change as it likes: a second call gives the
    original again, as if the files were read again (they are read once per process; a kernel
    forked from the fork server finds them read)."""
    return Splits(*(part.copy() for part in splits(name)))


def wine_splits() -> Splits:
    """Red wine: 70/30 random split (random_state=0), unstandardized, target ``quality``."""
    return _fresh("wine")


def spotify_splits() -> Splits:
    """Spotify: 12 standardized audio features + one-hot genre (18 inputs), popularity / 100,
    split by artist (GroupShuffleSplit, 75% train, random_state=0) so no artist is in both."""
    return _fresh("spotify")


def concrete_splits() -> Splits:
    """Concrete: 70/30 random split (random_state=0), unstandardized, target CompressiveStrength."""
    return _fresh("concrete")
