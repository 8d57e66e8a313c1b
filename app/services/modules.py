"""The office's list of modules (#15): the seven national ones unless the office renames them, and
any it adds. A record carries a module's key; its names are read from here, so a rename shows
everywhere at once, while an issued transcript keeps the names it was issued with.

The table holds only what the office changed or added: an empty table is the national list, so a
new database needs no seeding. The list is read once per session (`session.info`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import permissions
from app.i18n import pick
from app.models import Module, User
from app.models.rules import CreditModule
from app.services.audit import append_event
from app.services.errors import Forbidden, Invalid, NotFound

_CACHE = "credit_modules"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,19}$")
MAX_MODULES = 20


@dataclass(frozen=True)
class ModuleInfo:
    key: str
    name_zh: str
    name_en: str
    national: bool  # one of the seven of the national standard

    @property
    def pair(self) -> tuple[str, str]:
        return (self.name_zh, self.name_en)

    @property
    def label(self) -> str:
        return pick(self.pair)


def module_list(session: Session) -> list[ModuleInfo]:
    """Every module in the office's order: the national ones first unless the office placed
    them otherwise, then those it added."""
    cached = session.info.get(_CACHE)
    if cached is not None:
        return cached
    rows = {m.key: m for m in session.execute(select(CreditModule)).scalars()}
    national = [m.value for m in Module]
    entries = []
    for position, key in enumerate(national):
        row = rows.pop(key, None)
        zh, en = row.pair if row else Module(key).pair
        entries.append((row.position if row else position, ModuleInfo(key, zh, en, True)))
    for row in rows.values():
        entries.append((row.position, ModuleInfo(row.key, row.name_zh, row.name_en, False)))
    out = [info for _, info in sorted(entries, key=lambda e: e[0])]
    session.info[_CACHE] = out
    return out


def module_keys(session: Session) -> tuple[str, ...]:
    return tuple(m.key for m in module_list(session))


def module_titles(session: Session) -> dict[str, tuple[str, str]]:
    return {m.key: m.pair for m in module_list(session)}


def module_label(session: Session, key: str) -> str:
    """A module's name in the reader's language (the key itself for one the office never had)."""
    pair = module_titles(session).get(key)
    return pick(pair) if pair else key


def module_choices(session: Session) -> list[tuple[str, str]]:
    return [(m.key, m.label) for m in module_list(session)]


def _names(values: dict) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    names = []
    for field, limit in (("name_zh", 40), ("name_en", 80)):
        text = (values.get(field) or "").strip()
        if not text:
            errors[field] = [_("Required")]
        elif len(text) > limit:
            errors[field] = [_("At most %(n)d characters", n=limit)]
        names.append(text)
    if errors:
        raise Invalid(errors, _("Check the module's names"))
    return names[0], names[1]


def _check_unique_names(session: Session, key: str, name_zh: str, name_en: str) -> None:
    for other in module_list(session):
        if other.key != key and (other.name_zh == name_zh or other.name_en.lower() == name_en.lower()):
            field = "name_zh" if other.name_zh == name_zh else "name_en"
            raise Invalid({field: [_("Another module has this name")]}, _("Another module has this name"))


def add_module(session: Session, actor: User | None, values: dict) -> ModuleInfo:
    if not permissions.can_set_rules(actor):
        raise Forbidden(_("Only the admin sets the credit rules"))
    key = (values.get("key") or "").strip()
    if not KEY_PATTERN.match(key):
        reason = _("2 to 20 lowercase letters, digits or underscores, starting with a letter")
        raise Invalid({"key": [reason]}, _("Check the module's key"))
    if key in module_keys(session):
        raise Invalid({"key": [_("A module with this key exists")]}, _("Check the module's key"))
    if len(module_list(session)) >= MAX_MODULES:
        reason = _("At most %(n)d modules", n=MAX_MODULES)
        raise Invalid({"key": [reason]}, reason)
    name_zh, name_en = _names(values)
    _check_unique_names(session, key, name_zh, name_en)
    last = session.execute(select(func.max(CreditModule.position))).scalar()
    position = max(last if last is not None else 0, len(Module) - 1) + 1
    session.add(CreditModule(key=key, name_zh=name_zh, name_en=name_en, position=position))
    append_event(session, actor, "module.add", "module", key, {"name_zh": name_zh, "name_en": name_en})
    session.flush()
    session.info.pop(_CACHE, None)
    return next(m for m in module_list(session) if m.key == key)


def rename_module(session: Session, actor: User | None, key: str, values: dict) -> ModuleInfo:
    """New names for a module. Records keep their key, so they follow; issued transcripts keep the
    names printed on them."""
    if not permissions.can_set_rules(actor):
        raise Forbidden(_("Only the admin sets the credit rules"))
    current = next((m for m in module_list(session) if m.key == key), None)
    if current is None:
        raise NotFound(_("No such module"))
    name_zh, name_en = _names(values)
    _check_unique_names(session, key, name_zh, name_en)
    row = session.get(CreditModule, key)
    if row is None:
        position = [m.value for m in Module].index(key)
        row = CreditModule(key=key, name_zh=name_zh, name_en=name_en, position=position)
        session.add(row)
    else:
        row.name_zh, row.name_en = name_zh, name_en
    append_event(session, actor, "module.rename", "module", key, {
        "from": list(current.pair), "to": [name_zh, name_en]})
    session.flush()
    session.info.pop(_CACHE, None)
    return next(m for m in module_list(session) if m.key == key)
