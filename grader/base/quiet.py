"""Import TensorFlow without its start-up lines.

TensorFlow writes some lines ("All log messages before absl::InitializeLog() ...", the oneDNN
notice) straight to file descriptor 2 while it is imported, before ``TF_CPP_MIN_LOG_LEVEL``
applies. ``TF_ENABLE_ONEDNN_OPTS=0`` would silence the notice but change the numerics (and so the
calibration), so instead the import runs with descriptor 2 pointed at /dev/null. Used by the
notebooks' setup cells, the grader process and pytest: students never see those lines.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

_lock = threading.Lock()
_ready: list = []  # non-empty once this module has finished importing TensorFlow and Keras
# The grader's own messages go here, so that they are not lost while descriptor 2 is silenced.
_terminal = None


def terminal():
    """A stream on the process's original standard error (made once, before any silencing)."""
    global _terminal
    if _terminal is None:
        try:
            _terminal = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
        except (AttributeError, OSError, ValueError):  # no real descriptor (some notebook front ends)
            _terminal = sys.stderr
    return _terminal


@contextlib.contextmanager
def descriptor_2_silenced():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except OSError:  # no descriptor 2 at all: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """``import tensorflow, keras`` with TensorFlow's start-up log silenced; returns keras.

    The check happens under the lock that the importing thread holds: a module that another
    thread is still importing is in ``sys.modules`` half-initialized (the grader imports Keras in
    the background while the first kernel starts)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    terminal()
    with _lock:
        if "keras" in sys.modules and "tensorflow" in sys.modules and _ready:
            return sys.modules["keras"]
        try:
            with descriptor_2_silenced():
                import tensorflow  # noqa: F401
                import keras
        except ModuleNotFoundError as error:
            if error.name != "tensorflow":
                raise
            raise ModuleNotFoundError(TENSORFLOW_MISSING, name="tensorflow") from None
        _ready.append(True)
    return keras


TENSORFLOW_MISSING = (
    "TensorFlow is not installed here, and the kit needs it. Hosted notebooks (Kaggle, Colab, most "
    "JupyterHub images) have it already; elsewhere install the kit with its CPU TensorFlow: "
    "pip install \"dropout-batchnorm-kit[cpu]\" (or, in a clone, pip install -e \".[cpu]\").")
