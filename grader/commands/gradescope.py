"""python -m grader gradescope: the autograder zip that Gradescope's autograder specification asks for.

    setup.sh          run once, as root, while Gradescope builds the image: checks the bundled
                      data by sha256, makes a venv, installs the kit's wheel (with a CPU TensorFlow)
    run_autograder    run for each submission: grader/commands/gradescope_run.py
    config.json       the assignment, the feedback language, the visibility of val_loss, the sandbox,
                      the timeout
    constraints.txt   the Python, TensorFlow and Keras the val_loss bands were calibrated with
    wheels/           the kit, built from this clone (or the wheel given with --wheel)
    data/             the instructor's verified copies of the data sets and their SHA256SUMS

Both scripts take their root from AUTOGRADER_ROOT (default /autograder), so that they run the same
in a folder laid out like Gradescope's container.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from ..assignments import add_option, by_key, default
from ..base import data, release
from ..judging.reference import CONSTRAINTS_NAME
from .gradescope_run import ADVISED_MEMORY_MB, CONFIG, DEFAULT_TIMEOUT_S, ROOT_ENV, TIME_MARGIN_S

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent.parent  # a clone's root, when the kit runs from one
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")

SETUP = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image (Ubuntu).
set -euo pipefail
ROOT="${{{ROOT_ENV}:-/autograder}}"
SOURCE="$ROOT/source"
# The data were verified on the instructor's machine; check they arrived unchanged.
(cd "$SOURCE/data" && sha256sum --check --strict --quiet SHA256SUMS)
if ! python3 -c "import ensurepip, venv" 2>/dev/null; then
    apt-get install -y python3-venv python3-pip
fi
# The environment the val_loss bands were calibrated in (constraints.txt, from the reference):
# its Python, from the image where it is that one, else a standalone build installed by uv.
WANT="$(sed -n 's/^# python //p' "$SOURCE/constraints.txt")"
HAVE="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$HAVE" = "$WANT" ]; then
    python3 -m venv "$ROOT/venv"
else
    echo "setup.sh: the image's python3 is $HAVE and the bands were calibrated on Python $WANT: installing it with uv"
    python3 -m venv "$ROOT/uv" && "$ROOT/uv/bin/python" -m pip install --quiet --disable-pip-version-check uv
    if ! "$ROOT/uv/bin/uv" python install "$WANT" || ! "$ROOT/uv/bin/uv" venv --seed --python "$WANT" "$ROOT/venv"; then
        echo "setup.sh: error: the bands were calibrated on Python $WANT, this image has $HAVE, and uv could not install $WANT (above). Choose a base image with Python $WANT, or calibrate again on $HAVE (python -m grader calibrate) and rebuild the zip." >&2
        exit 1
    fi
fi
WHEEL="$(ls "$SOURCE"/wheels/*.whl)"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$SOURCE/constraints.txt" "$WHEEL[cpu]"
# Fail the image build here, not in mid-term: the calibrated versions, TensorFlow imports, the kit reads its data.
"$ROOT/venv/bin/python" -m grader.base.calibrated_env "$SOURCE/constraints.txt"
TF_CPP_MIN_LOG_LEVEL=3 DROPOUT_KIT_DATA="$SOURCE/data" "$ROOT/venv/bin/python" -c "import tensorflow; from grader.base.data import locate, manifest; [locate(n, download=False) for n in manifest()]"
echo "setup.sh: the kit $("$ROOT/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("{release.DISTRIBUTION}"))') is installed in $ROOT/venv"
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades $ROOT/submission into $ROOT/results/results.json.
ROOT="${{{ROOT_ENV}:-/autograder}}"
export {ROOT_ENV}="$ROOT"
cd "$ROOT"
exec "$ROOT/venv/bin/python" -m grader.commands.gradescope_run
"""


# run_autograder in a Gradescope-shaped root, each run in a fresh home (an empty training cache,
# as in a new container), with the whole process tree in a cgroup v1 of the given memory and CPU
# (bench/bench_gradescope_limits.py, 2-core AMD EPYC, 2026-12-07). (MB, CPUs) -> (the solutions'
# score of 15 and wall seconds, the starter's wall seconds).
MEASURED = {
    (768, 0.5): (10, 180, 40),  # wine's kernel killed by the out-of-memory killer while it trained
    (1024, 0.5): (15, 163, 36),  # peak 810 MB
    (1024, 1.0): (15, 76, 16),  # peak 804 MB
    (1536, 1.0): (15, 79, 18),  # peak 804 MB: more memory changes nothing
}
ADVISED_CPUS = 0.5  # Gradescope's default is enough: 1 CPU only halves the time
PLATFORM_DEFAULTS = {"memory_mb": 768, "cpus": 0.5, "timeout_min": 10}


