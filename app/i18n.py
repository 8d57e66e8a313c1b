"""Languages: Chinese (the default) or English, from the catalogs under app/translations.

Message ids are the English text; `zh_Hans_CN/LC_MESSAGES/messages.po` holds the Chinese and
`en/` the English (identical, so a proof-reader can change a word without touching code).
The reader's language is, in this order: `?lang=` (remembered in the session and, when
signed in, on the account), the account's choice, the session's, the browser's
Accept-Language, and Chinese.

Bilingual data (the vocabulary's modules, levels and roles; the scorecard's indicators) is
kept as (zh, en) pairs next to the data and shown in the reader's language by `pick`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from babel.support import Translations
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale, get_translations, refresh
from jinja2 import pass_eval_context
from markupsafe import Markup

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT = "zh_CN"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
# Babel knows Simplified Chinese in China as zh_Hans_CN (it parses "zh_CN" to that), so
# that is the catalog's folder; the site and the accounts call it zh_CN.
BABEL_LOCALES = {"zh_CN": "zh_Hans_CN", "en": "en"}
# The tag a `<html lang>` attribute and an `hreflang` take.
HTML_TAGS = {"zh_CN": "zh-CN", "en": "en"}
# What a browser's Accept-Language is matched against (also by the verify page's fast path).
ACCEPTED = ["zh-CN", "zh", "en"]
_ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "zh-hans": "zh_CN", "en": "en",
            "en-us": "en", "en-gb": "en", "en_us": "en"}

babel = Babel()


def known(value: str | None) -> str | None:
    """The catalog a `?lang=` or saved value names, or None."""
    if not value:
        return None
    return _ALIASES.get(value.strip().lower())


def select_locale() -> str:
    return BABEL_LOCALES[_selected()]


def _selected() -> str:
    chosen = getattr(g, "chosen_locale", None)
    if chosen:
        return chosen
    if not has_request_context():  # a CLI command, a test, a job: the site's default language
        return DEFAULT
    from flask_login import current_user

    user = current_user._get_current_object() if _has_user() else None
    if user is not None and getattr(user, "is_authenticated", False) and known(getattr(user, "locale", None)):
        return known(user.locale)
    if known(session.get("lang")):
        return known(session["lang"])
    best = request.accept_languages.best_match(ACCEPTED) if request else None
    return known(best) or DEFAULT


def _has_user() -> bool:
    try:
        from flask_login import current_user

        return current_user is not None
    except RuntimeError:  # pragma: no cover - outside a request
        return False


def current() -> str:
    """The reader's catalog name: 'zh_CN' or 'en'."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else DEFAULT


def pick(pair: Sequence[str]) -> str:
    """The reader's half of a (zh, en) pair of data."""
    return pair[1] if current() == "en" else pair[0]


def template_gettext() -> dict:
    """`_`, `gettext` and `ngettext` for one render, bound to the reader's catalog looked up once.

    Flask-Babel's template callables look the catalog up through the request on every call, and
    Jinja's newstyle gettext copies the whole template context for each call made inside a block:
    on the public verify page, rendered for every employer's scan, that was a third of its time.
    Passed in the render's context they take the globals' place, and behave as Jinja's newstyle
    ones do: autoescaped and always %-formatted, `num` given to ngettext's text.
    """
    translations = get_translations()

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables) -> str:
        text = translations.ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)
        # `text % {}` is the text itself unless it holds a `%` (a "%%" is one)
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def bound_gettext() -> Callable[..., str]:
    """Flask-Babel's gettext, the reader's catalog looked up once: for code that translates many
    texts at a time (a verification's steps), where that lookup was most of each call."""
    translations = get_translations()

    def gettext(string: str, **variables) -> str:
        text = translations.ugettext(string)
        return text % variables if variables else text

    return gettext


def catalog(language: str) -> Translations:
    """One language's compiled catalog, for text rendered outside a request (the PDF)."""
    return Translations.load(str(TRANSLATIONS), [BABEL_LOCALES[language]], domain="messages")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(TRANSLATIONS))

    @app.before_request
    def language_from_query():
        # Chosen afresh for every request: flask_babel keeps the locale on `g`, and a request
        # pushed inside an app context already open (a test, a CLI command) shares that `g`.
        g.pop("chosen_locale", None)
        refresh()
        wanted = known(request.args.get("lang"))
        if not wanted:
            return
        g.chosen_locale = wanted
        session["lang"] = wanted
        refresh()
        from flask_login import current_user

        user = current_user._get_current_object()
        if getattr(user, "is_authenticated", False) and getattr(user, "locale", None) != wanted:
            from app.services.accounts import remember_language

            remember_language(user, wanted)

    @app.context_processor
    def language_links():
        here = current()
        return {
            "html_lang": HTML_TAGS[here],
            "current_language": here,
            "languages": [(code, name, HTML_TAGS[code]) for code, name in LANGUAGES.items()],
            "pick": pick,
            "lang_url": lang_url,
        }


def lang_url(language: str) -> str:
    """This page again in `language` (its other query arguments kept)."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", language)])
