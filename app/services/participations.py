"""Participation records: record (all or nothing), certify, reject, revoke; a student's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import ColumnElement, Select, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    Activity,
    ActivityStatus,
    Participation,
    ParticipationRole,
    ParticipationSource,
    ParticipationStatus,
    Role,
    User,
)
from app.models.people import STUDENT_ROLES
from app.services import notifications, tallies
from app.services.accounts import student_by_number
from app.services.activities import get_activity, parse_hours
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.lifecycle import club_not_running, has_ended, local_time, require_running_club
from app.services.scope import student_in_scope
from app.services.sql_lists import one_of
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import utcnow

# Participants are recorded on an approved activity, and after it (completed) too: a leader
# often writes the list up the day after the event.
RECORDABLE = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)
CERTIFIABLE = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)
LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
ROLES = {r.value for r in ParticipationRole}
MAX_HOURS_REASON = 500

# What the sign-off queue points out next to a record, so the organizer looks twice.
FLAG_LABELS = {
    "hours_above_activity": _l("More hours than the activity's"),
    "short_check_in_span": _l("Checked in for less time than the hours"),
    "no_check_out": _l("Checked in, never checked out"),
    "late_entry": _l("Late entry"),
}


@dataclass
class Entry:
    """One line of a batch: a student number and how they took part."""

    student_no: str
    role: str = ParticipationRole.PARTICIPANT
    hours: object = None
    award: str | None = None
    hours_reason: str | None = None  # required when the hours exceed the activity's


def check_entries(
    session: Session, activity: Activity, entries: list[Entry]
) -> tuple[list[dict], dict[int, dict[str, list[str]]]]:
    """Validate a batch; returns the rows to insert and, per bad entry index, its field errors."""
    numbers = [(e.student_no or "").strip() for e in entries]
    # Numbers and ids only: a file of 10,000 rows would otherwise load 10,000 whole accounts.
    students = {
        u.student_no: u
        for u in session.execute(
            select(User.student_no, User.id).where(one_of(session, User.student_no, numbers),
                                                    User.role.in_(STUDENT_ROLES))
        )
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
        reason = (entry.hours_reason or "").strip() or None
        if reason and len(reason) > MAX_HOURS_REASON:
            errors["hours_reason"] = [_("At most %(max)s characters", max=MAX_HOURS_REASON)]
        elif hours is not None and hours > activity.hours and not reason:
            errors["hours_reason"] = [_(
                "%(hours)s h is more than the activity's %(activity_hours)s h: say why in the reason",
                hours=hours, activity_hours=activity.hours,
            )]
        award = (entry.award or "").strip() or None
        if award and len(award) > 100:
            errors["award"] = [_("At most 100 characters")]
        if errors:
            bad[index] = errors
        else:
            rows.append({
                "student_id": student.id, "role": role, "hours": hours, "award": award,
                # A reason is kept only where it explains something.
                "hours_reason": reason if hours > activity.hours else None,
            })
    return rows, bad


def places_left(session: Session, activity: Activity) -> int | None:
    """Free places (capacity minus live records), or None when the activity has no limit."""
    if activity.capacity is None:
        return None
    live = session.execute(
        select(func.count(Participation.id)).where(
            Participation.activity_id == activity.id, Participation.status.in_(LIVE)
        )
    ).scalar_one()
    return max(activity.capacity - live, 0)


def full_message(activity: Activity, left: int) -> str:
    return ngettext(
        "The activity takes %(capacity)s people and %(num)s place is left",
        "The activity takes %(capacity)s people and %(num)s places are left",
        left, capacity=activity.capacity,
    )


def require_recordable(activity: Activity) -> None:
    """Conflict unless the club runs activities and this one takes records."""
    require_running_club(activity.club)
    if activity.status not in RECORDABLE:
        raise Conflict(_(
            "Participants are recorded only on an approved or completed activity (this one is %(status)s)",
            status=activity.status_label,
        ))


def record_participations(
    session: Session, actor: User | None, activity_id: int, entries: list[Entry],
    source: str = ParticipationSource.LIST,
) -> list[Participation]:
    """Record a batch: every entry valid and stored, or none stored and each bad one named."""
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(_("Only a leader of this club records participation"))
    require_recordable(activity)
    if not entries:
        raise Invalid({"entries": [_("At least one entry")]})
    # The row lock orders concurrent batches (and check-ins), so capacity is counted once.
    activity = get_activity(session, activity_id, lock=True)
    rows, bad = check_entries(session, activity, entries)
    if bad:
        raise Invalid(
            {f"entries.{i}.{field}": msgs for i, errs in bad.items() for field, msgs in errs.items()},
            ngettext("%(num)s bad entry; nothing was stored", "%(num)s bad entries; nothing was stored", len(bad)),
        )
    left = places_left(session, activity)
    if left is not None and len(rows) > left:
        raise Conflict(full_message(activity, left) + _("; nothing was stored"))
    recorder = acting(session, actor)
    values = [dict(activity_id=activity.id, recorded_by_id=recorder.id, source=source, **row) for row in rows]
    try:
        # One multi-row INSERT … RETURNING through the session, not the unit of work object by
        # object: a file of 10,000 participants spent most of its import in the latter.
        created = list(session.scalars(
            insert(Participation).returning(Participation, sort_by_parameter_order=True), values))
    except IntegrityError:
        # A concurrent request recorded one of these students first.
        session.rollback()
        _rows, bad = check_entries(session, activity, entries)
        fields = {f"entries.{i}.{f}": m for i, errs in bad.items() for f, m in errs.items()}
        raise Invalid(fields or {"entries": [_("Recorded concurrently")]}) from None
    # The INSERT bypasses the unit of work, so the tallies are told here; the students' own
    # tallies sum certified records only, which a new list's are not.
    tallies.touch_activity(session, activity.id, [
        p.student_id for p in created if p.status == ParticipationStatus.CERTIFIED])
    append_event(session, recorder, "participation.record", "activity", activity.id, {
        "participation_ids": [p.id for p in created], "source": str(source),
    })
    session.flush()
    return created


def record_flags(record: Participation, activity: Activity | None = None) -> list[str]:
    """What the organizer should look at twice before signing this record off (FLAG_LABELS)."""
    activity = activity or record.activity
    flags = []
    if record.hours > activity.hours:
        flags.append("hours_above_activity")
    if record.source == ParticipationSource.CHECK_IN or record.checked_in_at is not None:
        if record.checked_in_at is not None and record.checked_out_at is None:
            flags.append("no_check_out")
        elif record.checked_in_at is not None:
            span = Decimal((record.checked_out_at - record.checked_in_at).total_seconds()) / 3600
            if span < record.hours:
                flags.append("short_check_in_span")
    if record.source == ParticipationSource.LATE_ENTRY:
        flags.append("late_entry")
    return flags


def flag_labels(record: Participation) -> list[tuple[str, str]]:
    """(flag, translated label) pairs for a page."""
    return [(flag, str(FLAG_LABELS[flag])) for flag in record_flags(record)]


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


def signoff_closed(activity: Activity) -> str | None:
    """Why this activity's records cannot be signed off (certified or rejected) now, or None."""
    if not permissions.club_runs_activities(activity.club):
        return club_not_running(activity.club)
    if activity.status not in CERTIFIABLE:
        return _("An activity that is %(status)s cannot be signed off", status=activity.status_label)
    if not has_ended(activity, utcnow()):
        # Hours are certified for what happened, so never ahead of the event.
        return _("Sign-off opens when the activity ends (%(ends)s)", ends=local_time(activity.ends_at))
    return None