def advised_timeout_min() -> int:
    """Three times the solutions' wall time at the advised memory and CPU, in whole minutes (a
    student's larger model trains longer; a hanging answer meets its cell's timeout first)."""
    wall = MEASURED[(ADVISED_MEMORY_MB, ADVISED_CPUS)][1]
    return max(PLATFORM_DEFAULTS["timeout_min"], -(-3 * wall // 60))


def settings_advice(timeout_min: float) -> list[str]:
    """What to choose in the assignment's Autograder settings, from the measurements above."""
    good = MEASURED[(ADVISED_MEMORY_MB, ADVISED_CPUS)]
    lines = [
        f"Gradescope's default memory, {PLATFORM_DEFAULTS['memory_mb']} MB, is too small for TensorFlow in both the "
        f"grader and the student's kernel: there a kernel of the solutions was killed while it trained (run_autograder "
        "then writes no grade and says why).",
        "In the assignment's Settings > Autograder settings, choose:",
        f"  memory   at least {ADVISED_MEMORY_MB} MB",
        f"  CPU      {ADVISED_CPUS:g} or more (the solutions were graded in {good[1]} s there, the starter in {good[2]} s; "
        f"with 1 CPU in {MEASURED[(ADVISED_MEMORY_MB, 1.0)][1]} s)",
        f"  timeout  at least {advised_timeout_min()} min, and the same as this zip's --timeout-min ({timeout_min:g} "
        f"min): the run ends itself {TIME_MARGIN_S} s before it, with what it has graded in results.json",
    ]
    if timeout_min < advised_timeout_min():
        lines.append(f"warning: --timeout-min {timeout_min:g} is shorter than the {advised_timeout_min()} min advised: "
                     "a student whose model trains slowly may be cut off (told so, not graded).")
    return lines


def kit_wheel(given: Path | None, scratch: Path) -> Path:
    """The wheel to bundle: the one given, else one built from this clone."""
    if given is not None:
        if not given.is_file() or given.suffix != ".whl":
            raise SystemExit(f"error: --wheel {given}: not a wheel file")
        return given
    if not (REPOSITORY_ROOT / "pyproject.toml").is_file():
        raise SystemExit("error: this kit was installed from a wheel, not run from a clone: pass the release's wheel "
                         f"with --wheel (download it from {release.release_assets()})")
    print("building the kit's wheel …", file=sys.stderr)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(scratch),
                            str(REPOSITORY_ROOT)], capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"error: pip could not build the kit's wheel:\n{built.stderr[-2000:]}")
    return next(scratch.glob("dropout_batchnorm_kit-*.whl"))


def write_zip(out: Path, assignment: str, lang: str, val_loss_visibility: str, sandbox: str,
              wheel: Path | None = None, timeout_min: float = DEFAULT_TIMEOUT_S / 60) -> Path:
    unit = by_key(assignment)
    config = {"assignment": unit.key, "lang": lang, "feedback_lang": None, "val_loss_visibility": val_loss_visibility,
              "sandbox": sandbox, "kit": release.VERSION, "timeout_s": round(timeout_min * 60)}
    with tempfile.TemporaryDirectory() as scratch:
        whl = kit_wheel(wheel, Path(scratch))
        sums = []
        partial = Path(scratch) / "autograder.zip"  # moved to ``out`` only once whole
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in (("setup.sh", SETUP), ("run_autograder", RUN_AUTOGRADER)):
                info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
                info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, text)
            zf.writestr(CONFIG, json.dumps(config, indent=1))
            # the versions its bands were calibrated with (the internals judge Q4 by the lesson's bands)
            zf.write((unit.reference or default().reference).with_name(CONSTRAINTS_NAME), CONSTRAINTS_NAME)
            zf.write(whl, f"wheels/{whl.name}")
            for name, entry in data.manifest().items():
                zf.write(data.locate(name), f"data/{name}")  # the instructor's copy, verified as it is found
                sums.append(f"{entry['sha256']}  {name}")
            zf.writestr("data/SHA256SUMS", "\n".join(sums) + "\n")
        shutil.move(str(partial), str(out))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader gradescope",
                                     description="Write the Gradescope autograder zip of an assignment.")
    add_option(parser, default().key)
    parser.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"), help="default: autograder.zip")
    parser.add_argument("--lang", default="en", help="language of what is said before a notebook is read "
                                                     "(an upload with no notebook): en or zh_CN")
    parser.add_argument("--val-loss-visibility", choices=VISIBILITIES, default="after_published",
                        help="when students see the val_loss tests (default: after_published, once you publish)")
    parser.add_argument("--sandbox", choices=("on", "bubblewrap", "landlock", "auto"), default="on",
                        help="on (default): stop (a failed autograder, not a 0) where student code cannot be "
                             "contained by bubblewrap or Landlock; bubblewrap/landlock: require that layer; "
                             "auto: grade even with no sandbox (student code then runs as root)")
    parser.add_argument("--wheel", type=Path, help="the kit's wheel to bundle (default: built from this clone)")
    parser.add_argument("--timeout-min", type=float, default=PLATFORM_DEFAULTS["timeout_min"], metavar="MIN",
                        help="the timeout set in the assignment's Autograder settings, in minutes (default: "
                             "Gradescope's, 10); the run ends itself a little before it, with what it has graded")
    args = parser.parse_args(argv)
    timeout_min = args.timeout_min
    if not 1 <= timeout_min <= 40:
        parser.error("--timeout-min: Gradescope allows 1 to 40 minutes")
    from ..base.i18n import normalize

    try:
        path = write_zip(args.output, args.assignment, normalize(args.lang) or "en", args.val_loss_visibility,
                         args.sandbox, args.wheel, timeout_min)
    except data.DataError as error:  # the zip carries the data: nothing is written without them
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): upload it as the assignment's autograder "
          "(Configure Autograder → Zip file upload)")
    for line in settings_advice(timeout_min):
        print(line)
    return 0
