"""A content-addressed training cache: grading costs one training per *distinct* training.

At a question's (locked) training cell the harness captures, in the student's kernel, everything
the training depends on: the model's configuration and the values of all its variables (the
dropout layers' seed-generator states included), the state of every random stream ``fit`` may
draw from (Python, NumPy, TensorFlow's global seed and operation-seed generator, Keras' global
seed generator) and the sha256 of the arrays it would train and validate on. The grader turns
that into a key, adding the protocol (compile and fit arguments), the TensorFlow, Keras and
NumPy versions, the CPU's instruction-set features and the kernels' thread settings.

The training itself never runs in the student's kernel when the cache is on: a separate
sandboxed *trainer* kernel, which runs only the kit's code, restores the captured state and
trains; the result (variables, history, random-stream states after the fit) is stored under the
key and loaded into the student's kernel, which then carries on as if it had trained. Student
code cannot write the cache (it is outside the sandbox) nor poison it (it never produces an
entry). Anything that cannot be captured (other data, unknown random state, a model whose
variables do not round-trip) makes the cell train in the student's kernel as before: a miss,
never a guess.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..base.i18n import t

FORMAT = 1  # bump when anything that defines an entry changes
CACHE_ENV = "DROPOUT_KIT_TRAINING_CACHE"  # a folder, or "off"
DEFAULT_MAX_BYTES = 2 * 1024**3
ENTRY_FILES = ("variables.npz", "history.json", "rng.json")


# ---------------------------------------------------------------------------------------------
# Kernel side: capture before training, restore after
# ---------------------------------------------------------------------------------------------

def _random_streams() -> dict:
    """The state of every random stream Keras' fit may draw from, as JSON."""
    import random

    import numpy as np
    from keras.src.backend.common import global_state
    from tensorflow.python.eager import context

    ctx = context.context()
    py = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    generator = global_state.get_global_attribute("global_seed_generator")
    return {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
        "tf_seed": ctx._seed,
        "tf_rng": None if ctx._rng is None else [ctx._rng.getstate()[0], list(ctx._rng.getstate()[1]), ctx._rng.getstate()[2]],
        "keras_global": None if generator is None else np.asarray(generator.state.numpy()).tolist(),
    }


def _restore_streams(state: dict) -> None:
    import random

    import numpy as np
    import tensorflow as tf
    from keras.src.backend.common import global_state
    from tensorflow.python.eager import context

    random.setstate((state["python"][0], tuple(state["python"][1]), state["python"][2]))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    if state["tf_seed"] is None:
        context.context()._seed = None
        context.context()._rng = None
    else:
        tf.random.set_seed(state["tf_seed"])
        if state["tf_rng"] is not None:
            context.context()._rng.setstate((state["tf_rng"][0], tuple(state["tf_rng"][1]), state["tf_rng"][2]))
    generator = global_state.get_global_attribute("global_seed_generator")
    if (generator is None) != (state["keras_global"] is None):
        raise RuntimeError("Keras' global seed generator differs")
    if generator is not None:
        generator.state.assign(np.asarray(state["keras_global"], dtype=generator.state.dtype))


def _array_digest(array) -> str:
    import numpy as np

    array = np.ascontiguousarray(array)
    head = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()


class _NotReusable(Exception):
    """A training the cache knowingly leaves to the notebook: ``reason`` is a message id's last
    part (training.why.<reason>), ``names`` the notebook's own layers when that is the reason."""

    def __init__(self, reason: str, names: str = ""):
        super().__init__(reason)
        self.reason, self.names = reason, names


