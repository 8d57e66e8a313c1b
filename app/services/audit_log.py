"""Reading the audit log: the admin's filters (actor, action, object, time), newest first, a
page at a time or as CSV; and the state of the log (chain, checkpoints) the admin page shows."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import AuditEvent, AuditHead, User
from app.services.errors import Forbidden, Invalid
from app.services.exports import Table, to_csv
from app.services.pages.common import Page
from app.timeutil import school_zone, to_local

MAX_PER_PAGE = 200
#: An action (`participation.certify`) or a whole kind of object (`participation`).
ACTION_RE = re.compile(r"^[a-z][a-z_]{0,39}(\.[a-z][a-z_]{0,39})?$")
OBJECT_RE = re.compile(r"^([a-z][a-z_]{0,39}):(\S{1,64})$")
#: The CSV holds at most this many events; narrow the filters for more.
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    action: str | None = None
    object: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.actor_id, self.action, self.object, self.since, self.until))


def _require_admin(actor: User | None) -> None:
    if not permissions.is_admin(actor):
        raise Forbidden(_("Only the admin reads the audit log"))


def _moment(value: datetime | str | None, field: str, errors: dict, *, end: bool = False) -> datetime | None:
    """A time (the API) or a day `YYYY-MM-DD` of the page's form: its start, or with `end` its last instant."""
    if value is None or isinstance(value, datetime):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = [_("A date such as 2026-09-01")]
        return None
    start = datetime.combine(day + timedelta(days=1) if end else day, time.min, school_zone())
    return start - timedelta(microseconds=1) if end else start


def check_filters(
    *, actor_id: int | str | None = None, action: str | None = None, object: str | None = None,  # noqa: A002
    since: datetime | str | None = None, until: datetime | str | None = None,
) -> Filters:
    """The filters, or Invalid naming each bad one (the page and the API share the reasons)."""
    errors: dict[str, list[str]] = {}
    action = (action or "").strip() or None
    object = (object or "").strip() or None  # noqa: A001
    if isinstance(actor_id, str):
        text = actor_id.strip()
        actor_id = int(text) if text.isdigit() and len(text) < 10 else (-1 if text else None)
    if action is not None and not ACTION_RE.match(action):
        errors["action"] = [_("An action such as participation.certify, or a kind such as club")]
    if object is not None and not OBJECT_RE.match(object):
        errors["object"] = [_("An object written type:id, such as club:3")]
    if actor_id is not None and actor_id < 1:
        errors["actor_id"] = [_("An id (a whole number)")]
    since = _moment(since, "since", errors)
    until = _moment(until, "until", errors, end=True)
    if since is not None and until is not None and since > until:
        errors["until"] = [_("Must not be before the start")]
    if errors:
        raise Invalid(errors)
    return Filters(actor_id, action, object, since, until)


def _query(filters: Filters) -> Select:
    query = select(AuditEvent)
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.action is not None:
        query = query.where(AuditEvent.action == filters.action if "." in filters.action
                            else AuditEvent.action.startswith(filters.action + ".", autoescape=True))
    if filters.object is not None:
        object_type, object_id = OBJECT_RE.match(filters.object).groups()
        query = query.where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at <= filters.until)
    return query


@dataclass
class EventPage(Page):
    """One page of events, with the people who acted in them."""

    actors: dict[int, User] = field(default_factory=dict)


def _actors(session: Session, events: list[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}


def list_events(session: Session, actor: User | None, page: int = 1, per_page: int = 50,
                **filters) -> EventPage:
    """One page of the events the filters select, newest first (by their place in the chain).

    Who asks is checked before the filters: only the admin learns why a filter is wrong.
    """
    _require_admin(actor)
    return _events_page(session, check_filters(**filters), page, per_page)


def _events_page(session: Session, filters: Filters, page: int, per_page: int) -> EventPage:
    page = max(1, int(page or 1))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page or 50)))
    query = _query(filters)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    events = list(session.execute(
        query.order_by(AuditEvent.seq.desc()).limit(per_page).offset((page - 1) * per_page)
    ).scalars())
    return EventPage(events, total, page, per_page, actors=_actors(session, events))


def actor_label(event: AuditEvent, actors: dict[int, User]) -> str:
    user = actors.get(event.actor_id) if event.actor_id is not None else None
    if user is None:
        return _("user #%(id)s", id=event.actor_id) if event.actor_id is not None else "—"
    return f"{user.display_name} ({user.username})"


def details(event: AuditEvent, limit: int = 300) -> str:
    """An event's data as one line for the page (the CSV and the API carry all of it)."""
    text = json.dumps(event.data, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def export_csv(session: Session, actor: User | None, **filters) -> bytes:
    """The filtered events as CSV (UTF-8 with BOM), newest first, with their hashes."""
    _require_admin(actor)
    filters = check_filters(**filters)
    events = list(session.execute(
        _query(filters).order_by(AuditEvent.seq.desc()).limit(EXPORT_LIMIT)
    ).scalars())
    actors = _actors(session, events)
    table = Table(
        title=_("Audit log"),
        headers=[_("Seq"), _("Time"), _("Actor ID"), _("Actor"), _("Action"), _("Object"), _("Details"),
                 _("Hash"), _("Previous hash")],
        rows=[[e.seq, to_local(e.at).isoformat(), e.actor_id, actor_label(e, actors), e.action,
               f"{e.object_type}:{e.object_id}", json.dumps(e.data, ensure_ascii=False, sort_keys=True),
               e.hash, e.prev_hash] for e in events],
        slug="audit-log",
    )
    return to_csv(table)


@dataclass
class LogState:
    events: int
    chain_ok: bool
    chain_reason: str
    broken_seq: int | None
    checkpoints_ok: bool
    checkpoints_reason: str
    last_checkpoint: object | None

    @property
    def last_checkpoint_at(self) -> datetime | None:
        return datetime.fromisoformat(self.last_checkpoint.at) if self.last_checkpoint else None


def _log_state(session: Session) -> LogState:
    """Is the chain whole, does it match its checkpoints (what the admin page shows above the table)."""
    from app.services.audit import verify_chain
    from app.services.audit_checkpoints import last_checkpoint, verify_checkpoints

    chain = verify_chain(session)
    try:
        checked = verify_checkpoints(session)
        cp_ok, cp_reason = checked.ok, checked.reason
        last = last_checkpoint()
    except Invalid as error:
        cp_ok, cp_reason, last = False, "; ".join(r for rs in error.fields.values() for r in rs), None
    head = session.get(AuditHead, 1)
    return LogState(head.seq if head else 0, chain.ok, chain.reason, chain.broken_seq, cp_ok, cp_reason, last)


@dataclass
class AuditPage:
    events: EventPage
    state: LogState
    filters: Filters
    errors: dict[str, list[str]]


def audit_page(session: Session, actor: User | None, page: int = 1, per_page: int = 50, **filters) -> AuditPage:
    """The admin page: the state of the log and one page of events; bad filters are named, not fatal."""
    _require_admin(actor)
    try:
        checked, errors = check_filters(**filters), {}
    except Invalid as error:
        checked, errors = Filters(), error.fields
    events = _events_page(session, checked, page, per_page) if not errors else EventPage([], 0, 1, per_page)
    return AuditPage(events, _log_state(session), checked, errors)
