"""Public name, kept where it is used: nbgrader_config.py imports HideHiddenTests from it.
The very module grader/feedback/nbgrader_feedback.py (one object, one state), not a copy."""
import sys

from .feedback import nbgrader_feedback as _module

sys.modules[__name__] = _module