def capture(namespace: dict, folder: str) -> None:
    """In the student's kernel, right before the training cell: write what the key needs to
    ``folder`` (model.keras, variables.npz, state.json), or state.json with ``ok: false``."""
    import numpy as np

    os.makedirs(folder, exist_ok=True)
    state = {"ok": False}
    try:
        import keras

        model = namespace.get("model")
        if not isinstance(model, keras.Model):
            raise _NotReusable("no-model")
        own = sorted({type(layer).__name__ for layer in model._flatten_layers(include_self=False)
                      if not type(layer).__module__.startswith("keras")})
        if own:  # the trainer runs only the kit's code: it cannot rebuild a class of the notebook's
            raise _NotReusable("notebook-layers", ", ".join(own))
        arrays = {name: namespace.get(name) for name in ("X_train", "X_valid", "y_train", "y_valid")}
        if not all(isinstance(a, np.ndarray) for a in arrays.values()):
            raise _NotReusable("data-not-arrays")
        model.save(os.path.join(folder, "model.keras"))
        np.savez(os.path.join(folder, "variables.npz"), *[np.asarray(v.numpy()) for v in model.variables])
        state = {"ok": True, "streams": _random_streams(),
                 "data": {name: _array_digest(a) for name, a in arrays.items()}}
    except _NotReusable as reason:
        state = {"ok": False, "reason": reason.reason, "notebook_layers": reason.names[:300]}
    except Exception as error:  # noqa: BLE001 - not cacheable: the cell trains as before
        state = {"ok": False, "reason": "not-captured", "why": f"{type(error).__name__}: {error}"[:300]}
    with open(os.path.join(folder, "state.json"), "w") as handle:
        json.dump(state, handle)


def restore(namespace: dict, folder: str, optimizer: str, loss: str, epochs: int) -> None:
    """In the student's kernel, instead of compile and fit: the trained state from the cache."""
    import numpy as np

    import keras

    model = namespace["model"]
    variables = list(model.variables)  # before compile adds its own
    values = np.load(os.path.join(folder, "variables.npz"))
    if len(values.files) != len(variables) or any(
            tuple(v.shape) != values[f"arr_{i}"].shape for i, v in enumerate(variables)):
        raise RuntimeError("the cached training does not fit this model")
    model.compile(optimizer=optimizer, loss=loss)
    for index, variable in enumerate(variables):
        variable.assign(values[f"arr_{index}"])
    history = keras.callbacks.History()
    history.set_model(model)
    with open(os.path.join(folder, "history.json")) as handle:
        history.history = json.load(handle)
    history.epoch = list(range(epochs))
    history.params = {"verbose": 0, "epochs": epochs}
    model.history = history
    with open(os.path.join(folder, "rng.json")) as handle:
        _restore_streams(json.load(handle))
    namespace["history"] = history


def train_captured(pre: str, post: str, data: str, optimizer: str, loss: str, batch_size: int, epochs: int,
                   progress: str | None = None) -> None:
    """In the trainer kernel (kit code only): restore the captured state, train, write the result."""
    import numpy as np

    import keras

    from grader.base.data import splits

    X_train, X_valid, y_train, y_valid = splits(data)
    # Built from the configuration the key hashed (nothing else of the file is trusted), then given
    # exactly the captured variables.
    with zipfile.ZipFile(os.path.join(pre, "model.keras")) as archive:
        config = json.loads(archive.read("config.json"))
    config.pop("compile_config", None)
    model = keras.models.model_from_json(json.dumps(config))
    values = np.load(os.path.join(pre, "variables.npz"))
    variables = list(model.variables)
    if len(values.files) != len(variables):
        raise RuntimeError("the model's variables do not round-trip")
    for index, variable in enumerate(variables):
        if tuple(variable.shape) != values[f"arr_{index}"].shape:
            raise RuntimeError("the model's variables do not round-trip")
        variable.assign(values[f"arr_{index}"])
    with open(os.path.join(pre, "state.json")) as handle:
        _restore_streams(json.load(handle)["streams"])
    callbacks = []
    if progress:
        class Epochs(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                with open(progress, "w") as handle:
                    handle.write(f"{epoch + 1} {self.params.get('epochs')}")
        callbacks.append(Epochs())
    model.compile(optimizer=optimizer, loss=loss)
    history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), batch_size=batch_size, epochs=epochs,
                        verbose=0, callbacks=callbacks)
    os.makedirs(post, exist_ok=True)
    np.savez(os.path.join(post, "variables.npz"), *[np.asarray(v.numpy()) for v in variables])
    with open(os.path.join(post, "history.json"), "w") as handle:
        json.dump({k: [float(v) for v in vs] for k, vs in history.history.items()}, handle)
    with open(os.path.join(post, "rng.json"), "w") as handle:
        json.dump(_random_streams(), handle)


