"""Activities as projects: plan, submit, approve, complete, cancel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Activity, ActivityStatus, Level, Module, User
from app.models.activities import MAX_HOURS
from app.services.audit import append_event
from app.services.clubs import get_club
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.transactions import lock_row
from app.timeutil import term_of, utcnow

PLAN_FIELDS = (
    "title", "module", "level", "starts_at", "ends_at", "location", "hours", "capacity",
    "description", "objectives", "budget", "partners",
)
EDITABLE = (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED)


def get_activity(session: Session, activity_id: int, *, lock: bool = False) -> Activity:
    query = select(Activity).where(Activity.id == activity_id)
    if lock:
        lock_row(session, Activity, activity_id)
        query = query.execution_options(populate_existing=True)
    activity = session.execute(query).scalar_one_or_none()
    if activity is None:
        raise NotFound(f"没有编号为 {activity_id} 的活动 No such activity")
    return activity


def parse_hours(value, errors: dict[str, list[str]], field: str) -> Decimal | None:
    """Hours are numbers with one decimal: 0 < hours ≤ 200."""
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.setdefault(field, []).append("必填 Required")
        return None
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append("须为数字 Must be a number")
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        errors.setdefault(field, []).append("须大于 0 且不超过 200 Must be > 0 and ≤ 200")
        return None
    return hours


def check_plan(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out: dict = {}
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = ["必填 Required"]
    elif len(title) > 200:
        errors["title"] = ["不超过 200 个字符 At most 200 characters"]
    out["title"] = title
    if values.get("module") not in {m.value for m in Module}:
        errors["module"] = ["one of " + ", ".join(m.value for m in Module)]
    out["module"] = values.get("module")
    if values.get("level") not in {lv.value for lv in Level}:
        errors["level"] = ["one of " + ", ".join(lv.value for lv in Level)]
    out["level"] = values.get("level")
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            errors[field] = ["须为带时区的时间 A date and time with offset"]
    if "starts_at" not in errors and "ends_at" not in errors and ends_at < starts_at:
        errors["ends_at"] = ["结束时间不能早于开始时间 Ends before it starts"]
    out["starts_at"], out["ends_at"] = starts_at, ends_at
    location = (values.get("location") or "").strip()
    if not location:
        errors["location"] = ["必填 Required"]
    elif len(location) > 200:
        errors["location"] = ["不超过 200 个字符 At most 200 characters"]
    out["location"] = location
    out["hours"] = parse_hours(values.get("hours"), errors, "hours")
    capacity = values.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity <= 0 or capacity > 100000):
        errors["capacity"] = ["须为正整数 A positive whole number"]
    out["capacity"] = capacity
    budget = values.get("budget")
    if budget is not None:
        try:
            budget = Decimal(str(budget)).quantize(Decimal("0.01"))
            if budget < 0 or budget >= Decimal("1e10"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["budget"] = ["须为非负金额 A non-negative amount"]
    out["budget"] = budget
    partners = values.get("partners") or []
    if not isinstance(partners, list) or any(
        not isinstance(p, str) or not p.strip() or len(p) > 200 for p in partners
    ):
        errors["partners"] = ["合作方名称列表 A list of partner names (1–200 characters each)"]
    else:
        partners = [p.strip() for p in partners]
    out["partners"] = partners
    for field in ("description", "objectives"):
        text = values.get(field)
        if text is not None and len(text) > 20000:
            errors[field] = ["不超过 20000 个字符 At most 20,000 characters"]
        out[field] = (text or "").strip() or None
    if errors:
        raise Invalid(errors)
    out["term"] = term_of(starts_at)
    return out


def create_activity(session: Session, actor: User | None, club_id: int, **values) -> Activity:
    club = get_club(session, club_id)
    if not permissions.can_plan_activity(actor, club):
        raise Forbidden("只有本社团负责人可以创建活动 Only a leader of this club plans its activities")
    plan = check_plan(values)
    twin = session.execute(
        select(Activity.id).where(
            Activity.club_id == club.id, Activity.title == plan["title"],
            Activity.starts_at == plan["starts_at"], Activity.status != ActivityStatus.CANCELLED,
        )
    ).first()
    if twin:
        # The same plan saved twice (a resubmitted form, a retried request) is one activity.
        raise Conflict("本社团已有同名、同一时间的活动 This club already has this activity at this time",
                       {"title": [f"已存在：活动 #{twin.id} Already planned as activity #{twin.id}"]})
    activity = Activity(
        club_id=club.id,
        status=ActivityStatus.DRAFT,
        created_by_id=actor.id if actor else system_user_id(session),
        **plan,
    )
    session.add(activity)
    session.commit()
    return activity


def system_user_id(session: Session) -> int:
    """The command line acts for the first admin when a record needs a person's id."""
    from app.models import Role

    admin = session.execute(
        select(User).where(User.role == Role.ADMIN).order_by(User.id)
    ).scalars().first()
    if admin is None:
        raise Conflict("先创建一个管理员 Create an admin first")
    return admin.id


def update_activity(session: Session, actor: User | None, activity_id: int, **values) -> Activity:
    activity = get_activity(session, activity_id, lock=True)
    if not permissions.can_plan_activity(actor, activity.club):
        raise Forbidden("只有本社团负责人可以修改活动 Only a leader of this club edits it")
    if activity.status not in EDITABLE:
        raise Conflict(f"活动已{activity.status_label}，不能修改 An activity {activity.status} cannot be edited")
    checked = check_plan({**{f: getattr(activity, f) for f in PLAN_FIELDS}, **values})
    for key, value in checked.items():
        setattr(activity, key, value)
    if activity.status == ActivityStatus.SUBMITTED:
        # A changed plan goes back to draft so that what is approved is what was read.
        activity.status = ActivityStatus.DRAFT
    session.commit()
    return activity


