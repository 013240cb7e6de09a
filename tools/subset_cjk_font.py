"""Rebuild grader/fonts/DropoutKitSansSC.otf: Noto Sans CJK SC cut down to the characters of the
kit's Chinese catalog (plus ASCII and CJK punctuation), renamed as the SIL OFL asks of a
modified font.

    python tools/subset_cjk_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(Debian/Ubuntu: apt install fonts-noto-cjk; or any Noto Sans CJK SC / Source Han Sans SC file.)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.feedback.fonts import FAMILY, FONT_PATH  # noqa: E402
from grader.i18n import catalog  # noqa: E402

EXTRA = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。：；、（）《》“”‘’！？—…·％"


def characters() -> str:
    text = "".join(catalog("zh_CN").values()) + EXTRA
    return "".join(sorted(set(text)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a Noto Sans CJK (.ttc/.otf) file")
    args = parser.parse_args()
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    if args.source.suffix.lower() == ".ttc":
        fonts = TTCollection(str(args.source)).fonts
        font = next(f for f in fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    else:
        font = TTFont(str(args.source))
    options = subset.Options()
    options.name_IDs = ["*"]
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters())
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 21, 22):
            value = {1: FAMILY, 16: FAMILY, 21: FAMILY, 3: f"{FAMILY};subset", 4: FAMILY,
                     6: FAMILY.replace(" ", "") + "-Regular", 17: "Regular", 22: "Regular"}[record.nameID]
            record.string = value
    FONT_PATH.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(FONT_PATH))
    print(f"{FONT_PATH}: {len(characters())} characters, {FONT_PATH.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
