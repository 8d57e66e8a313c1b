"""`flask translate …`: keep the catalogs under app/translations in step with the code.

    flask translate update    # extract every message, merge it into zh_CN and en
    flask translate compile   # write the .mo files the app reads (committed with the .po)
    flask translate init LANG # start a new language

Message ids are English, so the English catalog is the ids themselves: `update` fills every
empty English entry with its id. A Chinese entry left empty is a failing test, not a silent
fallback to English.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po
from flask import Flask

from app.i18n import BABEL_LOCALES, TRANSLATIONS

LANGUAGES = tuple(BABEL_LOCALES.values())

ROOT = TRANSLATIONS.parent.parent
POT = TRANSLATIONS / "messages.pot"
KEYWORDS = ["_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "N_", "lazy_ngettext:1,2"]


def _pybabel(*args: str) -> None:
    with contextlib.chdir(ROOT):
        CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    """Write messages.pot; run from the root so babel.cfg's patterns and the locations match."""
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    _pybabel("extract", "-F", str(ROOT / "babel.cfg"), "--no-wrap", "--sort-by-file",
             "--project=second-transcript", *keywords,
             "-o", str(POT), ".")
    _strip_dates(POT)


def _strip_dates(path: Path) -> None:
    """No creation date in the template: re-extracting unchanged code changes no file."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
             if not line.startswith('"POT-Creation-Date:')]
    path.write_text("".join(lines), encoding="utf-8")


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def update() -> None:
    extract()
    for language in LANGUAGES:
        if not po_path(language).exists():
            _pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap")
        _pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap",
                 "--ignore-obsolete", "--no-fuzzy-matching")
        _strip_dates(po_path(language))
    _english_is_the_ids()


def _english_is_the_ids() -> None:
    path = po_path("en")
    with path.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if not message.id:
            continue
        if message.pluralizable:
            if not any(message.string):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as f:
        write_po(f, catalog, width=0, omit_header=False)
    _strip_dates(path)


def compile_catalogs() -> None:
    _pybabel("compile", "-d", str(TRANSLATIONS))


def init_app(app: Flask) -> None:
    @app.cli.group("translate", help="Extract, update and compile the translation catalogs.")
    def translate():
        pass

    @translate.command("extract")
    def extract_command():
        extract()
        click.echo(f"wrote {POT.relative_to(ROOT)}")

    @translate.command("update")
    def update_command():
        update()
        click.echo("updated " + ", ".join(str(po_path(lang).relative_to(ROOT)) for lang in LANGUAGES))

    @translate.command("compile")
    def compile_command():
        compile_catalogs()
        click.echo("compiled " + ", ".join(LANGUAGES))

    @translate.command("init")
    @click.argument("language")
    def init_command(language):
        extract()
        _pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap")
        click.echo(f"created {po_path(language).relative_to(ROOT)}")
