"""The holder decides who may look (PRODUCT.md): the public check's validity and share links.

A transcript's public check (the verify page, its JSON, the upload check) answers with the
contents only while it is open: `public` and the school's today on or before `public_until`
(180 days after issue unless the student chooses otherwise, as 学信网's online reports). The
student extends, closes and reopens it, and may give one recipient a share link of its own
expiry that opens the full check even while the public one is closed. Every change is audited.

`verification` reads the same columns through Core for the fast path; this module writes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Transcript, TranscriptShare, User
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.transactions import lock_row
from app.services.transcripts import PUBLIC_VALIDITY, get_transcript
from app.timeutil import to_local, utcnow

# 学信网's default validity for an online report; also what "extend" adds.
DEFAULT_VALIDITY = PUBLIC_VALIDITY
# Further ahead than this is "forever" in disguise, which is what the holder's control replaces.
MAX_AHEAD = timedelta(days=5 * 365)
# A share link for one recipient defaults to a month: long enough for a hiring round.
DEFAULT_SHARE_VALIDITY = timedelta(days=30)
MAX_LABEL = 120
SHARE_TOKEN_BYTES = 24  # 192 bits: not guessable, even at the verification budget


def school_today() -> date:
    """The school's calendar day now (the validity is a school date, open through its end)."""
    return to_local(utcnow()).date()


def default_public_until(issued_at) -> date:
    """A new transcript's public check: open for 180 days from its issue (school date)."""
    return to_local(issued_at).date() + DEFAULT_VALIDITY


def is_open(public: bool, public_until: date | None, today: date | None = None) -> bool:
    """Whether the public may see the contents: switched on and not lapsed."""
    if not public or public_until is None:
        return False
    return (today or school_today()) <= public_until


def _own_transcript(session: Session, actor: User | None, serial: str) -> Transcript:
    transcript = get_transcript(session, serial)
    if not permissions.can_decide_who_looks(actor, transcript.student):
        raise Forbidden(_("Only the student decides who may see their transcript"))
    return transcript


def _checked_date(name: str, value: date, today: date) -> date:
    """A validity the holder may choose: from today up to five years ahead."""
    if value < today:
        raise Invalid({name: [_("A date from today on")]})
    if value > today + MAX_AHEAD:
        raise Invalid({name: [_("At most %(years)s years ahead", years=MAX_AHEAD.days // 365)]})
    return value


def set_public_check(session: Session, actor: User | None, serial: str, *, public: bool | None = None,
                     public_until: date | None = None, extend: bool = False) -> Transcript:
    """Open, close, reopen or re-date the public check (the API's PATCH and the page's forms).

    `extend` adds 180 days to the later of today and the current validity (the page's button).
    Reopening a lapsed check without a date opens it for a fresh 180 days, so "reopen" never
    leaves it closed. Nothing is written when the input is wrong or changes nothing.
    """
    transcript = _own_transcript(session, actor, serial)
    today = school_today()
    if public is not None and not isinstance(public, bool):
        raise Invalid({"public": [_("Not a valid boolean.")]})
    if public_until is not None and not isinstance(public_until, date):
        raise Invalid({"public_until": [_("Not a valid date.")]})
    lock_row(session, Transcript, transcript.id)
    session.refresh(transcript)
    before = {"public": transcript.public, "public_until": transcript.public_until.isoformat()}
    until = transcript.public_until
    if extend:
        until = min(max(today, until) + DEFAULT_VALIDITY, today + MAX_AHEAD)
        public = True if public is None else public
    elif public_until is not None:
        until = _checked_date("public_until", public_until, today)
    elif public and until < today:
        until = today + DEFAULT_VALIDITY
    transcript.public = transcript.public if public is None else public
    transcript.public_until = until
    after = {"public": transcript.public, "public_until": transcript.public_until.isoformat()}
    if after != before:
        append_event(session, actor, "transcript.public_check", "transcript", transcript.serial,
                     {"before": before, "after": after})
    session.flush()
    return transcript


@dataclass(frozen=True)
class NewShare:
    """A share link just made: the token is shown once (only its hash is kept)."""

    share: TranscriptShare
    token: str

    @property
    def url(self) -> str:
        return share_url(self.token)

    def __getattr__(self, name: str):
        # The share's own fields (id, label, expires_on…), so one schema dumps both.
        return getattr(self.share, name)


def share_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/share/{token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_share(session: Session, actor: User | None, serial: str, *, expires_on: date | None = None,
                 label: str | None = None) -> NewShare:
    """A link for one recipient (the label says whom), open through `expires_on`."""
    transcript = _own_transcript(session, actor, serial)
    today = school_today()
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise Invalid({"label": [_("At most %(max)s characters", max=MAX_LABEL)]})
    expires_on = (today + DEFAULT_SHARE_VALIDITY if expires_on is None
                  else _checked_date("expires_on", expires_on, today))
    token = secrets.token_urlsafe(SHARE_TOKEN_BYTES)
    share = TranscriptShare(transcript_id=transcript.id, token_sha256=token_hash(token), label=label,
                            expires_on=expires_on, created_at=utcnow(), created_by_id=actor.id if actor else None)
    session.add(share)
    session.flush()
    append_event(session, actor, "transcript.share", "transcript", transcript.serial,
                 {"share_id": share.id, "label": label, "expires_on": expires_on.isoformat()})
    session.flush()
    return NewShare(share, token)


def list_shares(session: Session, actor: User | None, serial: str) -> list[TranscriptShare]:
    """The transcript's share links, newest first, withdrawn and expired ones included."""
    transcript = _own_transcript(session, actor, serial)
    return list(session.execute(
        select(TranscriptShare).where(TranscriptShare.transcript_id == transcript.id)
        .order_by(TranscriptShare.created_at.desc(), TranscriptShare.id.desc())
    ).scalars())


def withdraw_share(session: Session, actor: User | None, serial: str, share_id: int) -> TranscriptShare:
    transcript = _own_transcript(session, actor, serial)
    share = session.get(TranscriptShare, share_id)
    if share is None or share.transcript_id != transcript.id:
        raise NotFound(_("No such share link"))
    if share.withdrawn_at is not None:
        raise Conflict(_("Already withdrawn"))
    share.withdrawn_at = utcnow()
    append_event(session, actor, "transcript.unshare", "transcript", transcript.serial, {"share_id": share.id})
    session.flush()
    return share


def share_is_live(share: TranscriptShare, today: date | None = None) -> bool:
    return share.withdrawn_at is None and (today or school_today()) <= share.expires_on


def shared_serial(session: Session, token: str) -> str | None:
    """The serial a live share link opens, or None (unknown, withdrawn or expired alike)."""
    share = session.execute(
        select(TranscriptShare).where(TranscriptShare.token_sha256 == token_hash(token))
    ).scalar_one_or_none()
    if share is None or not share_is_live(share):
        return None
    return share.transcript.serial
