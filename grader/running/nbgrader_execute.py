"""nbgrader's Execute step with the kit's contained kernels, checked at run time.

nbgrader's Execute sets its own kernel manager class when it is created, and the class that
``nbgrader_config.py`` names takes effect only because nbconvert configures the step again
afterwards: an upgrade that changed that order would start every student's kernel uncontained,
silently. This step names the kit's class itself, and before each kernel starts it checks that
the manager really is the kit's and that a sandbox layer runs (the preflight, once per process),
so that the CLI and formgrader's Autograde button both stop before any grade is written.
"""
from __future__ import annotations

from nbgrader.preprocessors import Execute

from . import sandbox


def require_contained(manager) -> None:
    """Raise GraderUnavailable unless ``manager`` starts the kit's contained kernels."""
    expected = sandbox.NbgraderKernelManager
    if not isinstance(manager, expected):
        raise sandbox.GraderUnavailable(
            f"nbgrader would start a kernel with {type(manager).__module__}.{type(manager).__name__}, not the kit's "
            f"contained kernel manager (grader.sandbox.NbgraderKernelManager): student code would run with your rights. "
            "No grade was written. Check nbgrader_config.py and the nbgrader version.")
    sandbox.preflight()


class ContainedExecute(Execute):
    """Execute, whose kernels are the kit's, checked before each one starts."""

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = sandbox.NbgraderKernelManager
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        require_contained(manager)
        return manager
