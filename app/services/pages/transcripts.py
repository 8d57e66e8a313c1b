"""Transcripts as pages show them: the admin's revocation desk, a student's own list."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from app.models import Transcript, User
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


def my_transcripts(session: Session, actor: User | None) -> list:
    """The signed-in student's own transcripts, newest first."""
    from app.services.transcripts import list_transcripts

    if actor is None or not actor.is_student:
        return []
    return list_transcripts(session, actor, actor.student_no)
