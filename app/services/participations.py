"""Participation records: record (all or nothing), certify, reject, revoke; a student's records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    Activity,
    ActivityStatus,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Role,
    User,
)
from app.services.accounts import student_by_number
from app.services.activities import get_activity, parse_hours
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.scope import student_in_scope
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import utcnow

RECORDABLE = (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED, ActivityStatus.APPROVED,
              ActivityStatus.COMPLETED)
CERTIFIABLE = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)
LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
ROLES = {r.value for r in ParticipationRole}


@dataclass
class Entry:
    """One line of a batch: a student number and how they took part."""

    student_no: str
    role: str = ParticipationRole.PARTICIPANT
    hours: object = None
    award: str | None = None


def check_entries(
    session: Session, activity: Activity, entries: list[Entry]
) -> tuple[list[dict], dict[int, dict[str, list[str]]]]:
    """Validate a batch; returns the rows to insert and, per bad entry index, its field errors."""
    numbers = [(e.student_no or "").strip() for e in entries]
    students = {
        u.student_no: u
        for u in session.execute(select(User).where(User.student_no.in_(set(numbers)))).scalars()
        if u.is_student
    }
    already = set(
        session.execute(
            select(Participation.student_id).where(
                Participation.activity_id == activity.id, Participation.status.in_(LIVE)
            )
        ).scalars()
    )
    seen: dict[str, int] = {}
    rows, bad = [], {}
    for index, (entry, number) in enumerate(zip(entries, numbers, strict=True)):
        errors: dict[str, list[str]] = {}
        student = students.get(number)
        if not number:
            errors["student_no"] = [_("Student number is required")]
        elif student is None:
            errors["student_no"] = [_("No student with number %(number)s", number=number)]
        elif student.id in already:
            errors["student_no"] = [_("%(number)s is already recorded for this activity", number=number)]
        elif number in seen:
            errors["student_no"] = [_("Same student as entry %(entry)s", entry=seen[number])]
        else:
            seen[number] = index
        role = entry.role or ParticipationRole.PARTICIPANT
        if role not in ROLES:
            errors["role"] = [_("One of: %(choices)s", choices=", ".join(sorted(ROLES)))]
        hours = activity.hours if entry.hours in (None, "") else parse_hours(entry.hours, errors, "hours")
        award = (entry.award or "").strip() or None
        if award and len(award) > 100:
            errors["award"] = [_("At most 100 characters")]
        if errors:
            bad[index] = errors
        else:
            rows.append({"student_id": student.id, "role": role, "hours": hours, "award": award})
    return rows, bad


def record_participations(
    session: Session, actor: User | None, activity_id: int, entries: list[Entry]
) -> list[Participation]:
    """Record a batch: every entry valid and stored, or none stored and each bad one named."""
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(_("Only a leader of this club records participation"))
    if activity.status not in RECORDABLE:
        raise Conflict(_("An activity that is %(status)s takes no records", status=activity.status_label))
    if not entries:
        raise Invalid({"entries": [_("At least one entry")]})
    rows, bad = check_entries(session, activity, entries)
    if bad:
        raise Invalid(
            {f"entries.{i}.{field}": msgs for i, errs in bad.items() for field, msgs in errs.items()},
            ngettext("%(num)s bad entry; nothing was stored", "%(num)s bad entries; nothing was stored", len(bad)),
        )
    recorder = acting(session, actor).id
    created = [
        Participation(activity_id=activity.id, recorded_by_id=recorder, **row) for row in rows
    ]
    session.add_all(created)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent request recorded one of these students first.
        session.rollback()
        _rows, bad = check_entries(session, activity, entries)
        fields = {f"entries.{i}.{f}": m for i, errs in bad.items() for f, m in errs.items()}
        raise Invalid(fields or {"entries": [_("Recorded concurrently")]}) from None
    return created


def check_in(session: Session, actor: User, activity_id: int) -> Participation:
    """A student checks in while the activity is on; it is recorded for sign-off."""
    activity = get_activity(session, activity_id)
    if not permissions.can_check_in(actor):
        raise Forbidden(_("Only students check in"))
    lock_row(session, Activity, activity.id)  # the last free place goes to one student only
    if activity.status != ActivityStatus.APPROVED:
        raise Conflict(_("Only an approved activity takes check-ins"))
    now = utcnow()
    if not activity.check_in_window_open(now):
        raise Conflict(_("Check-in is open from 30 minutes before the start to the end"))
    live = session.execute(
        select(func.count(Participation.id)).where(
            Participation.activity_id == activity.id, Participation.status.in_(LIVE)
        )
    ).scalar_one()
    if activity.capacity is not None and live >= activity.capacity:
        raise Conflict(_("The activity is full"))
    rows, bad = check_entries(session, activity, [Entry(student_no=actor.student_no)])
    if bad:
        raise Conflict(_("You are already recorded for this activity"))
    record = Participation(
        activity_id=activity.id, recorded_by_id=actor.id, checked_in_at=now, **rows[0]
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("You are already recorded for this activity")) from None
    return record


def list_participations(session: Session, actor: User | None, activity_id: int) -> list[Participation]:
    activity = get_activity(session, activity_id)
    if not permissions.can_view_participations(actor, activity):
        raise Forbidden(_("You may not see this activity's records"))
    return list(
        session.execute(
            select(Participation)
            .where(Participation.activity_id == activity.id)
            .options(joinedload(Participation.student), joinedload(Participation.certified_by))
            .order_by(Participation.id)
        ).scalars()
    )


def _check_certifier(actor: User | None, activity: Activity) -> None:
    if not permissions.can_certify(actor, activity):
        raise Forbidden(_("Only the club's advisor or the admin signs off"))


def certify(
    session: Session,
    actor: User | None,
    activity_id: int,
    participation_ids: list[int] | None = None,
    note: str | None = None,
) -> int:
    """Sign off records; returns how many became certified (0 the second time)."""
    activity = get_activity(session, activity_id)
    _check_certifier(actor, activity)
    if activity.status not in CERTIFIABLE:
        raise Conflict(_("An activity that is %(status)s cannot be signed off", status=activity.status_label))
    query = select(Participation).where(Participation.activity_id == activity.id)
    if participation_ids is None:
        query = query.where(Participation.status == ParticipationStatus.RECORDED)
    else:
        query = query.where(Participation.id.in_(participation_ids))
    records = list(session.execute(query).scalars())
    if participation_ids is not None:
        missing = set(participation_ids) - {r.id for r in records}
        if missing:
            raise Invalid({"participation_ids": [
                _("Not records of this activity: %(ids)s", ids=sorted(missing))
            ]})
        closed = [r.id for r in records if r.status in (ParticipationStatus.REJECTED,
                                                        ParticipationStatus.REVOKED)]
        if closed:
            raise Conflict(_("Rejected or revoked records cannot be signed off: %(ids)s", ids=closed))
    if any(permissions.is_participant(actor, r) for r in records):
        raise Forbidden(_("Nobody signs off their own participation"))
    candidates = [r.id for r in records if r.status == ParticipationStatus.RECORDED]
    if not candidates:
        session.rollback()
        return 0
    note = (note or "").strip() or None
    actor = acting(session, actor)
    # A conditional UPDATE: of two signers at once, only one moves each record.
    fresh = list(session.execute(
        update(Participation)
        .where(Participation.id.in_(candidates), Participation.status == ParticipationStatus.RECORDED)
        .values(status=ParticipationStatus.CERTIFIED, certified_at=utcnow(),
                certified_by_id=actor.id, certify_note=note)
        .returning(Participation.id)
        .execution_options(synchronize_session=False)
    ).scalars())
    if fresh:
        append_event(
            session, actor, "participation.certify", "activity", activity.id,
            {"participation_ids": sorted(fresh), "note": note},
        )
    session.flush()
    session.expire_all()
    return len(fresh)


def _get_participation(session: Session, participation_id: int) -> Participation:
    lock_row(session, Participation, participation_id)
    record = session.execute(
        select(Participation).where(Participation.id == participation_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(_("No participation #%(id)s", id=participation_id))
    return record


def _close(
    session: Session, actor: User | None, participation_id: int, reason: str, *,
    expected: ParticipationStatus, target: ParticipationStatus, verb: str, wrong_state,
) -> Participation:
    """Reject a recorded record or revoke a certified one: same people, same rules."""
    record = _get_participation(session, participation_id)
    _check_certifier(actor, record.activity)
    if permissions.is_participant(actor, record):
        raise Forbidden(_("Nobody rejects or revokes their own participation"))
    reason = checked_reason(reason)
    if record.status != expected:
        raise Conflict(wrong_state(record.status_label))
    actor = acting(session, actor)
    record.status = target
    setattr(record, f"{target.value}_at", utcnow())
    setattr(record, f"{target.value}_by_id", actor.id)
    setattr(record, f"{verb}_reason", reason)
    append_event(session, actor, f"participation.{verb}", "participation", record.id,
                 {"reason": reason, "activity_id": record.activity_id})
    session.flush()
    return record


def reject(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    return _close(session, actor, participation_id, reason,
                  expected=ParticipationStatus.RECORDED, target=ParticipationStatus.REJECTED,
                  verb="reject", wrong_state=lambda status: _(
                      "Only a record awaiting sign-off can be rejected (it is %(status)s)", status=status))


def revoke(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    return _close(session, actor, participation_id, reason,
                  expected=ParticipationStatus.CERTIFIED, target=ParticipationStatus.REVOKED,
                  verb="revoke", wrong_state=lambda status: _(
                      "Only a certified record can be revoked (it is %(status)s)", status=status))


@dataclass
class StudentRecords:
    student: User
    items: list[Participation]
    total_certified_hours: Decimal
    hours_by_module: dict[str, Decimal]


def student_records(session: Session, actor: User | None, student_no: str) -> StudentRecords:
    student = student_by_number(session, student_no)
    in_scope = actor is not None and actor.role == Role.ORGANIZER and student_in_scope(session, actor, student)
    if not permissions.can_view_student_records(actor, student, in_scope=in_scope):
        raise Forbidden(_("You may not see this student's records"))
    items = list(
        session.execute(
            select(Participation)
            .join(Participation.activity)
            .where(Participation.student_id == student.id)
            .options(
                joinedload(Participation.activity).joinedload(Activity.club),
                joinedload(Participation.certified_by),
            )
            .order_by(Activity.starts_at.desc(), Participation.id)
        ).scalars()
    )
    by_module: dict[str, Decimal] = {}
    for record in items:
        if record.status == ParticipationStatus.CERTIFIED:
            module = record.activity.module
            by_module[module] = by_module.get(module, Decimal("0")) + record.hours
    total = sum(by_module.values(), Decimal("0"))
    return StudentRecords(student, items, total, by_module)