def require_signoff_open(activity: Activity) -> None:
    problem = signoff_closed(activity)
    if problem is not None:
        raise Conflict(problem)


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
    require_signoff_open(activity)
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
        tallies.touch_activity(session, activity.id, [r.student_id for r in records if r.id in fresh])
        append_event(
            session, actor, "participation.certify", "activity", activity.id,
            {"participation_ids": sorted(fresh), "note": note},
        )
    for record in (r for r in records if r.id in fresh):
        notifications.notify(session, record.student_id, "record.certified", link="/me", activity=activity.title,
                             hours=record.hours)
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
    if target == ParticipationStatus.REJECTED:
        # A rejection is a sign-off too; a revocation corrects the record whenever it must.
        require_signoff_open(record.activity)
    actor = acting(session, actor)
    record.status = target
    setattr(record, f"{target.value}_at", utcnow())
    setattr(record, f"{target.value}_by_id", actor.id)
    setattr(record, f"{verb}_reason", reason)
    append_event(session, actor, f"participation.{verb}", "participation", record.id,
                 {"reason": reason, "activity_id": record.activity_id})
    notifications.notify(session, record.student_id, f"record.{target.value}", link="/me",
                         activity=record.activity.title, reason=reason)
    session.flush()
    return record


def reject(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    return _close(session, actor, participation_id, reason,
                  expected=ParticipationStatus.RECORDED, target=ParticipationStatus.REJECTED,
                  verb="reject", wrong_state=lambda status: _(
                      "Only a record awaiting sign-off can be rejected (it is %(status)s)", status=status))


def revoke(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    record = _close(session, actor, participation_id, reason,
                    expected=ParticipationStatus.CERTIFIED, target=ParticipationStatus.REVOKED,
                    verb="revoke", wrong_state=lambda status: _(
                        "Only a certified record can be revoked (it is %(status)s)", status=status))
    from app.services.transcripts import amend_for_withdrawal  # the transcripts that carry it follow
    amend_for_withdrawal(session, actor, record)
    return record


@dataclass
class RecordSums:
    """A student's hours per module (certified, awaiting sign-off), certified entries and awards,
    certified claims counted like records (PRODUCT.md)."""

    certified: dict[str, Decimal] = field(default_factory=dict)
    pending: dict[str, Decimal] = field(default_factory=dict)
    certified_count: int = 0
    awards: int = 0


def _with_award(column: ColumnElement) -> ColumnElement:
    return func.count(case((column != "", 1)))  # NULL and '' are no award


def record_sums(session: Session, student_id: int) -> RecordSums:
    """Two grouped queries (records, certified claims), whatever the student's history."""
    from app.models import Claim, ClaimStatus  # claims build on this module

    sums = RecordSums()
    records = session.execute(
        select(Activity.module, Participation.status, func.sum(Participation.hours), func.count(),
               _with_award(Participation.award))
        .join(Activity, Activity.id == Participation.activity_id)
        .where(Participation.student_id == student_id,
               Participation.status.in_((ParticipationStatus.CERTIFIED, ParticipationStatus.RECORDED)))
        .group_by(Activity.module, Participation.status)
    )
    claims = session.execute(
        select(Claim.module, func.sum(Claim.hours), func.count(), _with_award(Claim.award))
        .where(Claim.student_id == student_id, Claim.status == ClaimStatus.CERTIFIED).group_by(Claim.module)
    )
    rows = [*records, *((module, ParticipationStatus.CERTIFIED, *rest) for module, *rest in claims)]
    for module, status, hours, count, awards in rows:
        into = sums.certified if status == ParticipationStatus.CERTIFIED else sums.pending
        into[module] = into.get(module, Decimal("0")) + Decimal(hours)
        if status == ParticipationStatus.CERTIFIED:
            sums.certified_count += count
            sums.awards += awards
    return sums


@dataclass
class StudentRecords:
    student: User
    items: list[Participation]  # one page, the latest activity first
    total_certified_hours: Decimal
    hours_by_module: dict[str, Decimal]
    # Certified achievement claims count like records (PRODUCT.md); listed apart, marked as claims.
    claims: list = field(default_factory=list)
    total: int = 0  # records in all


def student_records(
    session: Session, actor: User | None, student_no: str, page: int = 1, per_page: int = 50
) -> StudentRecords:
    """One page of a student's records, with the certified hours of them all (and of the claims)."""
    from app.services.pages.common import paginate

    student = student_by_number(session, student_no)
    in_scope = actor is not None and actor.role == Role.ORGANIZER and student_in_scope(session, actor, student)
    if not permissions.can_view_student_records(actor, student, in_scope=in_scope):
        raise Forbidden(_("You may not see this student's records"))
    records = paginate(session, student_records_query(student.id), page, per_page, empty_past_end=True)
    by_module = record_sums(session, student.id).certified
    from app.services.claims import certified_claims  # claims build on this module

    total = sum(by_module.values(), Decimal("0"))
    return StudentRecords(student, records.items, total, by_module, certified_claims(session, student.id),
                          total=records.total)


def student_records_query(student_id: int) -> Select:
    """A student's records, the latest activity first, with what a list of them shows."""
    return (
        select(Participation).join(Activity, Activity.id == Participation.activity_id)
        .where(Participation.student_id == student_id)
        .options(joinedload(Participation.activity).joinedload(Activity.club),
                 joinedload(Participation.certified_by))
        .order_by(Activity.starts_at.desc(), Participation.id)
    )
