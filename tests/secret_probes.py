"""A student answer that tries to read what it must not, and the planted secrets it looks for.

The answer cell (spotify Q1) probes nine things and raises an exception carrying whatever it
read, the way a real attacker would smuggle data into its own feedback. ``leaks`` then searches
every output of a grading run for the planted markers.
"""
from __future__ import annotations

import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from submissions import SPOTIFY_STARTER_Q3, set_answer, solution_notebook, write

ENV_NAME = "KIT_PLANTED_TOKEN"
REFERENCE_MARKER = '"intra_op_threads"'  # a key that only grader/lesson/reference.json holds


@dataclass
class Planted:
    mark: str
    classmate: str  # the classmate's folder name: the answer can only learn it by listing the course
    home_file: Path
    other_course: Path
    classmate_file: Path
    gradebook: Path
    port: int
    cache_folder: Path  # the grader's training cache
    connections: list = field(default_factory=list)

    @property
    def markers(self) -> dict:
        found = {"home file": f"HOME-{self.mark}", "environment": f"ENV-{self.mark}",
                 "classmate list": self.classmate, "classmate file": f"CLASSMATE-{self.mark}",
                 "gradebook": f"GRADEBOOK-{self.mark}", "network": f"NET-{self.mark}",
                 "reference file": REFERENCE_MARKER, "training cache": f"cache-{self.mark}"}
        try:
            found["/etc/shadow"] = Path("/etc/shadow").read_text().splitlines()[0]
        except (OSError, IndexError):
            pass  # the tests do not run as root: the kernel cannot read it either
        return found

    def env(self) -> dict:
        return {ENV_NAME: f"ENV-{self.mark}"}

    def answer(self) -> str:
        probes = [f"lambda: open({str(self.home_file)!r}).read()",
                  f"lambda: os.environ.get({ENV_NAME!r}, 'unset')",
                  f"lambda: os.listdir({str(self.other_course / 'submitted')!r})",
                  f"lambda: open(glob.glob({str(self.other_course / 'submitted' / '*' / '*' / '*.ipynb')!r})[0]).read()",
                  f"lambda: open({str(self.gradebook)!r}, 'rb').read().decode('latin-1')",
                  "lambda: open('/etc/shadow').read()",
                  "lambda: (pathlib.Path(__import__('grader').__file__).parent / 'lesson' / 'reference.json').read_text()",
                  f"lambda: socket.create_connection(('127.0.0.1', {self.port}), timeout=3).recv(200).decode()",
                  f"lambda: os.listdir({str(self.cache_folder)!r})"]
        return ("import glob, os, pathlib, socket\n"
                "def _probe(read):\n"
                "    try:\n        return 'READ ' + repr(str(read())[:400])\n"
                "    except BaseException as error:\n        return 'DENIED ' + type(error).__name__\n"
                f"_found = [_probe(p) for p in [{', '.join(probes)}]]\n"
                "print(_found)\n"
                "raise RuntimeError('probes: ' + ' || '.join(_found))")

    def notebook(self, folder: Path) -> Path:
        nb = set_answer(solution_notebook("spotify"), "spotify_q1_model", self.answer())
        set_answer(nb, "spotify_q3_model", SPOTIFY_STARTER_Q3)
        return write(nb, folder, "spotify")


def plant(tmp_path: Path):
    """Plant the secrets and start the loopback server; yields the Planted record."""
    mark = secrets.token_hex(8)
    home_file = Path.home() / f".kit-private-{mark}"
    home_file.write_text(f"HOME-{mark}")
    other = tmp_path / "other-course"
    classmate_name = f"classmate-{secrets.token_hex(8)}"
    classmate = other / "submitted" / classmate_name / "dropout-batchnorm" / "spotify.ipynb"
    classmate.parent.mkdir(parents=True)
    classmate.write_text(f'{{"cells": [], "note": "CLASSMATE-{mark}"}}')
    gradebook = other / "gradebook.db"
    gradebook.write_bytes(b"SQLite format 3\x00" + f"GRADEBOOK-{mark}".encode())
    server = socket.create_server(("127.0.0.1", 0))
    from grader.running.training_cache import default_cache

    cache_folder = default_cache().folder
    (cache_folder / f"cache-{mark}").mkdir(parents=True)
    planted = Planted(mark, classmate_name, home_file, other, classmate, gradebook, server.getsockname()[1], cache_folder)

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            planted.connections.append(connection)
            connection.sendall(f"NET-{mark}".encode())
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield planted
    finally:
        server.close()
        home_file.unlink(missing_ok=True)
        (cache_folder / f"cache-{mark}").rmdir()


def leaks(planted: Planted, texts=(), folders=()) -> dict:
    """Which planted markers appear in the given texts or in any file under the folders."""
    blobs = [t for t in texts if t]
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                blobs.append(path.read_bytes().decode("latin-1"))
    return {what: marker for what, marker in planted.markers.items() if any(marker in blob for blob in blobs)}


def hostile_source(targets) -> str:
    """An answer cell that tampers with ``targets`` (the kit, the venv, the thresholds, the
    results), signals every grading process it can find, and leaves a detached daemon that keeps
    rewriting the targets; it raises what it managed, with the daemon's pid."""
    return ("import os, time\n"
            f"_targets = {[str(t) for t in targets]!r}\n"
            "_h = []\n"
            "for _t in _targets:\n"
            "    try:\n"
            "        with open(_t, 'a') as _f:\n"
            "            _f.write('#tampered')\n"
            "        _h.append('WROTE ' + _t)\n"
            "    except OSError as _e:\n"
            "        _h.append('DENIED ' + type(_e).__name__)\n"
            "for _pid in [p for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]:\n"
            "    try:\n"
            "        _cmd = open(f'/proc/{_pid}/cmdline', 'rb').read()\n"
            "    except OSError:\n"
            "        continue\n"
            "    if any(w in _cmd for w in (b'grader', b'nbgrader', b'pytest', b'run_autograder')):\n"
            "        try:\n"
            "            os.kill(int(_pid), 0)\n"
            "            _h.append('SIGNALLED ' + _cmd.decode(errors='replace')[:80])\n"
            "        except OSError:\n"
            "            pass\n"
            "_r, _w = os.pipe()\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        os.write(_w, str(os.getpid()).encode())\n"
            "        while True:\n"
            "            for _t in _targets:\n"
            "                try:\n"
            "                    open(_t, 'w').write('{\"score\": 999}')\n"
            "                except OSError:\n"
            "                    pass\n"
            "            time.sleep(0.1)\n"
            "    os._exit(0)\n"
            "_h.append('DAEMON ' + os.read(_r, 20).decode())\n"
            "raise RuntimeError('hostile: ' + ' || '.join(_h))")


def hostile_contained(text: str, targets_before: dict) -> None:
    """The hostile cell ran, wrote nothing, signalled nothing, and its daemon is gone with the
    kernel: a second later the targets are still as they were."""
    import os
    import re
    import time

    assert "hostile: " in text, text[-2000:]
    found = text[text.index("hostile: ") + len("hostile: "):].split("\n")[0]
    assert "WROTE" not in found and "SIGNALLED" not in found, found
    daemon = int(re.search(r"DAEMON (\d+)", found).group(1))
    time.sleep(1.0)
    assert not os.path.exists(f"/proc/{daemon}"), f"the student's daemon {daemon} outlived grading"
    assert {path: path.read_bytes() if path.exists() else None for path in targets_before} == targets_before
