"""What a sandboxed kernel may see, whichever layer contains it (bubblewrap binds these paths,
Landlock allows them): the system's programs and libraries, the Python installation, the kit's
own package (without its reference files, unless told) and the verified data files."""
from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

KIT_PACKAGE = Path(__file__).resolve().parent.parent  # grader/
DATA_MOUNT = "/kit-data"  # where the verified data files appear inside bubblewrap's sandbox
# System paths a Python kernel needs; each is read-only where it exists.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache",
                "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives", "/etc/fonts",
                "/sys/devices/system/cpu")  # CPU topology: TensorFlow sizes its thread pools from it


@dataclass(frozen=True)
class Exposure:
    """What a sandboxed kernel may see beyond the system: set per caller."""
    data_files: tuple = ()  # verified data files, (name, path)
    hide_reference: bool = True  # the grader's own checks need it; nbgrader's in-kernel tests do too


def python_paths() -> list[str]:
    """The Python installation and its package folders (never the current folder or test folders)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             str(Path(sys.executable).resolve().parent.parent)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths().get(key, ""))
    import site

    paths.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and os.path.isdir(site.getusersitepackages()):
        paths.add(site.getusersitepackages())
    return sorted(p for p in paths if p and os.path.isdir(p))


def reference_files() -> list:
    """Every assignment's calibrated thresholds, hidden from student code."""
    return sorted(KIT_PACKAGE.rglob("reference.json"))


def verified_data_files() -> tuple:
    """(name, path) of every data set, located and verified in the grader's own process."""
    from ..base import data

    return tuple((name, data.locate(name)) for name in data.manifest())
