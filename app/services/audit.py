"""Append to and verify the audit hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import AuditEvent, AuditHead, User
from app.timeutil import utcnow

GENESIS = "0" * 64


def _event_hash(
    seq: int, at: str, actor_id: int | None, action: str, object_type: str, object_id: str,
    data: dict, prev_hash: str,
) -> str:
    body = json.dumps(
        {
            "seq": seq,
            "at": at,
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _ensure_head(session: Session) -> None:
    """Create the head row once; two first events at the same moment must not both insert it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two databases we run on
        raise RuntimeError(f"unsupported database {dialect}")
    session.execute(
        insert(AuditHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing(index_elements=["id"])
    )


def append_event(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any,
    data: dict | None = None,
) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction (the caller commits).

    The head row is updated before it is read (one UPDATE … RETURNING), which takes the write
    lock on SQLite and a row lock on PostgreSQL, so concurrent appenders queue instead of
    forking the chain.
    """
    bump = (update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
            .returning(AuditHead.seq, AuditHead.hash))
    head = session.execute(bump).first()
    if head is None:  # the first event ever: the head row is made, once
        _ensure_head(session)
        head = session.execute(bump).one()
    seq, prev_hash = head
    data = json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))
    at = utcnow()
    event = AuditEvent(
        seq=seq,
        at=at,
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data,
        prev_hash=prev_hash,
    )
    event.hash = _event_hash(
        event.seq, at.isoformat(), event.actor_id, action, object_type, event.object_id, data,
        prev_hash,
    )
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    session.add(event)
    return event


@dataclass
class ChainReport:
    ok: bool
    events: int
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; report the first event that does not fit."""
    prev = GENESIS
    count = 0
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for expected_seq, event in enumerate(events, start=1):
        count += 1
        if event.seq != expected_seq:
            return ChainReport(False, count, expected_seq, _("Event #%(seq)s is missing", seq=expected_seq))
        if event.prev_hash != prev:
            return ChainReport(False, count, event.seq, _("It does not follow the previous event"))
        recomputed = _event_hash(
            event.seq, event.at.isoformat(), event.actor_id, event.action, event.object_type,
            event.object_id, event.data, event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainReport(False, count, event.seq, _("Its content was changed after it was written"))
        prev = event.hash
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != count or head_hash != prev:
        return ChainReport(
            False, count, count + 1, _("The chain should hold %(count)s events; it ends early", count=head_seq)
        )
    return ChainReport(True, count)
