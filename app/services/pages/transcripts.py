"""Transcripts as pages show them: the admin's revocation desk, a student's own list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import Transcript, TranscriptShare, User
from app.services.errors import Forbidden
from app.services.pages.common import PER_PAGE, Page, paginate, require_admin


def transcripts_page(
    session: Session, actor: User | None, student_no: str | None = None, page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Issued transcripts, newest first, optionally of one student: the admin's revocation desk."""
    require_admin(actor, _("Only the Youth League office manages transcripts"))
    query = (
        select(Transcript).join(User, User.id == Transcript.student_id)
        .options(joinedload(Transcript.student))
        .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
    )
    number = (student_no or "").strip()
    if number:
        query = query.where(or_(User.student_no == number, Transcript.serial == number.upper()))
    return paginate(session, query, page, per_page)


def my_transcripts(session: Session, actor: User | None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the signed-in student's own transcripts, newest first (anyone else: none)."""
    if actor is None or not actor.is_student:
        return Page([], 0, 1, per_page)
    return paginate(session, select(Transcript).where(Transcript.student_id == actor.id)
                    .order_by(Transcript.issued_at.desc(), Transcript.id.desc()), page, per_page)


@dataclass
class HolderPage:
    """One transcript as its holder's page shows it: the public check and the share links.

    The admin opens it too and sees the same facts, without the controls (the choice is the
    student's) and without the share links (they are the student's correspondence)."""

    transcript: Transcript
    open: bool
    today: date
    can_decide: bool
    shares: list[TranscriptShare] = field(default_factory=list)


def holder_page(session: Session, actor: User | None, serial: str) -> HolderPage:
    from app.services import holder
    from app.services.transcripts import get_transcript

    transcript = get_transcript(session, serial)
    if not permissions.can_issue_transcript(actor, transcript.student):
        raise Forbidden(_("You may not see this transcript"))
    can_decide = permissions.can_decide_who_looks(actor, transcript.student)
    return HolderPage(
        transcript, holder.is_open(transcript.public, transcript.public_until), holder.school_today(), can_decide,
        holder.list_shares(session, actor, serial) if can_decide else [],
    )
