"""Records that cross from a student's sandboxed kernel to the grader: JSON for the structure,
NumPy arrays in an ``.npz`` beside it. Never pickle: the files are written where student code
runs, so reading them must not run anything (``allow_pickle=False``) and must refuse what is
not plain numbers, strings and lists.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RECORD, ARRAYS = "record.json", "arrays.npz"
MAX_BYTES = 64 * 2**20  # a record larger than this was not written by the kit's own probe


class DamagedRecord(Exception):
    """The record is missing, too large or not the shape the kit writes."""


def save(folder: Path, record: dict) -> None:
    """Kernel side: write ``record`` (dicts, lists, str, numbers, bools, None, arrays)."""
    arrays: dict = {}

    def encode(value):
        if isinstance(value, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = value
            return {"$array": name}
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, (np.floating, np.integer, np.bool_)):
            return value.item()
        return value

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    structure = encode(record)
    np.savez(folder / ARRAYS, **arrays)
    (folder / RECORD).write_text(json.dumps(structure))


def load(folder: Path) -> dict:
    """Grader side: the record, arrays restored; ``DamagedRecord`` if anything is off."""
    folder = Path(folder)
    try:
        if sum(f.stat().st_size for f in (folder / RECORD, folder / ARRAYS)) > MAX_BYTES:
            raise DamagedRecord(f"larger than {MAX_BYTES // 2**20} MB")
        structure = json.loads((folder / RECORD).read_text())
        with np.load(folder / ARRAYS, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except DamagedRecord:
        raise
    except (OSError, ValueError) as error:
        raise DamagedRecord(str(error) or type(error).__name__) from None  # read by a student: no "Error:" form

    def decode(value):
        if isinstance(value, dict):
            if set(value) == {"$array"}:
                array = arrays.get(value["$array"])
                if array is None or array.dtype.kind not in "biuf":
                    raise DamagedRecord(f"array {value['$array']!r} is missing or not numeric")
                return array
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    record = decode(structure)
    if not isinstance(record, dict):
        raise DamagedRecord("not a record")
    return record
