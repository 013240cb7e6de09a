"""The calibration's versions, pinned: each reference's constraints file is what calibrate writes
from it, and the check that Gradescope's setup.sh runs names every difference."""
from __future__ import annotations

import json
import subprocess
import sys

from grader.base.calibrated_env import differences, read_constraints
from grader.judging.reference import CONSTRAINTS_NAME, constraints
from grader.lesson.calibrate import REFERENCE_PATH as LESSON
from grader.internals.calibrate import REFERENCE_PATH as INTERNALS


def test_each_shipped_constraints_file_is_what_calibrate_writes_from_its_reference():
    for reference in (LESSON, INTERNALS):
        recorded = json.loads(reference.read_text())
        shipped = reference.with_name(CONSTRAINTS_NAME).read_text()
        assert shipped == constraints(recorded, reference.name)
        python, pins = read_constraints(reference.with_name(CONSTRAINTS_NAME))
        assert python == ".".join(recorded["machine"]["python"].split(".")[:2])
        assert pins["keras"] == recorded["machine"]["keras"] and pins["tensorflow-cpu"] == recorded["machine"]["tensorflow"]


def test_every_difference_is_named_and_the_check_fails(tmp_path):
    import numpy

    path = tmp_path / CONSTRAINTS_NAME
    path.write_text(f"# python 3.99\nnumpy==0.0.1\nkeras=={__import__('keras').__version__}\ntensorflow-cpu==0.1\n"
                    "tensorflow==0.1\n")
    found = differences(path)
    assert "Python %d.%d, calibrated on 3.99" % sys.version_info[:2] in found
    assert f"numpy {numpy.__version__}, calibrated with 0.0.1" in found
    assert not any(line.startswith("keras") for line in found) and len(found) == 3, found
    done = subprocess.run([sys.executable, "-m", "grader.base.calibrated_env", str(path)], capture_output=True, text=True)
    assert done.returncode == 1 and "numpy" in done.stderr and "python -m grader calibrate" in done.stderr
    assert "Traceback" not in done.stderr
