"""Calibrate the validation-loss checks: train each known answer over several seeds and write
``grader/lesson/reference.json`` (per-seed figures, versions, CPU, thread count, data sha256s);
the thresholds are made from it by judging/reference.py's rule.

Run: ``python -m grader calibrate`` (about 30 minutes on 2 CPU cores).
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from ..base.kinds import Variant
from ..judging.reference import (MARGIN_OF_SPREAD, MIN_RELATIVE_MARGIN, false_fail_probability, machine, threshold,
                                 write_constraints)
from .questions import CALIBRATION_VARIANTS

REFERENCE_PATH = Path(__file__).with_name("reference.json")
FORMAT_VERSION = 1
def run_variant(variant: Variant, log=print) -> dict:
    from ..base.training import evaluate, train

    q = variant.question
    runs = []
    for seed in variant.seeds:
        run = train(variant.code, q.expected.input_dim, q.protocol, seed=seed)
        evaluated = evaluate(run.model, q.protocol)
        runs.append({
            "seed": seed,
            "min_val_loss": run.min_val_loss,
            "final_val_loss": run.final_val_loss,
            "evaluated_val_loss": evaluated,
            "fit_seconds": round(run.seconds, 2),
            "val_loss": run.history["val_loss"],
            "loss": run.history["loss"],
        })
        log(f"{q.id:12s} {variant.name:24s} seed {seed}: min {run.min_val_loss:.4f} "
            f"final {run.final_val_loss:.4f} evaluated {evaluated:.4f} ({run.seconds:.1f} s)")
    return {"question": q.id, "variant": variant.name, "correct": variant.correct, "note": variant.note, "runs": runs}


def calibrate(variants=CALIBRATION_VARIANTS, path: Path = REFERENCE_PATH, log=print) -> dict:
    from ..base import data

    results = [run_variant(v, log) for v in variants]
    reference = {
        "format": FORMAT_VERSION,
        "date": date.today().isoformat(),
        "machine": machine(),
        "data_sha256": {name: entry["sha256"] for name, entry in data.manifest().items()},
        "rule": (f"for min val_loss over epochs and for the final weights' val_loss alike: threshold = "
                 f"max over seeds + max({MARGIN_OF_SPREAD} x (max - min), {MIN_RELATIVE_MARGIN} x max)"),
        "variants": results,
    }
    reference["summary"] = summarize(reference)
    path.write_text(json.dumps(reference, indent=1) + "\n")
    write_constraints(reference, Path(path))  # the versions it ran on, for pip install -c
    return reference


def summarize(reference: dict) -> dict:
    """Per question: bands, thresholds, false-fail estimates, and which wrong answers the
    val_loss check catches on its own (the others are the architecture check's job)."""
    summary = {}
    for question in sorted({v["question"] for v in reference["variants"]}):
        variants = [v for v in reference["variants"] if v["question"] == question]
        solution = next(v for v in variants if v["correct"])
        mins = [r["min_val_loss"] for r in solution["runs"]]
        finals = [r["evaluated_val_loss"] for r in solution["runs"]]
        limit, final_limit = threshold(mins), threshold(finals)
        wrong = {}
        for v in variants:
            if v["correct"]:
                continue
            caught = all(not (r["min_val_loss"] <= limit and r["evaluated_val_loss"] <= final_limit) for r in v["runs"])
            wrong[v["variant"]] = {
                "caught_by_val_loss": caught,
                "min_val_loss": [r["min_val_loss"] for r in v["runs"]],
                "note": v["note"] or ("" if caught else "only the architecture check catches it"),
            }
        summary[question] = {
            "seeds": len(mins),
            "min_val_loss": {"low": min(mins), "high": max(mins), "threshold": limit,
                             "false_fail_probability": false_fail_probability(mins)},
            "final_val_loss": {"low": min(finals), "high": max(finals), "threshold": final_limit,
                               "false_fail_probability": false_fail_probability(finals)},
            "wrong_answers": wrong,
        }
    return summary


def main(argv=None) -> int:
    import argparse

    argparse.ArgumentParser(prog="python -m grader calibrate", description=__doc__,
                            epilog="Another assignment: python -m grader calibrate --assignment KEY "
                                   "(for example internals; add --help for its options).").parse_args(argv)
    calibrate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