def _transition(
    session: Session,
    actor: User | None,
    activity_id: int,
    *,
    allowed,
    check,
    denied: str,
    target: ActivityStatus,
    stamp: str,
    extra: dict | None = None,
) -> Activity:
    activity = get_activity(session, activity_id, lock=True)
    if not check(actor, activity):
        raise Forbidden(denied)
    if activity.status not in allowed:
        raise Conflict(
            f"活动状态为「{activity.status_label}」，不能{target.value} "
            f"An activity that is {activity.status} cannot become {target.value}"
        )
    before = activity.status
    activity.status = target
    setattr(activity, f"{stamp}_at", utcnow())
    setattr(activity, f"{stamp}_by_id", actor.id if actor else system_user_id(session))
    for key, value in (extra or {}).items():
        setattr(activity, key, value)
    if target in (ActivityStatus.APPROVED, ActivityStatus.CANCELLED):
        append_event(
            session, actor, f"activity.{stamp}", "activity", activity.id,
            {"from": before, "title": activity.title, **(extra or {})},
        )
    session.commit()
    return activity


def submit_activity(session: Session, actor: User | None, activity_id: int) -> Activity:
    return _transition(
        session, actor, activity_id,
        allowed=(ActivityStatus.DRAFT,),
        check=lambda a, act: permissions.can_plan_activity(a, act.club),
        denied="只有本社团负责人可以提交 Only a leader of this club submits it",
        target=ActivityStatus.SUBMITTED, stamp="submitted",
    )


def approve_activity(session: Session, actor: User | None, activity_id: int) -> Activity:
    return _transition(
        session, actor, activity_id,
        allowed=(ActivityStatus.SUBMITTED,),
        check=permissions.can_approve_activity,
        denied="只有本社团的指导老师或校团委可以审批 Only the club's advisor or the admin approves",
        target=ActivityStatus.APPROVED, stamp="approved",
    )


def return_activity(session: Session, actor: User | None, activity_id: int, reason: str) -> Activity:
    """An advisor sends a submitted plan back to draft with a reason."""
    activity = get_activity(session, activity_id, lock=True)
    if not permissions.can_approve_activity(actor, activity):
        raise Forbidden("只有本社团的指导老师或校团委可以退回 Only the advisor or admin returns a plan")
    reason = checked_reason(reason)
    if activity.status != ActivityStatus.SUBMITTED:
        raise Conflict("只能退回待审批的活动 Only a submitted plan can be returned")
    activity.status = ActivityStatus.DRAFT
    append_event(session, actor, "activity.returned", "activity", activity.id, {"reason": reason})
    session.commit()
    return activity


def complete_activity(
    session: Session, actor: User | None, activity_id: int, outcome: str | None = None
) -> Activity:
    outcome = (outcome or "").strip() or None
    if outcome is not None and len(outcome) > 20000:
        raise Invalid({"outcome": ["不超过 20000 个字符 At most 20,000 characters"]})
    activity = get_activity(session, activity_id)
    return _transition(
        session, actor, activity_id,
        allowed=(ActivityStatus.APPROVED,),
        check=lambda a, act: permissions.can_plan_activity(a, act.club),
        denied="只有本社团负责人可以结项 Only a leader of this club completes it",
        target=ActivityStatus.COMPLETED, stamp="completed",
        extra={"outcome": outcome or activity.outcome},
    )


def cancel_activity(session: Session, actor: User | None, activity_id: int, reason: str) -> Activity:
    from sqlalchemy import func

    from app.models import Participation, ParticipationStatus

    activity = get_activity(session, activity_id)
    if not permissions.can_cancel_activity(actor, activity):
        raise Forbidden("无权取消该活动 You may not cancel this activity")
    reason = checked_reason(reason)
    certified = session.execute(
        select(func.count(Participation.id)).where(
            Participation.activity_id == activity.id,
            Participation.status == ParticipationStatus.CERTIFIED,
        )
    ).scalar_one()
    if certified:
        # Held and signed off: cancelling would leave certified hours for an event that "never was".
        raise Conflict(f"已有 {certified} 条认证记录，不能取消；请先撤销 "
                       f"{certified} certified records: revoke them before cancelling")
    return _transition(
        session, actor, activity_id,
        allowed=(ActivityStatus.DRAFT, ActivityStatus.SUBMITTED, ActivityStatus.APPROVED),
        check=permissions.can_cancel_activity,
        denied="无权取消该活动 You may not cancel this activity",
        target=ActivityStatus.CANCELLED, stamp="cancelled",
        extra={"cancel_reason": reason},
    )


def counts_by_status(session: Session, activity_ids: list[int]) -> dict[int, dict[str, int]]:
    """Records per activity, counted by status, in one grouped query."""
    from sqlalchemy import func

    from app.models import Participation, ParticipationStatus

    counts = {aid: {s.value: 0 for s in ParticipationStatus} for aid in activity_ids}
    if not activity_ids:
        return counts
    rows = session.execute(
        select(Participation.activity_id, Participation.status, func.count(Participation.id))
        .where(Participation.activity_id.in_(activity_ids))
        .group_by(Participation.activity_id, Participation.status)
    ).all()
    for activity_id, status, n in rows:
        counts[activity_id][status] = n
    return counts


def with_counts(session: Session, activity: Activity) -> Activity:
    """Attach the activity's records counted by status (for its detail view)."""
    activity.counts = counts_by_status(session, [activity.id])[activity.id]
    return activity
