"""Achievement claims: a student's outside achievement, with evidence, reviewed by an
organizer in scope. A certified claim counts like a participation (hours, the transcript,
marked as a claim); it is never edited, only revoked with a reason, like a record.

Who sees a claim: the claimant, the organizers for whom the student is in scope
(services.scope), the admin; to anyone else it does not exist (404). Nobody reviews their own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app import permissions
from app.models import (
    STUDENT_ROLES,
    Claim,
    ClaimFile,
    ClaimStatus,
    Role,
    Transcript,
    TranscriptClaim,
    TranscriptStatus,
    User,
)
from app.services import evidence
from app.services.activities import check_title_module_level, parse_hours
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.evidence import Upload
from app.services.modules import module_keys
from app.services.notifications import notify
from app.services.scope import scoped_student_ids, student_in_scope
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import to_local, utcnow

MAX_TEXT = 5000
# Outside achievements older than this are the past transcript's, not this one's.
OLDEST_YEARS = 8


def _in_scope(session: Session, actor: User | None, claim: Claim) -> bool:
    return actor is not None and actor.role == Role.ORGANIZER and student_in_scope(session, actor, claim.student)


def may_see(session: Session, actor: User | None, claim: Claim) -> bool:
    if permissions.is_admin(actor):
        return True
    if actor is not None and actor.id == claim.student_id:
        return True
    return _in_scope(session, actor, claim)


def may_review(session: Session, actor: User | None, claim: Claim) -> bool:
    """An organizer in scope or the admin; never the claimant (separation of duties)."""
    if actor is not None and actor.id == claim.student_id:
        return False
    return permissions.is_admin(actor) or _in_scope(session, actor, claim)


def check_claim(values: dict, uploads: list[Upload], today: dt.date,
                modules: tuple[str, ...]) -> tuple[dict, list[str]]:
    """Every problem at once, by field; nothing is stored when there is one."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    check_title_module_level(values, errors, out, modules)
    occurred = values.get("occurred_on")
    if not isinstance(occurred, dt.date):
        errors["occurred_on"] = [_("A date (YYYY-MM-DD)")]
    elif occurred > today:
        errors["occurred_on"] = [_("A date in the future: claim it once it has happened")]
    elif occurred.year < today.year - OLDEST_YEARS:
        errors["occurred_on"] = [_("More than %(years)s years ago", years=OLDEST_YEARS)]
    out["occurred_on"] = occurred
    hours = parse_hours(values.get("hours"), errors, "hours")
    cap = Decimal(str(current_app.config["CLAIM_MAX_HOURS"]))
    if hours is not None and hours > cap:
        errors["hours"] = [_("A claim is worth at most %(cap)s h", cap=cap)]
    out["hours"] = hours
    award = (values.get("award") or "").strip() or None
    if award and len(award) > 100:
        errors["award"] = [_("At most 100 characters")]
    out["award"] = award
    description = (values.get("description") or "").strip() or None
    if description and len(description) > MAX_TEXT:
        errors["description"] = [_("At most %(max)s characters", max=MAX_TEXT)]
    out["description"] = description
    most = int(current_app.config["EVIDENCE_MAX_FILES"])
    types: list = []
    if not uploads:
        errors["files"] = [_("At least one evidence file (a PDF, JPEG or PNG)")]
    elif len(uploads) > most:
        errors["files"] = [_("At most %(max)s files", max=most)]
    else:
        types, bad = evidence.check(uploads)
        if bad:
            errors["files"] = bad
    if errors:
        raise Invalid(errors, _("The claim was not saved: see the marked fields"))
    return out, types


def require_claimant(actor: User | None) -> None:
    if actor is None or actor.role not in STUDENT_ROLES:
        raise Forbidden(_("Only students claim achievements"))


def submit_claim(session: Session, actor: User | None, uploads: list[Upload], **values) -> Claim:
    require_claimant(actor)
    claim_values, types = check_claim(values, uploads, to_local(utcnow()).date(), module_keys(session))
    claim = Claim(student_id=actor.id, status=ClaimStatus.SUBMITTED, **claim_values)
    for position, (upload, media_type) in enumerate(zip(uploads, types, strict=True), start=1):
        claim.files.append(ClaimFile(
            position=position, name=evidence.clean_name(upload.name, media_type), media_type=media_type,
            size=len(upload.data), sha256=evidence.store(upload.data),
        ))
    session.add(claim)
    session.flush()
    append_event(session, actor, "claim.submit", "claim", claim.id, {
        "title": claim.title, "hours": str(claim.hours), "files": [f.sha256 for f in claim.files],
    })
    return claim


def get_claim(session: Session, actor: User | None, claim_id: int, *, lock: bool = False) -> Claim:
    """The claim if the actor may see it; otherwise, as for a claim that does not exist, 404."""
    if lock:
        lock_row(session, Claim, claim_id)
    claim = session.execute(
        select(Claim).where(Claim.id == claim_id).options(selectinload(Claim.files))
        .execution_options(populate_existing=lock)
    ).scalar_one_or_none()
    if claim is None or not may_see(session, actor, claim):
        raise NotFound(_("No claim #%(id)s", id=claim_id))
    return claim


def claim_file(session: Session, actor: User | None, claim_id: int, position: int,
               *, preview: bool = False) -> tuple[ClaimFile, bytes, str]:
    """An evidence file's row, bytes and type; `preview`: a PDF's first page as a PNG."""
    claim = get_claim(session, actor, claim_id)
    for f in claim.files:
        if f.position == position:
            if preview and f.media_type == evidence.PDF:
                return f, evidence.preview_png(f.sha256), evidence.PNG
            return f, evidence.read(f.sha256), f.media_type
    raise NotFound(_("No file %(n)s in claim #%(id)s", n=position, id=claim_id))


