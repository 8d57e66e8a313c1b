"""The catalogs: every message has its Chinese, no Chinese hides in code, the switch works."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.i18n import BABEL_LOCALES, TRANSLATIONS
from app.translate import KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrf]")
# Modules whose Chinese is data, not messages: names of people, clubs and units of the demo
# school, the names the languages call themselves, the five-izations' indicator vocabulary,
# the header names a school's CSV files carry.
DATA_MODULES = {
    "app/services/demo.py",
    "app/i18n.py",
    "app/services/scorecard/indicators.py",
    "app/services/csv_headers.py",
}
METHODS = [("app/**.py", "python"), ("credentials/**.py", "python"), ("templates/**.html", "jinja2")]


def _keywords() -> dict:
    keywords = {}
    for spec in KEYWORDS:
        name, _, args = spec.partition(":")
        keywords[name] = tuple(int(a) for a in args.split(",")) if args else None
    return keywords


@pytest.fixture(scope="module")
def messages() -> set[str]:
    found = set()
    for _file, _line, msgid, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=_keywords(),
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.add(msgid if isinstance(msgid, str) else msgid[0])
    return found


def _catalog(language: str):
    path = TRANSLATIONS / BABEL_LOCALES[language] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return read_po(f)


def _text(message) -> str:
    return message.string if isinstance(message.string, str) else (message.string[0] or "")


def _id(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_the_code_has_messages_to_translate(messages):
    assert len(messages) > 300
    assert "Second Transcript" in messages


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_message_of_the_code_is_in_each_catalog(messages, language):
    catalog = _catalog(language)
    translated = {_id(m) for m in catalog if m.id and _text(m) and "fuzzy" not in m.flags}
    missing = sorted(messages - translated)
    assert missing == [], f"{len(missing)} message(s) untranslated in {language}: {missing[:20]}"


def test_the_chinese_catalog_is_chinese_and_keeps_every_placeholder():
    wrong = []
    for message in _catalog("zh_CN"):
        if not message.id:
            continue
        text = _text(message)
        if sorted(PLACEHOLDER.findall(_id(message))) != sorted(PLACEHOLDER.findall(text)):
            wrong.append((_id(message), text, "placeholders differ"))
        elif re.search(r"[A-Za-z]{3}", _id(message)) and not CJK.search(text) and not _untranslatable(text):
            wrong.append((_id(message), text, "no Chinese"))
    assert wrong == [], wrong[:20]


def _untranslatable(text: str) -> bool:
    """Names and codes read the same in both languages (PDF, CSV, English, e-mail…)."""
    return bool(re.fullmatch(r"[\W\d_]*(?:PDF|CSV|xlsx|JSON|QR|ID|OK|English|API|CAS|OIDC|SSO|"
                             r"URL|E-mail|Email|[A-Z]{2,})?[\W\d_%()sdr]*", text))


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_compiled_catalog_is_the_source_catalog(language):
    folder = TRANSLATIONS / BABEL_LOCALES[language] / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as f:
        compiled = {_id(m): _text(m) for m in read_mo(f) if m.id}
    source = {_id(m): _text(m) for m in _catalog(language) if m.id and "fuzzy" not in m.flags and _text(m)}
    assert compiled == source, "run `flask translate compile`"


def _string_literals(path: Path):
    """String constants but docstrings and those on a line marked `# data: <why>`."""
    source = path.read_text(encoding="utf-8")
    marked = {n for n, line in enumerate(source.splitlines(), 1) if "# data:" in line}
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and node.lineno not in marked):
            yield node.lineno, node.value


def test_no_python_module_of_the_app_carries_chinese_outside_data():
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in DATA_MODULES:
            continue
        found += [f"{name}:{line}: {text[:50]!r}" for line, text in _string_literals(path) if CJK.search(text)]
    assert found == [], "\n".join(found[:30])


def test_no_template_carries_chinese():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CJK.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:60]}")
    assert found == [], "\n".join(found[:30])


def test_the_catalogs_compile_without_errors():
    from babel.messages.mofile import write_mo

    for language in BABEL_LOCALES:
        buffer = io.BytesIO()
        write_mo(buffer, _catalog(language))
        assert buffer.getvalue()


# The switch, as a reader meets it.

def test_pages_are_chinese_by_default_and_english_on_request(client):
    chinese = client.get("/login").get_data(as_text=True)
    assert "第二课堂成绩单" in chinese and "Second Transcript" not in chinese
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Second Transcript" in english and "第二课堂成绩单" not in english
    assert '<html lang="en"' in english and '<html lang="zh-CN"' in chinese


def test_the_language_chosen_is_kept_for_the_next_page(client):
    client.get("/login?lang=en")
    assert "Second Transcript" in client.get("/login").get_data(as_text=True)
    client.get("/login?lang=zh_CN")
    assert "第二课堂成绩单" in client.get("/login").get_data(as_text=True)


def test_an_english_browser_reads_english_until_it_chooses(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Second Transcript" in page and "第二课堂成绩单" not in page
    page = client.get("/login?lang=zh_CN", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "第二课堂成绩单" in page.get_data(as_text=True)


def test_an_unknown_language_changes_nothing(client):
    page = client.get("/login?lang=xx").get_data(as_text=True)
    assert "第二课堂成绩单" in page


def test_every_page_offers_the_other_language(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'hreflang="en"' in page and "lang=en" in page
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'hreflang="zh-CN"' in page and "lang=zh_CN" in page
