"""Chinese text that renders everywhere: a CJK font shipped with the kit, for plots and pages.

A bare Linux machine (a JupyterHub image, a CI runner, a fresh laptop install) has no CJK font:
matplotlib would draw every Chinese character as an empty box, and a browser on such a machine
would do the same. The kit therefore ships ``fonts/DropoutKitSansSC.otf``: a subset of Noto Sans
CJK SC (SIL Open Font License 1.1, see ``fonts/OFL.txt``) holding exactly the characters of the
kit's Chinese catalog, renamed as the licence asks of a modified font. ``tools/subset_cjk_font.py``
rebuilds it from the catalog; a test fails when a translation uses a character it lacks.

* Plots: the font is registered with matplotlib as a fallback after DejaVu Sans.
* Pages: the kit's font, cut down to the CJK characters of the page and embedded in it (with a
  ``unicode-range`` of exactly those characters), comes first in the stack, so that the kit's
  own words render the same everywhere, offline (Chromium, looked at on a machine without CJK
  fonts, drew some lines as empty boxes when it came after the system fonts); Latin text and any
  other character (a student's free-text answer may use any) fall through to the system's fonts.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

FONT_PATH = Path(__file__).resolve().parent.parent / "fonts" / "DropoutKitSansSC.otf"
FAMILY = "DropoutKit Sans SC"


def html_lang(lang: str) -> str:
    """The page's ``lang`` attribute: zh_CN -> zh-Hans (so that browsers pick Simplified forms)."""
    return "zh-Hans" if lang.startswith("zh") else lang


@lru_cache(maxsize=1)
def _register() -> bool:
    import matplotlib.font_manager as fm

    if not FONT_PATH.exists():
        return False
    fm.fontManager.addfont(str(FONT_PATH))
    return True


def use_cjk_fallback(ax=None) -> None:
    """Let matplotlib draw Chinese labels: DejaVu Sans first, the kit's CJK font for what it lacks.

    Text objects take their font when created: an ``ax`` made before this call gets its title
    and axis labels switched too."""
    from ..base.i18n import language

    if not language().startswith("zh") or not _register():
        return
    import matplotlib

    families = ["DejaVu Sans", FAMILY]
    matplotlib.rcParams["font.family"] = families
    if ax is not None:
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
            text.set_fontfamily(families)


def font_css(lang: str, text: str) -> str:
    """An @font-face rule embedding the kit's font, cut down to the CJK characters of ``text``
    (empty for English pages, or when the font is missing)."""
    if not lang.startswith("zh") or not FONT_PATH.exists():
        return ""
    characters = "".join(sorted({ch for ch in text if ord(ch) > 0x2E7F}))
    if not characters:
        return ""
    data = _subset(characters)
    if not data:
        return ""
    ranges = ",".join(f"U+{ord(ch):X}" for ch in characters)
    return (f"@font-face{{font-family:'{FAMILY}';src:url(data:font/otf;base64,"
            f"{base64.b64encode(data).decode()}) format('opentype');unicode-range:{ranges};}}")


@lru_cache(maxsize=64)
def _subset(characters: str) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(FONT_PATH), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()
