"""Participation records: record (all or nothing), certify, reject, revoke; a student's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

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
from app.services.activities import get_activity, parse_hours, system_user_id
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.scope import student_in_scope
from app.services.transactions import lock_row
from app.timeutil import utcnow

RECORDABLE = (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED, ActivityStatus.APPROVED,
              ActivityStatus.COMPLETED)
CERTIFIABLE = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)
LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
ROLES = {r.value for r in ParticipationRole}
# Students may check in from half an hour before the start until the end.
CHECK_IN_OPENS = timedelta(minutes=30)


@dataclass
class Entry:
    """One line of a batch: a student number and how they took part."""

    student_no: str
    role: str = ParticipationRole.PARTICIPANT
    hours: object = None
    award: str | None = None


def _actor_id(session: Session, actor: User | None) -> int:
    return actor.id if actor is not None else system_user_id(session)


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
            errors["student_no"] = ["学号不能为空 Student number is required"]
        elif student is None:
            errors["student_no"] = [f"没有学号为 {number} 的学生 No such student"]
        elif student.id in already:
            errors["student_no"] = [f"{number} 已记录在本活动中 Already recorded for this activity"]
        elif number in seen:
            errors["student_no"] = [f"与第 {seen[number]} 条重复 Same student as entry {seen[number]}"]
        else:
            seen[number] = index
        role = entry.role or ParticipationRole.PARTICIPANT
        if role not in ROLES:
            errors["role"] = ["one of " + ", ".join(sorted(ROLES))]
        hours = activity.hours if entry.hours in (None, "") else parse_hours(entry.hours, errors, "hours")
        award = (entry.award or "").strip() or None
        if award and len(award) > 100:
            errors["award"] = ["不超过 100 个字符 At most 100 characters"]
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
        raise Forbidden("只有本社团负责人可以记录参与 Only a leader of this club records participation")
    if activity.status not in RECORDABLE:
        raise Conflict(f"活动已{activity.status_label}，不能记录 A {activity.status} activity takes no records")
    if not entries:
        raise Invalid({"entries": ["至少一条 At least one entry"]})
    rows, bad = check_entries(session, activity, entries)
    if bad:
        raise Invalid(
            {f"entries.{i}.{field}": msgs for i, errs in bad.items() for field, msgs in errs.items()},
            f"{len(bad)} 条有误，未保存任何记录 {len(bad)} bad entries; nothing was stored",
        )
    recorder = _actor_id(session, actor)
    created = [
        Participation(activity_id=activity.id, recorded_by_id=recorder, **row) for row in rows
    ]
    session.add_all(created)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request recorded one of these students first.
        session.rollback()
        _, bad = check_entries(session, activity, entries)
        fields = {f"entries.{i}.{f}": m for i, errs in bad.items() for f, m in errs.items()}
        raise Invalid(fields or {"entries": ["已被同时记录 Recorded concurrently"]}) from None
    return created


def check_in(session: Session, actor: User, activity_id: int) -> Participation:
    """A student checks in while the activity is on; it is recorded for sign-off."""
    activity = get_activity(session, activity_id)
    if not permissions.can_check_in(actor):
        raise Forbidden("只有学生可以签到 Only students check in")
    lock_row(session, Activity, activity.id)  # the last free place goes to one student only
    if activity.status != ActivityStatus.APPROVED:
        raise Conflict("活动未在进行 Only an approved activity takes check-ins")
    now = utcnow()
    if not (activity.starts_at - CHECK_IN_OPENS <= now <= activity.ends_at):
        raise Conflict("不在签到时间内 Check-in is open from 30 minutes before the start to the end")
    live = session.execute(
        select(func.count(Participation.id)).where(
            Participation.activity_id == activity.id, Participation.status.in_(LIVE)
        )
    ).scalar_one()
    if activity.capacity is not None and live >= activity.capacity:
        raise Conflict("名额已满 The activity is full")
    rows, bad = check_entries(session, activity, [Entry(student_no=actor.student_no)])
    if bad:
        raise Conflict("你已签到 You are already recorded for this activity")
    record = Participation(
        activity_id=activity.id, recorded_by_id=actor.id, checked_in_at=now, **rows[0]
    )
    session.add(record)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("你已签到 You are already recorded for this activity") from None
    return record


def list_participations(session: Session, actor: User | None, activity_id: int) -> list[Participation]:
    activity = get_activity(session, activity_id)
    if not permissions.can_view_participations(actor, activity):
        raise Forbidden("无权查看该活动的参与记录 You may not see this activity's records")
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
        raise Forbidden("只有本社团的指导老师或校团委可以认证 Only the club's advisor or the admin signs off")


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
        raise Conflict(
            f"活动状态为「{activity.status_label}」，不能认证 "
            f"A {activity.status} activity cannot be signed off"
        )
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
                f"不属于本活动 Not records of this activity: {sorted(missing)}"
            ]})
        closed = [r.id for r in records if r.status in (ParticipationStatus.REJECTED,
                                                        ParticipationStatus.REVOKED)]
        if closed:
            raise Conflict(f"已驳回或撤销的记录不能认证 Rejected or revoked records: {closed}")
    if any(permissions.is_participant(actor, r) for r in records):
        raise Forbidden("不能认证自己参与的记录 Nobody signs off their own participation")
    candidates = [r.id for r in records if r.status == ParticipationStatus.RECORDED]
    if not candidates:
        session.rollback()
        return 0
    note = (note or "").strip() or None
    # A conditional UPDATE: of two signers at once, only one moves each record.
    fresh = list(session.execute(
        update(Participation)
        .where(Participation.id.in_(candidates), Participation.status == ParticipationStatus.RECORDED)
        .values(status=ParticipationStatus.CERTIFIED, certified_at=utcnow(),
                certified_by_id=_actor_id(session, actor), certify_note=note)
        .returning(Participation.id)
        .execution_options(synchronize_session=False)
    ).scalars())
    if fresh:
        append_event(
            session, actor, "participation.certify", "activity", activity.id,
            {"participation_ids": sorted(fresh), "note": note},
        )
    session.commit()
    session.expire_all()
    return len(fresh)


def _get_participation(session: Session, participation_id: int) -> Participation:
    lock_row(session, Participation, participation_id)
    record = session.execute(
        select(Participation).where(Participation.id == participation_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(f"没有编号为 {participation_id} 的参与记录 No such participation")
    return record


def _close(
    session: Session, actor: User | None, participation_id: int, reason: str, *,
    expected: ParticipationStatus, target: ParticipationStatus, verb: str, wrong_state: str,
) -> Participation:
    """Reject a recorded record or revoke a certified one: same people, same rules."""
    record = _get_participation(session, participation_id)
    _check_certifier(actor, record.activity)
    if permissions.is_participant(actor, record):
        raise Forbidden("不能处理自己参与的记录 Nobody signs off their own participation")
    reason = checked_reason(reason)
    if record.status != expected:
        raise Conflict(f"{wrong_state} (it is {record.status})")
    record.status = target
    setattr(record, f"{target.value}_at", utcnow())
    setattr(record, f"{target.value}_by_id", _actor_id(session, actor))
    setattr(record, f"{verb}_reason", reason)
    append_event(session, actor, f"participation.{verb}", "participation", record.id,
                 {"reason": reason, "activity_id": record.activity_id})
    session.commit()
    return record


def reject(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    return _close(session, actor, participation_id, reason,
                  expected=ParticipationStatus.RECORDED, target=ParticipationStatus.REJECTED,
                  verb="reject", wrong_state="只能驳回待认证的记录 Only a recorded record can be rejected")


def revoke(session: Session, actor: User | None, participation_id: int, reason: str) -> Participation:
    return _close(session, actor, participation_id, reason,
                  expected=ParticipationStatus.CERTIFIED, target=ParticipationStatus.REVOKED,
                  verb="revoke", wrong_state="只能撤销已认证的记录 Only a certified record can be revoked")


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
        raise Forbidden("无权查看该学生的记录 You may not see this student's records")
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


