"""Public name, kept where it is used: notebooks released by the kit import it (the data splits).
The very module grader/base/data.py (one object, one state), not a copy."""
import sys

from .base import data as _module

sys.modules[__name__] = _module
