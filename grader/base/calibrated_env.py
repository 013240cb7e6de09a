"""Whether this Python environment is the one the val_loss bands were calibrated in.

A band says how low a correct model's validation loss gets with the calibration's TensorFlow,
Keras and NumPy; another version trains to other numbers. An image built mid-term from whatever
is newest can drift from them, so Gradescope's setup.sh installs with the reference's
constraints file and then runs this: the image build fails, with the differences named, instead
of the term's grades drifting.

    python -m grader.base.calibrated_env CONSTRAINTS_FILE      # exit 0: it matches; 1: it does not
"""
from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path


def read_constraints(path: Path) -> tuple[str | None, dict]:
    """(the "X.Y" of Python, {distribution: version}) of a constraints file written by calibrate."""
    python, pins = None, {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("# python "):
            python = line.split()[2]
        elif line and not line.startswith("#") and "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return python, pins


def differences(path: Path) -> list[str]:
    """One line per way this environment differs from the constraints (installed pins only: the
    constraints name both tensorflow and tensorflow-cpu, and an environment has one of them)."""
    python, pins = read_constraints(path)
    found = []
    here = "%d.%d" % sys.version_info[:2]
    if python and python != here:
        found.append(f"Python {here}, calibrated on {python}")
    installed_any = False
    for name, version in sorted(pins.items()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        installed_any = installed_any or name.startswith("tensorflow")
        if have != version:
            found.append(f"{name} {have}, calibrated with {version}")
    if any(name.startswith("tensorflow") for name in pins) and not installed_any:
        found.append("TensorFlow is not installed")
    return found


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    found = differences(Path(argv[0]))
    if found:
        print("error: this environment is not the one the val_loss bands were calibrated in: " + "; ".join(found)
              + f". Install with pip's -c {argv[0]}, or calibrate again (python -m grader calibrate) in this "
              "environment and rebuild the autograder.", file=sys.stderr)
        return 1
    print(f"the environment matches the calibration ({argv[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