# ---------------------------------------------------------------------------------------------
# Grader side: the key and the store
# ---------------------------------------------------------------------------------------------

def _without_names(value):
    """A model configuration without what differs between equal models: layer and model names,
    and the ids of shared objects (Python object ids, different in every process)."""
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in sorted(value.items()) if k not in ("name", "shared_object_id")}
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value


def cpu_features() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=None)
def installed_version(module: str) -> str:
    """The version of the distribution that provides ``module``, from its metadata: importing
    TensorFlow only to read its version would cost every grading process 5 s and 0.7 GB. (Where
    two distributions provide it, the module itself says which one is imported.) Once per process:
    reading every distribution's metadata takes a tenth of a second."""
    import importlib
    from importlib import metadata

    versions = {metadata.version(name) for name in _providers().get(module, [])}
    if len(versions) == 1:
        return versions.pop()
    return importlib.import_module(module).__version__


@lru_cache(maxsize=1)
def _providers() -> dict:
    from importlib import metadata

    return metadata.packages_distributions()


def environment_fingerprint(kernel_env: dict) -> dict:
    threads = {k: kernel_env.get(k) for k in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                                              "TF_ENABLE_ONEDNN_OPTS")}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"format": FORMAT, "tensorflow": installed_version("tensorflow"), "keras": installed_version("keras"),
            "numpy": installed_version("numpy"), "python": sys.version.split()[0], "cpu": cpu_features(), "cores": cores,
            "threads": threads}


def canonical_data(data: str) -> dict:
    from ..base.data import splits

    parts = splits(data)
    return {"X_train": _array_digest(parts.X_train), "X_valid": _array_digest(parts.X_valid),
            "y_train": _array_digest(parts.y_train), "y_valid": _array_digest(parts.y_valid)}


def key_for(pre: Path, protocol, environment: dict) -> tuple[str | None, str]:
    """(key, "") for a cacheable training, else (None, the training note that says why not)."""
    import numpy as np

    try:
        state = json.loads((pre / "state.json").read_text())
    except (OSError, ValueError):
        return None, t("training.not-reusable", why=t("training.why.not-captured"))
    if not state.get("ok"):
        reason = state.get("reason")
        if reason == "no-model":  # the answer cell left no model: its own message says why
            return None, t("training.no-model")
        if reason == "notebook-layers":
            return None, t("training.not-reusable", why=t("training.why.notebook-layers",
                                                           names=state.get("notebook_layers", "")))
        return None, t("training.not-reusable", why=t(
            "training.why.data-not-arrays" if reason == "data-not-arrays" else "training.why.not-captured"))
    if state.get("data") != canonical_data(protocol.data):
        return None, t("training.not-reusable", why=t("training.why.other-data"))
    try:
        with zipfile.ZipFile(pre / "model.keras") as archive:
            config = json.loads(archive.read("config.json"))
        digest = hashlib.sha256()
        with np.load(pre / "variables.npz") as values:
            for name in values.files:
                digest.update(_array_digest(values[name]).encode())
    except Exception:  # noqa: BLE001
        return None, t("training.not-reusable", why=t("training.why.unreadable-model"))
    config.pop("compile_config", None)
    material = {"model": _without_names(config), "variables": digest.hexdigest(), "streams": state["streams"],
                "data": state["data"], "protocol": [protocol.data, protocol.optimizer, protocol.loss,
                                                    protocol.batch_size, protocol.epochs],
                "environment": environment}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest(), ""


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Lookup:
    folder: Path | None  # the verified entry, or None
    damaged: str = ""  # why an entry was discarded


