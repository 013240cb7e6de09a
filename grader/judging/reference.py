"""Read the calibration (``reference.json``) and turn it into thresholds.

Two figures are judged, each against its own calibrated threshold:

* the minimum val_loss over the epochs of the history: the tight figure (the final epoch's
  loss swings much more from seed to seed, measured below), which separates a wine model
  without batch normalization from the solution;
* the val_loss of the final trained weights, recomputed by the grader from the exported model
  (a forward pass). It cannot be forged, so it anchors the history: the history's last entry
  must equal it, and it must itself lie under its (wider) threshold.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..assignments import all_assignments, question
from ..base.i18n import t
from ..base.kinds import SEED

# Threshold rule: worst calibrated seed plus the calibrated spread (at least 1% of the worst).
MARGIN_OF_SPREAD = 1.0
MIN_RELATIVE_MARGIN = 0.01


def threshold(values: list[float]) -> float:
    worst, best = max(values), min(values)
    return worst + max(MARGIN_OF_SPREAD * (worst - best), MIN_RELATIVE_MARGIN * worst)


def false_fail_probability(values: list[float]) -> float:
    """P(a new run lands above the threshold) if runs are normal with the seeds' mean and sd."""
    mean, sd = statistics.mean(values), statistics.stdev(values)
    if sd == 0:
        return 0.0
    z = (threshold(values) - mean) / sd
    return statistics.NormalDist().cdf(-z)


def machine() -> dict:
    """What a calibration ran on: the device (CPU, or the GPU's name), versions, CPU, threads
    (recorded with its runs; the notebook's check compares its own runtime with it)."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return {
        "device": f"GPU: {tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'unknown')}"
                  if gpus else "CPU",
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": __import__("numpy").__version__,
        "python": sys.version.split()[0],
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


CONSTRAINTS_NAME = "constraints.txt"  # beside each reference.json
PINNED = ("tensorflow", "tensorflow-cpu", "keras", "numpy")  # what the bands depend on


def constraints(reference: dict, source: str = "reference.json") -> str:
    """pip's constraints file of the versions a reference was calibrated with: an environment built
    with it (``pip install -c``) trains as the calibration did. Its "# python X.Y" line names the
    interpreter, which pip cannot pin."""
    found = reference.get("machine", {})
    lines = [f"# The versions the val_loss bands in {source} were calibrated with ({reference.get('date', '?')}).",
             "# Written by `python -m grader calibrate`; Gradescope's setup.sh installs with it and checks it.",
             f"# python {'.'.join(found.get('python', '?').split('.')[:2])}"]
    for name in PINNED:
        version = found.get(name.split("-")[0])
        if version:
            lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def write_constraints(reference: dict, reference_path: Path) -> Path:
    path = Path(reference_path).with_name(CONSTRAINTS_NAME)
    path.write_text(constraints(reference, Path(reference_path).name))
    return path


class ReferenceMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Band:
    question: str
    low: float  # min val_loss over epochs: best and worst calibrated seed
    high: float
    threshold: float
    false_fail: float
    final_low: float  # val_loss of the final weights
    final_high: float
    final_threshold: float
    final_false_fail: float
    seeds: int
    curves: tuple  # per-seed val_loss curves of the solution, for the report's band
    loss_curves: tuple
    catches: tuple  # wrong variants whose every calibrated run lands above the threshold
    misses: tuple  # wrong variants the val_loss check alone cannot catch


@lru_cache(maxsize=None)
def read(path: Path) -> dict:
    if not Path(path).exists():
        raise ReferenceMissing(f"{path} is missing: run `python -m grader calibrate`.")
    return json.loads(Path(path).read_text())


def load(question_id: str) -> dict:
    """The reference file that calibrates ``question_id``: its assignment's (Assignment.reference)."""
    files = [unit.reference for unit in all_assignments() if unit.reference]
    for path in files:
        found = read(path)
        if any(v["question"] == question_id for v in found["variants"]):
            return found
    raise ReferenceMissing(f"no calibrated reference holds {question_id} (read: {', '.join(map(str, files))}); "
                           "run `python -m grader calibrate`.")


def check_files() -> None:
    """Read every assignment's reference file (a worker checks them before it grades)."""
    for unit in all_assignments():
        if unit.reference:
            read(unit.reference)


@lru_cache(maxsize=None)
def band(question_id: str) -> Band:
    variants = [v for v in load(question_id)["variants"] if v["question"] == question_id]
    solution = next(v for v in variants if v["correct"])
    values = [r["min_val_loss"] for r in solution["runs"]]
    finals = [r["evaluated_val_loss"] for r in solution["runs"]]
    limit, final_limit = threshold(values), threshold(finals)
    catches, misses = [], []
    for wrong in (v for v in variants if not v["correct"]):
        caught = all(
            not (r["min_val_loss"] <= limit and r["evaluated_val_loss"] <= final_limit)  # NaN: caught
            for r in wrong["runs"]
        )
        (catches if caught else misses).append(wrong["variant"])
    return Band(
        question=question_id,
        low=min(values),
        high=max(values),
        threshold=limit,
        false_fail=false_fail_probability(values),
        final_low=min(finals),
        final_high=max(finals),
        final_threshold=final_limit,
        final_false_fail=false_fail_probability(finals),
        seeds=len(values),
        curves=tuple(tuple(r["val_loss"]) for r in solution["runs"]),
        loss_curves=tuple(tuple(r["loss"]) for r in solution["runs"]),
        catches=tuple(catches),
        misses=tuple(misses),
    )


@dataclass(frozen=True)
class Comparison:
    """A calibrated wrong variant's validation curve, to draw beside a student's."""

    label: str
    val_loss: tuple  # per epoch; NaN where training had diverged
    seed: int

    @property
    def diverged_at(self) -> int | None:
        """The first epoch (1-based) whose val_loss is not finite, if any."""
        import math

        return next((epoch for epoch, value in enumerate(self.val_loss, 1) if not math.isfinite(value)), None)


def comparison_label(question_id: str, variant: str) -> str:
    return t(f"plot.comparison.{question_id}.{variant.replace(' ', '-')}")


def comparisons(question_id: str) -> list[Comparison]:
    """The runs that the question's plot shows for comparison (CodingQuestion.comparisons), each
    the calibrated run with the notebooks' seed: the run a student would get with that model."""
    try:
        names = question(question_id).comparisons
    except (KeyError, AttributeError):
        return []
    found = []
    for variant_name in names:
        label = comparison_label(question_id, variant_name)
        variant = next((v for v in load(question_id)["variants"]
                        if v["question"] == question_id and v["variant"] == variant_name), None)
        if variant is None or not variant["runs"]:
            continue
        run = next((r for r in variant["runs"] if r["seed"] == SEED), variant["runs"][0])
        found.append(Comparison(label, tuple(float(v) for v in run["val_loss"]), run["seed"]))
    return found
