"""The trainer kernel: a sandboxed kernel that runs only the kit's code and does the trainings
the training cache stores (see training_cache.py), so that no entry ever comes from student code.

One trainer serves a whole submission. It starts with the grading, in the background, so that
its start-up overlaps the student's kernel's.
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from ..base.student_errors import described
from .sandbox import DEFAULT_MEMORY_LIMIT, kernel_manager_class


class TrainerFailed(RuntimeError):
    """The trainer could not train: the cell trains in the student's kernel instead."""


class Trainer:
    def __init__(self, workdir: Path, env: dict, memory_limit: int | None = DEFAULT_MEMORY_LIMIT):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        manager = kernel_manager_class(memory_limit, blocking=True)
        self.km = manager(kernel_name="python3")
        self.km.start_kernel(cwd=str(self.workdir), env=env, stderr=subprocess.DEVNULL)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.count = 0

    def warm(self) -> None:
        """Have the trainer import TensorFlow and read the data now (does not wait for it)."""
        self.kc.wait_for_ready(timeout=120)
        self.kc.execute("from grader.base.quiet import import_tensorflow\nimport_tensorflow()\n"
                        "from grader.base.data import SPLITS, splits\nfor _name in SPLITS:\n"
                        "    splits(_name)", silent=True)

    def train(self, pre: Path, protocol, progress: Path | None = None, timeout: int = 1800) -> Path:
        """Train from a captured state; returns the folder with the result files."""
        try:
            self.kc.wait_for_ready(timeout=120)
        except RuntimeError as error:  # the trainer did not start or died
            raise TrainerFailed(str(error)) from None
        self.count += 1
        job = self.workdir / f"job-{self.count}"
        shutil.copytree(pre, job / "pre")
        self.km.hand_over(job)  # the trainer writes its result beside it (as the kernel's user, if it has one)
        code = ("from grader.running.training_cache import train_captured\n"
                f"train_captured({str(job / 'pre')!r}, {str(job / 'post')!r}, {protocol.data!r}, "
                f"{protocol.optimizer!r}, {protocol.loss!r}, {protocol.batch_size}, {protocol.epochs}, "
                f"{str(progress) if progress else None!r})")
        try:
            reply = self._run(code, timeout)
        except TimeoutError as error:
            raise TrainerFailed(str(error)) from None
        if reply["status"] != "ok":
            raise TrainerFailed(f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"[:300])
        return job / "post"

    def _run(self, code: str, timeout: int) -> dict:
        """Execute and wait for the reply, checking every second that the trainer is alive (a
        trainer killed by the memory limit must not leave grading waiting for the timeout)."""
        import queue
        import time

        msg_id = self.kc.execute(code, silent=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.kc.get_shell_msg(timeout=1)
            except queue.Empty:
                if not self.km.is_alive():
                    raise TimeoutError("the trainer kernel died") from None
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return message["content"]
        raise TimeoutError(f"the training took longer than {timeout} s")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.kc.stop_channels()
        with contextlib.suppress(Exception):
            self.km.shutdown_kernel(now=True)


class TrainingSession:
    """What one grading run needs to train through the cache: the store, the kernels'
    environment (its fingerprint is part of every key) and a trainer. ``start()`` launches the
    trainer in the background, where it imports TensorFlow and reads the data while the student's
    kernel starts, so that a training the cache does not hold costs no more than in the notebook."""

    def __init__(self, cache, env: dict, scratch: Path, memory_limit: int | None = DEFAULT_MEMORY_LIMIT):
        self.cache, self.env, self.scratch, self.memory_limit = cache, env, Path(scratch), memory_limit
        self._trainer: Trainer | None = None
        self._fingerprint: dict | None = None
        self._starting = None  # the thread that starts the trainer

    def start(self) -> None:
        """Launch the trainer here (bubblewrap's --die-with-parent follows the launching thread,
        so it must be one that lives on) and let a helper thread wait for it and warm it."""
        import threading

        try:
            self._trainer = Trainer(self.scratch / "trainer", self.env, self.memory_limit)
        except Exception:  # noqa: BLE001 - trainer() tries again and says why when it is needed
            self._trainer = None
            return

        def warm():
            try:
                self._trainer.warm()
            except Exception:  # noqa: BLE001 - train() reports a trainer that does not answer
                pass

        self._starting = threading.Thread(target=warm, daemon=True, name="warm-trainer")
        self._starting.start()

    def fingerprint(self) -> dict:
        if self._fingerprint is None:
            from .training_cache import environment_fingerprint

            self._fingerprint = environment_fingerprint(self.env)
        return self._fingerprint

    def trainer(self) -> Trainer:
        if self._starting is not None:  # hand the trainer over from the thread that started it
            self._starting.join()
            self._starting = None
        if self._trainer is None:
            try:
                self._trainer = Trainer(self.scratch / "trainer", self.env, self.memory_limit)
            except Exception as error:  # noqa: BLE001 - the cell trains in the notebook instead
                raise TrainerFailed("the trainer kernel did not start: "
                                    + described(type(error).__name__, str(error))) from None
        return self._trainer

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
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
