"""Public name, kept where it is used: notebooks released by the kit import it (learning curves).
The very module grader/feedback/plots.py (one object, one state), not a copy."""
import sys

from .feedback import plots as _module

sys.modules[__name__] = _module
