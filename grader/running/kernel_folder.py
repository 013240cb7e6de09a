"""The grader's file operations inside a kernel's working folder, which student code can write.

A student's cell (or a process it left running) can put a symbolic link where the grader is
about to read or write: `.kit-training` pointing at another student's folder or at /etc, a
captured file pointing at the instructor's gradebook. The grader runs with more rights than the
kernel, so it never follows a link there: every path below the working folder is opened one
component at a time with O_NOFOLLOW from a descriptor of the folder above it, only regular files
are read, and files are created with O_EXCL. What a student replaced makes the operation fail
(the training then runs in the notebook, as released); it never reaches anything else.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_BYTES = 512 * 1024**2  # what one captured training may hold (the wine model's files: about 25 MB)


class Replaced(OSError):
    """A path below the working folder is not what the grader made (a link, not a folder, too big)."""


def _open_folder(base: Path, parts, create: bool = False) -> int:
    """A descriptor of ``base/parts...``, each part opened without following a link (and made
    first where ``create``); a part that is not a folder raises Replaced."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for name in parts:
        try:
            if create:
                try:
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
        except OSError as error:
            raise Replaced(error.errno, f"{name}: not a folder the grader can trust ({error.strerror})") from None
        finally:
            os.close(fd)
        fd = inner
    return fd


def remove(base: Path, parts) -> None:
    """Remove ``base/parts...`` (and all in it) if it is there; a link met on the way is removed
    itself, never followed."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for position, name in enumerate(parts):
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(name, dir_fd=fd)
                return
            if position == len(parts) - 1:
                shutil.rmtree(name, dir_fd=fd)
                return
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)


def copy_out(base: Path, parts, names, target: Path) -> None:
    """Copy the regular files ``names`` of ``base/parts...`` (written by the kernel) into the
    grader's own ``target`` folder (a name that is not there is left out); a link, anything but a
    regular file, or more than MAX_BYTES in all raises Replaced."""
    target.mkdir(parents=True, exist_ok=True)
    folder = _open_folder(base, parts)
    total = 0
    try:
        for name in names:
            try:
                source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise Replaced(error.errno, f"{name}: {error.strerror}") from None
            with open(source, "rb") as handle:
                info = os.fstat(handle.fileno())
                total += info.st_size
                if not stat.S_ISREG(info.st_mode) or total > MAX_BYTES:
                    raise Replaced(0, f"{name}: not a regular file of a reasonable size")
                with open(target / name, "wb") as out:
                    shutil.copyfileobj(handle, out, 1 << 20)
    finally:
        os.close(folder)


def copy_in(sources: dict, base: Path, parts) -> Path:
    """Create ``base/parts...`` afresh and write each ``name -> source file`` into it, creating
    every file anew (never through a link); returns the folder."""
    remove(base, parts)
    folder = _open_folder(base, parts, create=True)
    try:
        for name, source in sources.items():
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                         dir_fd=folder)
            with open(fd, "wb") as out, open(source, "rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    finally:
        os.close(folder)
    return base.joinpath(*parts)
