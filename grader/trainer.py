"""The trainer kernel: a sandboxed kernel that runs only the kit's code and does the trainings
the training cache stores (see training_cache.py), so that no entry ever comes from student code.

One trainer serves a whole submission. Its process starts with the grading (while the student's
kernel starts) and imports TensorFlow while the first notebook's cells run, so a training that
is not in the cache costs what it costs in the notebook.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from .sandbox import DEFAULT_MEMORY_LIMIT, kernel_manager_class

WARM_UP = ("from grader.quiet import import_tensorflow\nimport_tensorflow()\n"
           "from grader.data import splits\nfor _name in ('wine', 'spotify', 'concrete'):\n    splits(_name)")


class TrainerFailed(RuntimeError):
    """The trainer could not train: the cell trains in the student's kernel instead."""


class Trainer:
    def __init__(self, workdir: Path, env: dict, memory_limit: int | None = DEFAULT_MEMORY_LIMIT):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = env
        manager = kernel_manager_class(memory_limit, blocking=True)
        self.km = manager(kernel_name="python3")
        self.km.start_kernel(cwd=str(self.workdir), env=env, stderr=subprocess.DEVNULL)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.warmed = False
        self.count = 0

    def warm(self) -> None:
        """Start importing TensorFlow and reading the data in the trainer (does not wait)."""
        if not self.warmed:
            self.kc.wait_for_ready(timeout=120)
            self.kc.execute(WARM_UP, silent=True)
            self.warmed = True

    def train(self, pre: Path, protocol, progress: Path | None = None, timeout: int = 1800) -> Path:
        """Train from a captured state; returns the folder with the result files."""
        self.warm()
        self.count += 1
        job = self.workdir / f"job-{self.count}"
        shutil.copytree(pre, job / "pre")
        code = ("from grader.training_cache import train_captured\n"
                f"train_captured({str(job / 'pre')!r}, {str(job / 'post')!r}, {protocol.data!r}, "
                f"{protocol.optimizer!r}, {protocol.loss!r}, {protocol.batch_size}, {protocol.epochs}, "
                f"{str(progress) if progress else None!r})")
        errors = []

        def keep_errors(message):
            if message["msg_type"] == "error":
                errors.append(f"{message['content']['ename']}: {message['content']['evalue']}")

        try:
            reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=keep_errors)
        except Exception as error:  # noqa: BLE001 - a timeout or a dead trainer
            raise TrainerFailed(f"{type(error).__name__}: {error}") from None
        if reply["content"]["status"] != "ok":
            raise TrainerFailed(errors[0] if errors else reply["content"].get("evalue", "failed"))
        return job / "post"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)


class TrainingSession:
    """What one grading run needs to train through the cache: the store, the kernels'
    environment (its fingerprint is part of every key) and a trainer started at the first miss."""

    def __init__(self, cache, env: dict, scratch: Path, memory_limit: int | None = DEFAULT_MEMORY_LIMIT):
        self.cache, self.env, self.scratch, self.memory_limit = cache, env, Path(scratch), memory_limit
        self._trainer: Trainer | None = None
        self._fingerprint: dict | None = None

    def fingerprint(self) -> dict:
        if self._fingerprint is None:
            from .training_cache import environment_fingerprint

            self._fingerprint = environment_fingerprint(self.env)
        return self._fingerprint

    def trainer(self) -> Trainer:
        if self._trainer is None:
            self._trainer = Trainer(self.scratch / "trainer", self.env, self.memory_limit)
        return self._trainer

    def close(self) -> None:
        if self._trainer is not None:
            self._trainer.close()
            self._trainer = None


def cluster_lock(key: str):
    """On a Dask worker, a cluster-wide lock per key (one worker trains, the others wait and
    then read the entry); elsewhere nothing."""
    try:
        from distributed import Lock, get_worker

        get_worker()
    except (ImportError, ValueError):
        return contextlib.nullcontext()
    return Lock(f"kit-training-{key}")