class TrainingCache:
    """Entries are folders ``<key[:2]>/<key>/`` with the three result files and ``entry.json``
    (their sha256). Written to a temporary folder and renamed into place, so a reader never sees a
    torn entry and concurrent writers of one key keep the first. Least recently used entries are
    evicted beyond ``max_bytes``."""

    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.folder, self.max_bytes = Path(folder), max_bytes

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def training(self, key: str):
        """Held while ``key`` is looked up and, on a miss, trained and stored: another grading
        process on this machine that needs the same training waits and then reads the entry,
        instead of training it a second time (on a Dask cluster, trainer.cluster_lock does the same
        across machines). Where no lock file can be made (a read-only or full folder), no lock."""
        import contextlib
        import fcntl

        @contextlib.contextmanager
        def held():
            try:
                locks = self.folder / ".locks"
                locks.mkdir(parents=True, exist_ok=True)
                handle = open(locks / key, "a")
            except OSError:
                yield
                return
            with handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                yield

        return held()

    def get(self, key: str) -> Lookup:
        entry = self._entry(key)
        if not entry.is_dir():
            return Lookup(None)
        try:
            sums = json.loads((entry / "entry.json").read_text())["sha256"]
            if all(_sha256_file(entry / name) == sums[name] for name in ENTRY_FILES):
                os.utime(entry / "entry.json")  # recently used
                return Lookup(entry)
            why = "a file did not match its checksum"
        except (OSError, ValueError, KeyError) as error:
            why = "it was incomplete"
        shutil.rmtree(entry, ignore_errors=True)
        return Lookup(None, damaged=f"a damaged cache entry was discarded and the model retrained: {why}")

    def put(self, key: str, result: Path) -> Path | None:
        """Store the trainer's ``result`` under ``key``; the entry, or None when it could not be
        written (a full disk, a read-only folder): then nothing half-written stays, and the caller
        uses ``result`` itself. A grade never depends on the cache."""
        entry, staging = self._entry(key), None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=entry.parent))
            for name in ENTRY_FILES:
                shutil.copyfile(result / name, staging / name)
            (staging / "entry.json").write_text(json.dumps(
                {"key": key, "created": time.time(), "sha256": {n: _sha256_file(staging / n) for n in ENTRY_FILES}}))
        except OSError:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            return None
        try:
            os.rename(staging, entry)
        except OSError:  # another writer was first: keep theirs
            shutil.rmtree(staging, ignore_errors=True)
        self.evict()
        return entry

    def evict(self) -> None:
        """The least recently used entries go until the cache fits ``max_bytes``. Other graders may
        evict at the same time: an entry that vanishes meanwhile is simply gone."""
        try:
            entries = [(p.joinpath("entry.json").stat().st_mtime if p.joinpath("entry.json").exists() else 0, p)
                       for p in self.folder.glob("??/*") if p.is_dir() and not p.name.startswith(".")]
            sizes = {p: sum(f.stat().st_size for f in p.iterdir() if f.is_file()) for _, p in entries}
        except OSError:
            return
        total = sum(sizes.values())
        for _, path in sorted(entries, key=lambda item: item[0]):
            if total <= self.max_bytes:
                break
            shutil.rmtree(path, ignore_errors=True)
            total -= sizes[path]


def default_folder() -> Path | None:
    """The folder named by DROPOUT_KIT_TRAINING_CACHE (``off``: None), else the user cache's."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    from ..base.data import cache_dir

    return cache_dir() / "training"


def default_cache() -> TrainingCache | None:
    """The cache named by DROPOUT_KIT_TRAINING_CACHE (``off`` for none), else the user cache."""
    folder = default_folder()
    return None if folder is None else TrainingCache(folder)
