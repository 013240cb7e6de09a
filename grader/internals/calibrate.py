"""Calibrate the under-the-hood assignment and write its reference file,
``grader/internals/reference.json``: ``python -m grader calibrate --assignment internals [--seeds N]``.

* Q4, the swap-in model (the concrete model with the solution's own batch normalization), is
  trained with the first assignment's protocol for N seeds; each run's lowest and final val_loss
  must land under the thresholds of the same model with Keras' layers (grader/reference.json,
  spotify_q3), which judge it.
* The dropout checks' binomial bound and the batch-normalization tolerances are recorded beside
  the runs (the tolerances are measured on the corpus by tests/test_internals_checks.py).
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

REFERENCE_PATH = Path(__file__).with_name("reference.json")


def swap_in_runs(seeds: int, log=print) -> list:
    from ..base.data import splits
    from ..base.quiet import import_tensorflow
    from ..base.training import evaluate
    from .questions import BATCHNORM, SWAP_IN, solution_code

    keras = import_tensorflow()
    from keras import layers, ops

    namespace = {"keras": keras, "layers": layers, "ops": ops}
    exec(solution_code(BATCHNORM), namespace)
    protocol = SWAP_IN.protocol
    X_train, X_valid, y_train, y_valid = splits(protocol.data)
    namespace["input_shape"] = [X_train.shape[1]]
    runs = []
    for seed in range(seeds):
        keras.utils.set_random_seed(seed)
        exec(SWAP_IN.solution_code, namespace)
        model = namespace["model"]
        model.compile(optimizer=protocol.optimizer, loss=protocol.loss)
        started = time.perf_counter()
        history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), batch_size=protocol.batch_size,
                            epochs=protocol.epochs, verbose=0).history
        seconds = time.perf_counter() - started
        runs.append({"seed": seed, "min_val_loss": float(min(history["val_loss"])),
                     "final_val_loss": float(history["val_loss"][-1]),
                     "evaluated_val_loss": evaluate(model, protocol), "fit_seconds": round(seconds, 2)})
        log(f"seed {seed}: lowest val_loss {runs[-1]['min_val_loss']:.4f}, "
            f"final {runs[-1]['evaluated_val_loss']:.4f} ({seconds:.0f} s)")
    return runs


def calibrate(seeds: int = 5, path: Path = REFERENCE_PATH, log=print) -> dict:
    from ..base.quiet import import_tensorflow

    import_tensorflow()  # first, with TensorFlow's start-up lines silenced
    from ..base.data import manifest
    from ..judging.reference import band, machine, write_constraints
    from . import checks
    from .questions import SWAP_IN

    reference = band(SWAP_IN.band_id)
    log(f"Keras-layer model ({reference.seeds} seeds): lowest val_loss {reference.low:.4f}-{reference.high:.4f}, "
        f"threshold {reference.threshold:.4f}; final {reference.final_low:.4f}-{reference.final_high:.4f}, "
        f"threshold {reference.final_threshold:.4f}")
    record = {
        "format": 1, "date": date.today().isoformat(), "machine": machine(),
        "data_sha256": {"concrete.csv": manifest()["concrete.csv"]["sha256"]},
        "swap_in": {"question": SWAP_IN.id, "judged_as": SWAP_IN.band_id, "runs": swap_in_runs(seeds, log)},
        "dropout": {"rate": checks.RATE, "units": checks.DROPOUT_SHAPE[0] * checks.DROPOUT_SHAPE[1],
                    "z": checks.Z_ONE_IN_A_MILLION, "half_width": checks.zero_fraction_bound()},
        "batchnorm": {"tolerance": checks.TOLERANCE, "gradient_tolerance": checks.GRADIENT_TOLERANCE,
                      "cases": [case for case, _ in checks.batchnorm_cases()], "steps": checks.TRAINING_STEPS},
    }
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
    write_constraints(record, Path(path))  # the versions it ran on, for pip install -c
    log(f"wrote {path}")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader calibrate --assignment internals", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    from ..judging.reference import band
    from .questions import SWAP_IN

    record = calibrate(args.seeds)
    reference = band(SWAP_IN.band_id)
    outside = [r["seed"] for r in record["swap_in"]["runs"]
               if r["min_val_loss"] > reference.threshold or r["evaluated_val_loss"] > reference.final_threshold]
    if outside:
        print(f"OUTSIDE the Keras-layer model's thresholds: seeds {outside}")
    return 1 if outside else 0


if __name__ == "__main__":
    raise SystemExit(main())