def _visible(actor: User | None):
    if permissions.is_admin(actor):
        return None
    if actor.role == Role.ORGANIZER:
        return Claim.student_id.in_(scoped_student_ids(actor))
    return Claim.student_id == actor.id


def list_claims(
    session: Session, actor: User | None, status: str | None = None, *, page: int = 1, per_page: int = 50,
) -> tuple[list[Claim], int]:
    """Own claims for a student, those in scope for an organizer, all for the admin; newest first
    (a reviewer's queue, status=submitted, oldest first: first come, first reviewed)."""
    query = select(Claim)
    visible = _visible(actor)
    if visible is not None:
        query = query.where(visible)
    if status:
        query = query.where(Claim.status == status)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    order = (Claim.submitted_at.asc(), Claim.id) if status == ClaimStatus.SUBMITTED else (
        Claim.submitted_at.desc(), Claim.id.desc())
    rows = list(session.execute(
        query.options(selectinload(Claim.files), selectinload(Claim.student))
        .order_by(*order).offset((page - 1) * per_page).limit(per_page)
    ).scalars())
    return rows, total


def _reviewable(session: Session, actor: User | None, claim_id: int) -> Claim:
    claim = get_claim(session, actor, claim_id, lock=True)
    if actor is not None and actor.id == claim.student_id:
        raise Forbidden(_("Nobody certifies their own claim"))
    if not may_review(session, actor, claim):
        raise Forbidden(_("Only an organizer for whom the student is in scope, or the admin, reviews claims"))
    return claim


def certify_claim(session: Session, actor: User | None, claim_id: int, note: str | None = None,
                  *, on_appeal: bool = False) -> Claim:
    """Certify a claim awaiting review (or, on an upheld appeal, a rejected one)."""
    claim = _reviewable(session, actor, claim_id)
    allowed = (ClaimStatus.SUBMITTED, ClaimStatus.REJECTED) if on_appeal else (ClaimStatus.SUBMITTED,)
    if claim.status not in allowed:
        raise Conflict(_("This claim is %(status)s: only a claim awaiting review is certified",
                         status=claim.status_label))
    note = (note or "").strip() or None
    if note and len(note) > 2000:
        raise Invalid({"note": [_("At most %(max)s characters", max=2000)]})
    reviewer = acting(session, actor)
    before = claim.status
    claim.status = ClaimStatus.CERTIFIED
    claim.reviewed_at, claim.reviewed_by_id, claim.reason = utcnow(), reviewer.id, note
    session.flush()
    append_event(session, reviewer, "claim.certify", "claim", claim.id,
                 {"from": before, "hours": str(claim.hours), "note": note})
    notify(session, claim.student_id, "claim.certified", link=f"/claims/{claim.id}",
           title=claim.title, hours=claim.hours)
    return claim


def reject_claim(session: Session, actor: User | None, claim_id: int, reason: str | None) -> Claim:
    claim = _reviewable(session, actor, claim_id)
    reason = checked_reason(reason)
    if claim.status != ClaimStatus.SUBMITTED:
        raise Conflict(_("This claim is %(status)s: only a claim awaiting review is rejected",
                         status=claim.status_label))
    reviewer = acting(session, actor)
    claim.status = ClaimStatus.REJECTED
    claim.reviewed_at, claim.reviewed_by_id, claim.reason = utcnow(), reviewer.id, reason
    session.flush()
    append_event(session, reviewer, "claim.reject", "claim", claim.id, {"reason": reason})
    notify(session, claim.student_id, "claim.rejected", link=f"/claims/{claim.id}", title=claim.title, reason=reason)
    return claim


def revoke_claim(session: Session, actor: User | None, claim_id: int, reason: str | None) -> Claim:
    """Withdraw a certified claim; every valid transcript carrying it becomes amended."""
    claim = _reviewable(session, actor, claim_id)
    reason = checked_reason(reason)
    if claim.status != ClaimStatus.CERTIFIED:
        raise Conflict(_("Only a certified claim is revoked"))
    reviewer = acting(session, actor)
    claim.status = ClaimStatus.REVOKED
    claim.revoked_at, claim.revoked_by_id, claim.revoke_reason = utcnow(), reviewer.id, reason
    session.flush()
    append_event(session, reviewer, "claim.revoke", "claim", claim.id, {"reason": reason, "hours": str(claim.hours)})
    carrying = list(session.execute(
        select(Transcript).join(TranscriptClaim, TranscriptClaim.transcript_id == Transcript.id)
        .where(TranscriptClaim.claim_id == claim.id, Transcript.status == TranscriptStatus.VALID)
    ).scalars())
    for transcript in carrying:
        transcript.status = TranscriptStatus.AMENDED
        transcript.amended_at = transcript.amended_at or claim.revoked_at
        append_event(session, reviewer, "transcript.amend", "transcript", transcript.serial,
                     {"claim_id": claim.id, "hours": str(claim.hours), "reason": reason})
        notify(session, claim.student_id, "transcript.amended", link="/me", serial=transcript.serial)
    notify(session, claim.student_id, "claim.revoked", link=f"/claims/{claim.id}", title=claim.title, reason=reason)
    session.flush()
    return claim


def certified_claims(session: Session, student_id: int) -> list[Claim]:
    return list(session.execute(
        select(Claim).where(Claim.student_id == student_id, Claim.status == ClaimStatus.CERTIFIED)
        .options(selectinload(Claim.reviewed_by)).order_by(Claim.occurred_on, Claim.id)
    ).scalars())
