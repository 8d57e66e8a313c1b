"""Appeals: a student contests a rejected record or claim, or says a record is missing,
within APPEAL_DAYS of the rejection (or of the activity's end). An organizer in scope — one who
may sign the activity off, or review the claim — resolves it with a reason. An upheld appeal
changes the record only through the normal paths: a corrected (or the missing) record is
recorded and certified by `participations.certify`, a claim by `claims.certify_claim`; nothing
is edited in place, and every step is audited.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    STUDENT_ROLES,
    Activity,
    ActivityStatus,
    Appeal,
    AppealStatus,
    Claim,
    ClaimStatus,
    Participation,
    ParticipationSource,
    ParticipationStatus,
    Role,
    User,
)
from app.services import claims as claim_service
from app.services import participations
from app.services.activities import get_activity
from app.services.audit import append_event
from app.services.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, checked_reason
from app.services.notifications import notify
from app.services.scope import overseen_club_ids, scoped_student_ids
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import utcnow

DECISIONS = (AppealStatus.UPHELD, AppealStatus.DISMISSED)


def window() -> timedelta:
    return timedelta(days=int(current_app.config["APPEAL_DAYS"]))


def _require_window(since) -> None:
    if utcnow() > since + window():
        raise Conflict(_("Appeals are taken within %(days)s days; this one is past its window",
                         days=window().days))


def _no_open_twin(session: Session, **subject) -> None:
    column, value = next(iter(subject.items()))
    twin = session.execute(select(Appeal.id).where(
        getattr(Appeal, column) == value, Appeal.status == AppealStatus.OPEN)).first()
    if twin:
        raise Conflict(_("An appeal about this is already open (#%(id)s)", id=twin.id))


def subject_title(appeal: Appeal) -> str:
    if appeal.claim is not None:
        return appeal.claim.title
    if appeal.participation is not None:
        return appeal.participation.activity.title
    return appeal.activity.title


def check_subject(session: Session, actor: User | None, participation_id: int | None, activity_id: int | None,
             claim_id: int | None) -> dict:
    """What the appeal is about, checked: its column and id; raises why it cannot be appealed."""
    if actor is None or actor.role not in STUDENT_ROLES:
        raise Forbidden(_("Only students appeal"))
    given = [name for name, value in (("participation_id", participation_id), ("activity_id", activity_id),
                                      ("claim_id", claim_id)) if value is not None]
    if len(given) != 1:
        raise Invalid({"participation_id": [_("Name one: a rejected record, a rejected claim, or the activity "
                                              "whose record is missing")]})
    if participation_id is not None:
        record = session.get(Participation, participation_id)
        if record is None or record.student_id != actor.id:
            raise NotFound(_("No participation #%(id)s", id=participation_id))
        if record.status != ParticipationStatus.REJECTED:
            raise Conflict(_("Only a rejected record is appealed; this one is %(status)s",
                             status=record.status_label))
        _require_window(record.rejected_at)
        _no_open_twin(session, participation_id=record.id)
        return {"participation_id": record.id}
    if claim_id is not None:
        claim = session.get(Claim, claim_id)
        if claim is None or claim.student_id != actor.id:
            raise NotFound(_("No claim #%(id)s", id=claim_id))
        if claim.status != ClaimStatus.REJECTED:
            raise Conflict(_("Only a rejected claim is appealed; this one is %(status)s", status=claim.status_label))
        _require_window(claim.reviewed_at)
        _no_open_twin(session, claim_id=claim.id)
        return {"claim_id": claim.id}
    activity = get_activity(session, activity_id)
    if activity.status not in (ActivityStatus.APPROVED, ActivityStatus.COMPLETED):
        raise Conflict(_("Only an activity that took place has records to miss"))
    if utcnow() < activity.ends_at:
        raise Conflict(_("The activity has not ended: its records are still being kept"))
    _require_window(activity.ends_at)
    live = session.execute(select(Participation.id).where(
        Participation.activity_id == activity.id, Participation.student_id == actor.id,
        Participation.status.in_((ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)))).first()
    if live:
        raise Conflict(_("You have a record for this activity; appeal its rejection instead"))
    twin = session.execute(select(Appeal.id).where(
        Appeal.activity_id == activity.id, Appeal.student_id == actor.id,
        Appeal.status == AppealStatus.OPEN)).first()
    if twin:
        raise Conflict(_("An appeal about this is already open (#%(id)s)", id=twin.id))
    return {"activity_id": activity.id}


def may_open(session: Session, actor: User | None, *, participation=None, activity=None, claim=None) -> bool:
    """Whether the page should offer this student an appeal (the same checks as opening one)."""
    try:
        check_subject(session, actor, participation.id if participation else None,
                 activity.id if activity else None, claim.id if claim else None)
    except DomainError:
        return False
    return True


def appealable_records(session: Session, actor: User | None, records: list[Participation]) -> set[int]:
    """Which of these records the page should offer an appeal of: `check_subject`'s checks for a
    record (the student's own, rejected, within the window, no appeal open) in one query for a
    page of records rather than one per rejected record."""
    if actor is None or actor.role not in STUDENT_ROLES:
        return set()
    now, days = utcnow(), window()
    candidates = {r.id for r in records if r.student_id == actor.id and r.status == ParticipationStatus.REJECTED
                  and r.rejected_at is not None and now <= r.rejected_at + days}
    if not candidates:
        return set()
    open_ones = set(session.execute(select(Appeal.participation_id).where(
        Appeal.participation_id.in_(candidates), Appeal.status == AppealStatus.OPEN)).scalars())
    return candidates - open_ones


def open_appeal(
    session: Session, actor: User | None, *, reason: str | None, participation_id: int | None = None,
    activity_id: int | None = None, claim_id: int | None = None,
) -> Appeal:
    subject = check_subject(session, actor, participation_id, activity_id, claim_id)
    reason = checked_reason(reason)
    appeal = Appeal(student_id=actor.id, reason=reason, status=AppealStatus.OPEN, **subject)
    session.add(appeal)
    session.flush()
    append_event(session, actor, "appeal.open", "appeal", appeal.id, {**subject, "reason": reason})
    return appeal


def _activity_of(appeal: Appeal) -> Activity | None:
    if appeal.participation is not None:
        return appeal.participation.activity
    return appeal.activity


def may_resolve(session: Session, actor: User | None, appeal: Appeal) -> bool:
    if actor is not None and actor.id == appeal.student_id:
        return False
    if appeal.claim is not None:
        return claim_service.may_review(session, actor, appeal.claim)
    return permissions.can_certify(actor, _activity_of(appeal))


def may_see(session: Session, actor: User | None, appeal: Appeal) -> bool:
    return (actor is not None and actor.id == appeal.student_id) or permissions.is_admin(actor) or \
        may_resolve(session, actor, appeal)


def get_appeal(session: Session, actor: User | None, appeal_id: int, *, lock: bool = False) -> Appeal:
    if lock:
        lock_row(session, Appeal, appeal_id)
    appeal = session.execute(
        select(Appeal).where(Appeal.id == appeal_id).execution_options(populate_existing=lock)
    ).scalar_one_or_none()
    if appeal is None or not may_see(session, actor, appeal):
        raise NotFound(_("No appeal #%(id)s", id=appeal_id))
    return appeal


def _corrected_record(session: Session, actor: User | None, appeal: Appeal) -> Participation:
    """The record the upheld appeal stands for: a copy of the rejected one, or the missing one."""
    if appeal.participation is not None:
        old = appeal.participation
        record = Participation(
            activity_id=old.activity_id, student_id=old.student_id, role=old.role, hours=old.hours,
            award=old.award, hours_reason=old.hours_reason,
        )
    else:
        record = Participation(activity_id=appeal.activity_id, student_id=appeal.student_id,
                               hours=appeal.activity.hours)
    record.source = ParticipationSource.APPEAL
    record.recorded_by_id = acting(session, actor).id
    session.add(record)
    session.flush()
    append_event(session, acting(session, actor), "participation.record", "activity", record.activity_id, {
        "participation_ids": [record.id], "source": ParticipationSource.APPEAL.value, "appeal_id": appeal.id,
    })
    return record


def resolve_appeal(session: Session, actor: User | None, appeal_id: int, decision: str, reason: str | None) -> Appeal:
    appeal = get_appeal(session, actor, appeal_id, lock=True)
    if actor is not None and actor.id == appeal.student_id:
        raise Forbidden(_("Nobody resolves their own appeal"))
    if not may_resolve(session, actor, appeal):
        raise Forbidden(_("Only an organizer who may sign this off, or the admin, resolves the appeal"))
    if decision not in DECISIONS:
        raise Invalid({"decision": [_("One of: %(choices)s", choices="upheld, dismissed")]})
    reason = checked_reason(reason)
    if appeal.status != AppealStatus.OPEN:
        raise Conflict(_("This appeal is already resolved (%(status)s)", status=appeal.status_label))
    if decision == AppealStatus.UPHELD:
        if appeal.claim is not None:
            claim_service.certify_claim(session, actor, appeal.claim_id, reason, on_appeal=True)
        else:
            activity = _activity_of(appeal)
            participations.require_signoff_open(activity)
            live = session.execute(select(Participation.id).where(
                Participation.activity_id == activity.id, Participation.student_id == appeal.student_id,
                Participation.status.in_((ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)))).first()
            if live:
                raise Conflict(_("The student has a record for this activity already; sign it off instead"))
            record = _corrected_record(session, actor, appeal)
            participations.certify(session, actor, record.activity_id, [record.id], reason)
            appeal = session.get(Appeal, appeal_id)
            appeal.result_participation_id = record.id
    resolver = acting(session, actor)
    appeal.status = decision
    appeal.resolved_at, appeal.resolved_by_id, appeal.resolution = utcnow(), resolver.id, reason
    session.flush()
    append_event(session, resolver, "appeal.resolve", "appeal", appeal.id, {
        "decision": decision, "reason": reason, "participation_id": appeal.result_participation_id,
    })
    notify(session, appeal.student_id, f"appeal.{decision}", link=f"/appeals/{appeal.id}",
           subject=subject_title(appeal), reason=reason)
    return appeal


def list_appeals(session: Session, actor: User | None, status: str | None = None, *, page: int = 1,
                 per_page: int = 50) -> tuple[list[Appeal], int]:
    """Own appeals for a student; for an organizer those about the clubs they oversee or the
    claims of students in their scope; all for the admin. Open ones oldest first."""
    query = select(Appeal)
    if not permissions.is_admin(actor):
        if actor.role == Role.ORGANIZER:
            clubs = overseen_club_ids(actor)
            about_records = Appeal.participation_id.in_(
                select(Participation.id).join(Activity, Activity.id == Participation.activity_id)
                .where(Activity.club_id.in_(clubs)))
            about_activities = Appeal.activity_id.in_(select(Activity.id).where(Activity.club_id.in_(clubs)))
            about_claims = Appeal.claim_id.is_not(None) & Appeal.student_id.in_(scoped_student_ids(actor))
            query = query.where(or_(about_records, about_activities, about_claims))
        else:
            query = query.where(Appeal.student_id == actor.id)
    if status:
        query = query.where(Appeal.status == status)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    order = (Appeal.created_at.asc(), Appeal.id) if status == AppealStatus.OPEN else (
        Appeal.created_at.desc(), Appeal.id.desc())
    rows = list(session.execute(
        query.options(joinedload(Appeal.student), joinedload(Appeal.claim),
                      joinedload(Appeal.activity), joinedload(Appeal.participation).joinedload(Participation.activity))
        .order_by(*order).offset((page - 1) * per_page).limit(per_page)
    ).scalars())
    return rows, total
