"""Every word a student reads, in the student's language: gettext catalogs, one per language.

The catalogs are ordinary gettext ``.po`` files (``grader/locale/<lang>/LC_MESSAGES/kit.po``)
that translators edit with the usual tools (Poedit, Weblate, msgfmt --check). Code names each
message by a stable id (``check.layer-missing``) and never holds its text: English is a catalog
like Chinese. Texts are ``str.format`` templates with named placeholders.

The language in force is, in order: the one set for the current context (``use``; the grader
sets the language of the notebook it grades), ``DROPOUT_KIT_LANG``, English.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "kit"
LANGUAGES = ("en", "zh_CN")
DEFAULT = "en"
LANGUAGE_ENV = "DROPOUT_KIT_LANG"
_ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "zh-hans": "zh_CN", "en-us": "en", "en_us": "en",
            "en-gb": "en", "en_gb": "en"}

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("dropout_kit_language", default=None)
# set_language's choice for the whole process: a Jupyter kernel runs each cell in a fresh
# context, so a context variable set in the setup cell would be gone in the next one.
_process_language: str | None = None


class UnknownLanguage(ValueError):
    pass


def normalize(language: str | None) -> str | None:
    """'zh', 'zh-CN', 'zh_CN.UTF-8' -> 'zh_CN'; None stays None; anything else is refused."""
    if not language:
        return None
    key = language.split(".")[0].strip()
    key = _ALIASES.get(key.lower(), key)
    if key not in LANGUAGES:
        raise UnknownLanguage(f"unknown language {language!r}: the kit speaks {', '.join(LANGUAGES)}")
    return key


def language() -> str:
    """The language in force here."""
    return _current.get() or _process_language or normalize(os.environ.get(LANGUAGE_ENV)) or DEFAULT


def set_language(lang: str) -> None:
    """Speak ``lang`` from now on in this process (a notebook's setup cell calls it)."""
    global _process_language
    _process_language = normalize(lang) or DEFAULT


@contextlib.contextmanager
def use(lang: str | None):
    """Speak ``lang`` inside the block (None: leave the language as it is)."""
    token = _current.set(normalize(lang) or language())
    try:
        yield
    finally:
        _current.reset(token)


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid -> text of one language's catalog (read with Babel, the gettext toolkit)."""
    from babel.messages.pofile import read_po

    with open(catalog_path(lang), "rb") as handle:
        po = read_po(handle)
    return {message.id: message.string for message in po if message.id and message.string}


def t(msgid: str, lang: str | None = None, **values) -> str:
    """The message ``msgid`` in ``lang`` (default: the language in force), formatted.

    A message missing from a catalog falls back to English (the tests make sure none is)."""
    lang = normalize(lang) or language()
    text = catalog(lang).get(msgid) or catalog(DEFAULT).get(msgid)
    if text is None:
        raise KeyError(f"no message {msgid!r} in the kit's catalogs")
    return text.format(**values) if values else text


def has(msgid: str) -> bool:
    return msgid in catalog(DEFAULT)
