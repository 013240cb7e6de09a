"""The kit in two languages: complete catalogs, placeholders that format in both, every message
the code asks for present, every Chinese character in the shipped font, and the same verdicts
whatever the language."""
import re
import string
from pathlib import Path

import pytest

from grader.i18n import LANGUAGES, catalog, catalog_path, normalize, t, use

GRADER = Path(__file__).resolve().parent.parent / "grader"


def fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_message_is_translated_in_every_language():
    english = catalog("en")
    assert len(english) > 200
    for lang in LANGUAGES:
        messages = catalog(lang)
        missing = sorted(set(english) - set(messages))
        assert not missing, f"{catalog_path(lang)} lacks (or leaves empty): {missing}"
        assert not sorted(set(messages) - set(english)), f"{catalog_path(lang)} has ids English lacks"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_are_the_same_and_format(lang):
    for msgid, text in catalog(lang).items():
        assert fields(text) == fields(catalog("en")[msgid]), msgid
        names = fields(text)
        if all(name.isidentifier() for name in names):
            text.format(**{name: "X" for name in names})


def test_chinese_messages_are_chinese():
    """A translation that was left in English falls back unnoticed: none may (code words aside)."""
    english, chinese = catalog("en"), catalog("zh_CN")
    same = [msgid for msgid, text in chinese.items() if text == english[msgid] and re.search(r"[a-z]{4,} [a-z]{4,}", text)]
    assert not same, same


def _literal_ids() -> set:
    """Every message id written out in a call of t(...), the branches of an `a if c else b` too."""
    import ast

    found = set()
    for path in GRADER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "_fail", "failure") and node.args:
                found |= set(_constants(node.args[0]))
    return found


def _constants(node):
    """The plain strings an id argument can be (f-strings are the dynamic ids, listed below)."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _dynamic_ids() -> set:
    """The ids the code builds from data: per question, per mistake, per comparison."""
    from grader.lesson.questions import BY_ID, CODING, QUESTIONS, FreeResponse

    ids = {f"title.{q.id}" for q in QUESTIONS}
    ids |= {f"hint.{q.id}" for q in CODING} | {f"advice.{q.id}" for q in CODING}
    ids |= {f"plot.title.{q.id}" for q in CODING} | {f"nb.{q.id}.instructions" for q in CODING}
    ids |= {f"prompt.{q.id}" for q in QUESTIONS if isinstance(q, FreeResponse)}
    ids |= {f"answer.{q.id}" for q in QUESTIONS if isinstance(q, FreeResponse)}
    ids |= {f"plot.comparison.{q.id}.{v.replace(' ', '-')}" for q in CODING for v in q.comparisons}
    ids |= {f"cell.{role}" for role in ("model", "train", "seed", "data", "other")}
    ids |= {f"ordinal.{n}" for n in ("1", "2", "3", "n")}
    ids |= {"row." + s for s in ("same", "changed", "replaced", "missing", "extra")}
    ids |= {"sandbox.layer." + s for s in ("bubblewrap", "landlock-user", "landlock")}  # report.layer_words
    slugs = ("dropout", "batchnormalization")
    kinds = ("after-dense", "before-dense", "after-output", "missing", "missing-in-some-blocks", "extra")
    ids |= {f"mistake-title.{slug}-{kind}" for slug in slugs for kind in kinds}
    ids |= {f"mistake-title.{m}" for m in ("batchnormalization-between-dense-and-activation", "order-within-block",
                                           "dropout-rate", "starter-model", "diverged", "history-changed",
                                           "did-not-learn", "val-loss-above-threshold",
                                           "final-val-loss-above-threshold")}
    from grader.internals.questions import QUESTIONS as INTERNALS
    from grader.internals.questions import SWAP_IN

    ids |= {f"title.{SWAP_IN.id}", f"hint.{SWAP_IN.id}"} | {f"title.{q.id}" for q in INTERNALS}
    ids |= {SWAP_IN.history_mismatch, SWAP_IN.weight_missing} | {q.diverged for q in [*CODING, SWAP_IN]}

    ids |= {f"internals.hint.{q.key}" for q in INTERNALS} | {f"internals.nb.{q.key}" for q in INTERNALS}
    candidates = ("unbiased-variance", "epsilon-outside-sqrt", "no-epsilon", "standard-deviation-not-variance",
                  "moving-statistics-in-training", "features-axis")
    ids |= {f"internals.bn.{m}" for m in candidates}
    ids |= {"internals.raised", "internals.raised.on-shape", "internals.bn.fails-on-3d"}  # raised(...)'s keys
    ids |= {f"internals.doing.{d}" for d in ("create", "build", "training", "inference", "predict")}
    ids |= {f"mistake-title.{slug}-misplaced" for slug in slugs}
    ids |= {f"mistake-title.answer-{m}" for m in ("raised", "timeout", "kernel-died")}
    # every mistake id of the under-the-hood checks has a title in the class overview
    ids |= {f"mistake-title.{m}" for m in _internals_mistakes()} | {f"mistake-title.bn-{m}" for m in candidates}
    assert BY_ID
    return ids


def _internals_mistakes() -> set:
    """The mistake ids the internals checks give: the second argument of _fail/failure/Verdict
    calls and every mistake= keyword in grader/internals/."""
    import ast

    found = set()
    for path in (GRADER / "internals").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            if getattr(node.func, "id", None) in ("_fail", "failure") and len(node.args) > 1:
                found |= set(_constants(node.args[1]))
            found |= {value for keyword in node.keywords if keyword.arg == "mistake"
                      for value in _constants(keyword.value)}
    return found | {"raised"}


def test_every_message_the_code_asks_for_exists_and_none_is_stale():
    used = _literal_ids() | _dynamic_ids()
    english = set(catalog("en"))
    assert not sorted(used - english), "messages the code asks for but the catalog lacks"
    assert not sorted(english - used), "catalog entries no code asks for"


def test_every_chinese_character_is_in_the_shipped_font():
    from fontTools.ttLib import TTFont

    from grader.feedback.fonts import FONT_PATH

    cmap = TTFont(str(FONT_PATH))["cmap"].getBestCmap()
    text = "".join(catalog("zh_CN").values())
    lacking = sorted({ch for ch in text if ord(ch) > 0x7F and ord(ch) not in cmap})
    assert not lacking, f"rebuild the font (tools/subset_cjk_font.py): it lacks {''.join(lacking)}"


def test_language_names_and_fallbacks():
    assert normalize("zh-CN") == normalize("zh") == normalize("zh_CN.UTF-8") == "zh_CN"
    assert normalize(None) is None
    with pytest.raises(ValueError):
        normalize("klingon")
    with use("zh_CN"):
        assert t("row.missing") == "缺少"
        with use("en"):
            assert t("row.missing") == "missing"
    assert t("report.points", "zh_CN", points=3) == "3 分"


def test_the_page_embeds_the_kit_font_only_for_chinese():
    from grader.feedback.fonts import font_css

    assert font_css("en", "Dropout 暂退层") == ""
    css = font_css("zh_CN", "暂退层")
    assert css.startswith("@font-face") and "base64," in css
    assert len(css) < 20_000  # cut down to the page's characters, not the whole font
