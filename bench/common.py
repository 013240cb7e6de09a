"""What both benchmarks share: the repository root and the environment the commands run in."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions" / "dropout-batchnorm"


def env() -> dict:
    """The kit's own data lookup (DROPOUT_KIT_DATA if set), TensorFlow quiet, this Python's scripts on PATH."""
    e = dict(os.environ)
    e["TF_CPP_MIN_LOG_LEVEL"] = "3"
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e.get("PATH", "")
    return e
