"""Read-only queries the pages need: lists, queues and dashboards.

Plain functions taking (session, actor, ...). They never write. Each one checks, through
`permissions`, that the actor may see what it returns and raises `Forbidden` otherwise,
so the views stay free of rules; they also say which actions the viewer may take, so a
page only offers buttons whose service call would be allowed.

Over 500 lines for now: the read models of every page live here; the house issue (#12)
splits them into one module per page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app import permissions
from app.models import (
    LEADER_IN_POST,
    MODULE_LABELS,
    Activity,
    ActivityStatus,
    Club,
    Participation,
    ParticipationStatus,
    Role,
    Unit,
    User,
    club_leader,
)
from app.services.activities import EDITABLE, check_plan, counts_by_status, get_activity
from app.services.clubs import ClubPeople, club_people, get_club, member_counts
from app.services.errors import Forbidden, Invalid
from app.services.participations import (
    CERTIFIABLE,
    CHECK_IN_OPENS,
    LIVE,
    RECORDABLE,
    student_records,
)
from app.services.scope import overseen_club_ids
from app.timeutil import utcnow
from credentials.snapshot import LEVELS, ROLES

PER_PAGE = 20
CANCELLABLE = (ActivityStatus.DRAFT, ActivityStatus.SUBMITTED, ActivityStatus.APPROVED)
PUBLIC_STATUSES = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)


# --------------------------------------------------------------------------- helpers


@dataclass
class Page:
    """One page of a longer list."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _page(session: Session, query: Select, page: int, per_page: int) -> Page:
    page = max(1, int(page or 1))
    per_page = max(1, min(200, int(per_page or PER_PAGE)))
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = session.execute(counted).scalar_one()
    window = query.limit(per_page).offset((page - 1) * per_page)
    items = list(session.execute(window).unique().scalars())
    return Page(items, total, page, per_page)


def _require_admin(actor: User | None, what: str) -> None:
    if not permissions.can_manage_people(actor):
        raise Forbidden(f"只有校团委可以{what} Only the admin (校团委) may do this")


def _insider(actor: User | None, club: Club) -> bool:
    """The admin, the club's advisors (and its college's organizer) and its leaders see its
    drafts and records."""
    return (
        permissions.is_admin(actor)
        or permissions.oversees(actor, club)
        or permissions.leads(actor, club)
    )


def _advised_club_ids(actor: User) -> Select:
    """The clubs an organizer answers for: those they advise and those of the college they oversee."""
    return overseen_club_ids(actor)


def _led_club_ids(actor: User) -> Select:
    return select(club_leader.c.club_id).where(club_leader.c.user_id == actor.id, LEADER_IN_POST)


# --------------------------------------------------------------------------- choices


def module_choices() -> list[tuple[str, str]]:
    return [(m.value, f"{zh} {en}") for m, (zh, en) in MODULE_LABELS.items()]


def level_choices() -> list[tuple[str, str]]:
    """The transcript's vocabulary (credentials.snapshot) names each level in both languages."""
    return [(key, f"{zh} {en}") for key, zh, en in LEVELS]


def role_choices() -> list[tuple[str, str]]:
    return [(key, f"{zh} {en}") for key, zh, en in ROLES]


USER_ROLE_LABELS = {
    Role.ADMIN: ("校团委管理员", "Admin"),
    Role.ORGANIZER: ("指导老师", "Organizer"),
    Role.LEADER: ("社团负责人", "Club leader"),
    Role.STUDENT: ("学生", "Student"),
}


def user_role_choices() -> list[tuple[str, str]]:
    return [(r.value, f"{zh} {en}") for r, (zh, en) in USER_ROLE_LABELS.items()]


def unit_choices(session: Session, actor: User | None) -> list[tuple[int, str]]:
    _require_admin(actor, "管理院系")
    units = session.execute(select(Unit).order_by(Unit.code)).scalars()
    return [(u.id, f"{u.name}（{u.code}）") for u in units]


def people_choices(session: Session, actor: User | None, role: str) -> list[tuple[int, str]]:
    """Advisors (organizers) or leaders to pick when creating a club."""
    _require_admin(actor, "管理社团")
    users = session.execute(
        select(User).where(User.role == role, User.active.is_(True)).order_by(User.display_name)
    ).scalars()
    return [
        (u.id, f"{u.display_name}（{u.student_no or u.username}）") for u in users
    ]


# --------------------------------------------------------------------------- admin


@dataclass
class AdminOverview:
    units: int
    clubs: int
    people: dict[str, int]
    activities: dict[str, int]
    approvals: list[Activity]
    signoff: list[tuple[Activity, int]]


def admin_overview(session: Session, actor: User | None) -> AdminOverview:
    _require_admin(actor, "查看管理首页")
    people = {r.value: 0 for r in Role}
    people.update(dict(session.execute(select(User.role, func.count()).group_by(User.role)).all()))
    activities = {s.value: 0 for s in ActivityStatus}
    activities.update(
        dict(session.execute(select(Activity.status, func.count()).group_by(Activity.status)).all())
    )
    return AdminOverview(
        units=session.execute(select(func.count(Unit.id))).scalar_one(),
        clubs=session.execute(select(func.count(Club.id))).scalar_one(),
        people=people,
        activities=activities,
        approvals=_approval_queue(session, None),
        signoff=_signoff_queue(session, None),
    )


@dataclass
class UnitRow:
    unit: Unit
    clubs: int
    people: int


def units_page(
    session: Session, actor: User | None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    _require_admin(actor, "管理院系")
    result = _page(session, select(Unit).order_by(Unit.code), page, per_page)
    ids = [u.id for u in result.items]
    clubs = dict(session.execute(
        select(Club.unit_id, func.count()).where(Club.unit_id.in_(ids)).group_by(Club.unit_id)
    ).all()) if ids else {}
    people = dict(session.execute(
        select(User.unit_id, func.count()).where(User.unit_id.in_(ids)).group_by(User.unit_id)
    ).all()) if ids else {}
    result.items = [UnitRow(u, clubs.get(u.id, 0), people.get(u.id, 0)) for u in result.items]
    return result


@dataclass
class ClubRow:
    club: Club
    members: int
    activities: int = 0


def clubs_page(
    session: Session, actor: User | None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    _require_admin(actor, "管理社团")
    query = select(Club).options(
        joinedload(Club.unit), selectinload(Club.advisors), selectinload(Club.leaders)
    ).order_by(Club.name)
    result = _page(session, query, page, per_page)
    ids = [c.id for c in result.items]
    members = member_counts(session, ids)
    activities = dict(session.execute(
        select(Activity.club_id, func.count()).where(Activity.club_id.in_(ids))
        .group_by(Activity.club_id)
    ).all()) if ids else {}
    result.items = [ClubRow(c, members.get(c.id, 0), activities.get(c.id, 0)) for c in result.items]
    return result


# --------------------------------------------------------------------------- queues


def _approval_queue(session: Session, organizer: User | None) -> list[Activity]:
    query = (
        select(Activity).options(joinedload(Activity.club))
        .where(Activity.status == ActivityStatus.SUBMITTED)
        .order_by(Activity.submitted_at, Activity.id)
    )
    if organizer is not None:
        query = query.where(Activity.club_id.in_(_advised_club_ids(organizer)))
    return list(session.execute(query).scalars())


def _signoff_queue(session: Session, organizer: User | None) -> list[tuple[Activity, int]]:
    """Activities that can be signed off and still have records waiting, oldest first."""
    waiting = func.count(Participation.id)
    query = (
        select(Activity, waiting)
        .join(Participation, Participation.activity_id == Activity.id)
        .options(joinedload(Activity.club))
        .where(
            Participation.status == ParticipationStatus.RECORDED,
            Activity.status.in_(CERTIFIABLE),
        )
        .group_by(Activity.id)
        .order_by(Activity.starts_at, Activity.id)
    )
    if organizer is not None:
        query = query.where(Activity.club_id.in_(_advised_club_ids(organizer)))
    return [(a, n) for a, n in session.execute(query).unique().all()]


@dataclass
class OrganizerHome:
    approvals: list[Activity]
    signoff: list[tuple[Activity, int]]
    clubs: list[Club]  # the clubs they advise
    college_clubs: list[Club] = field(default_factory=list)  # the others of the college they oversee
    scope_unit: Unit | None = None


def organizer_home(session: Session, actor: User | None) -> OrganizerHome:
    if actor is None or actor.role != Role.ORGANIZER:
        raise Forbidden("这是指导老师的页面 This page is for organizers")
    in_scope = list(session.execute(
        select(Club).where(Club.id.in_(_advised_club_ids(actor))).order_by(Club.name)
    ).scalars())
    advised = [c for c in in_scope if permissions.advises(actor, c)]
    return OrganizerHome(
        _approval_queue(session, actor), _signoff_queue(session, actor), advised,
        college_clubs=[c for c in in_scope if c not in advised], scope_unit=actor.scope_unit,
    )


@dataclass
class LeaderClub:
    club: Club
    activities: list[Activity]
    counts: dict[int, dict[str, int]]


def leader_home(session: Session, actor: User | None) -> list[LeaderClub]:
    if actor is None or actor.role != Role.LEADER:
        raise Forbidden("这是社团负责人的页面 This page is for club leaders")
    clubs = list(session.execute(
        select(Club).where(Club.id.in_(_led_club_ids(actor))).order_by(Club.name)
    ).scalars())
    activities = list(session.execute(
        select(Activity).where(Activity.club_id.in_([c.id for c in clubs]))
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
    ).scalars())
    counts = counts_by_status(session, [a.id for a in activities])
    return [
        LeaderClub(club, [a for a in activities if a.club_id == club.id], counts)
        for club in clubs
    ]


# --------------------------------------------------------------------------- student


@dataclass
class ModuleRow:
    module: str
    zh: str
    en: str
    certified: Decimal
    pending: Decimal


@dataclass
class StudentHome:
    student: User
    records: list[Participation]
    modules: list[ModuleRow]
    total_certified: Decimal
    total_pending: Decimal
    certified_count: int
    awards: int
    open_check_ins: list[Activity] = field(default_factory=list)
    transcripts: list = field(default_factory=list)


def student_home(session: Session, actor: User | None) -> StudentHome:
    if actor is None or not actor.is_student:
        raise Forbidden("这是学生的页面 This page is for students")
    data = student_records(session, actor, actor.student_no)
    pending: dict[str, Decimal] = {}
    for record in data.items:
        if record.status == ParticipationStatus.RECORDED:
            module = record.activity.module
            pending[module] = pending.get(module, Decimal("0")) + record.hours
    modules = [
        ModuleRow(m.value, zh, en, data.hours_by_module.get(m.value, Decimal("0")),
                  pending.get(m.value, Decimal("0")))
        for m, (zh, en) in MODULE_LABELS.items()
    ]
    certified = [r for r in data.items if r.status == ParticipationStatus.CERTIFIED]
    return StudentHome(
        student=actor,
        records=data.items,
        modules=modules,
        total_certified=data.total_certified_hours,
        total_pending=sum(pending.values(), Decimal("0")),
        certified_count=len(certified),
        awards=sum(1 for r in certified if r.award),
        open_check_ins=open_check_ins(session, actor),
        transcripts=my_transcripts(session, actor),
    )


def open_check_ins(session: Session, actor: User) -> list[Activity]:
    """Approved activities open for check-in now that the student is not yet recorded for."""
    if not permissions.can_check_in(actor):
        return []
    now = utcnow()
    mine = select(Participation.activity_id).where(
        Participation.student_id == actor.id, Participation.status.in_(LIVE)
    )
    return list(session.execute(
        select(Activity).options(joinedload(Activity.club))
        .where(
            Activity.status == ActivityStatus.APPROVED,
            Activity.starts_at <= now + CHECK_IN_OPENS,
            Activity.ends_at >= now,
            Activity.id.not_in(mine),
        )
        .order_by(Activity.starts_at)
    ).scalars())


# --------------------------------------------------------------------------- clubs


@dataclass
class ClubPage:
    club: Club
    members: int
    activities: list[Activity]
    can_plan: bool
    is_insider: bool
    can_see_scorecard: bool = False
    people: ClubPeople | None = None


def club_page(session: Session, actor: User | None, club_id: int, term: str | None = None) -> ClubPage:
    """Any signed-in person sees a club; its drafts only its leaders, advisors and the admin.

    `people`: its leaders in post and past, and the roster of `term` for those who see it."""
    club = get_club(session, club_id)
    insider = _insider(actor, club)
    query = select(Activity).where(Activity.club_id == club.id)
    if not insider:
        query = query.where(Activity.status.in_(PUBLIC_STATUSES))
    activities = list(session.execute(
        query.order_by(Activity.starts_at.desc(), Activity.id.desc())
    ).scalars())
    return ClubPage(
        club=club,
        members=member_counts(session, [club.id]).get(club.id, 0),
        activities=activities,
        can_plan=permissions.can_plan_activity(actor, club),
        can_see_scorecard=permissions.can_view_scorecard(actor, club),
        is_insider=insider,
        people=club_people(session, actor, club, term),
    )


def club_for_planning(session: Session, actor: User | None, club_id: int) -> Club:
    club = get_club(session, club_id)
    if not permissions.can_plan_activity(actor, club):
        raise Forbidden(
            "只有本社团负责人可以创建活动 Only a leader of this club plans its activities"
        )
    return club


# --------------------------------------------------------------------------- activities


@dataclass
class ActivityPage:
    activity: Activity
    counts: dict[str, int]
    actions: set[str]
    records: list[Participation] | None
    my_record: Participation | None


def activity_actions(session: Session, actor: User | None, activity: Activity) -> set[str]:
    """What the viewer may do with this activity now (the page shows only these)."""
    club, status = activity.club, activity.status
    actions: set[str] = set()
    plan = permissions.can_plan_activity(actor, club)
    if plan and status in EDITABLE:
        actions.add("edit")
    if plan and status == ActivityStatus.DRAFT:
        actions.add("submit")
    if permissions.can_approve_activity(actor, activity) and status == ActivityStatus.SUBMITTED:
        actions.update({"approve", "return"})
    if plan and status == ActivityStatus.APPROVED:
        actions.add("complete")
    if permissions.can_cancel_activity(actor, activity) and status in CANCELLABLE:
        actions.add("cancel")
    if permissions.can_record_participation(actor, activity) and status in RECORDABLE:
        actions.add("record")
    if permissions.can_certify(actor, activity):
        actions.add("signoff")
    if permissions.can_view_participations(actor, activity):
        actions.add("view_records")
    return actions


def activity_page(session: Session, actor: User | None, activity_id: int) -> ActivityPage:
    activity = get_activity(session, activity_id)
    club = activity.club
    insider = _insider(actor, club)
    if not insider and activity.status not in (*PUBLIC_STATUSES, ActivityStatus.CANCELLED):
        raise Forbidden("该活动尚未批准 This activity is not approved yet")
    actions = activity_actions(session, actor, activity)
    records = None
    if "view_records" in actions:
        records = list(session.execute(
            select(Participation).where(Participation.activity_id == activity.id)
            .options(joinedload(Participation.student), joinedload(Participation.certified_by))
            .order_by(Participation.id)
        ).scalars())
    my_record = None
    if actor is not None and actor.is_student:
        my_record = session.execute(
            select(Participation).where(
                Participation.activity_id == activity.id, Participation.student_id == actor.id
            ).order_by(Participation.id.desc())
        ).scalars().first()
        live = my_record is not None and my_record.status in LIVE
        now = utcnow()
        if (
            permissions.can_check_in(actor) and not live
            and activity.status == ActivityStatus.APPROVED
            and activity.starts_at - CHECK_IN_OPENS <= now <= activity.ends_at
        ):
            actions.add("check_in")
    return ActivityPage(
        activity=activity,
        counts=counts_by_status(session, [activity.id])[activity.id],
        actions=actions,
        records=records,
        my_record=my_record,
    )


def plan_problems(values: dict) -> dict[str, list[str]]:
    """What is wrong with an activity plan, without storing anything.

    Pages call this when some fields could not even be parsed, so that one submission shows
    every message at once (the service itself validates again when the plan is saved).
    """
    try:
        check_plan(values)
    except Invalid as error:
        return error.fields
    return {}


def activity_for_editing(session: Session, actor: User | None, activity_id: int) -> Activity:
    activity = get_activity(session, activity_id)
    if not permissions.can_plan_activity(actor, activity.club):
        raise Forbidden("只有本社团负责人可以修改活动 Only a leader of this club edits it")
    return activity


@dataclass
class RecordingPage:
    activity: Activity
    records: list[Participation]
    open: bool


def recording_page(session: Session, actor: User | None, activity_id: int) -> RecordingPage:
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(
            "只有本社团负责人可以记录参与 Only a leader of this club records participation"
        )
    records = list(session.execute(
        select(Participation).where(Participation.activity_id == activity.id)
        .options(joinedload(Participation.student))
        .order_by(Participation.id)
    ).scalars())
    return RecordingPage(activity, records, activity.status in RECORDABLE)


@dataclass
class SignoffPage:
    activity: Activity
    recorded: list[Participation]
    certified: list[Participation]
    closed: list[Participation]
    open: bool
    own_ids: set[int]


def signoff_page(session: Session, actor: User | None, activity_id: int) -> SignoffPage:
    """The sign-off table for one activity: only for those who may certify its records."""
    activity = get_activity(session, activity_id)
    if not permissions.can_certify(actor, activity):
        raise Forbidden(
            "只有本社团的指导老师或校团委可以认证 Only the club's advisor or the admin signs off"
        )
    records = list(session.execute(
        select(Participation).where(Participation.activity_id == activity.id)
        .options(joinedload(Participation.student), joinedload(Participation.certified_by))
        .order_by(Participation.id)
    ).scalars())
    by = {s: [r for r in records if r.status == s] for s in ParticipationStatus}
    return SignoffPage(
        activity=activity,
        recorded=by[ParticipationStatus.RECORDED],
        certified=by[ParticipationStatus.CERTIFIED],
        closed=by[ParticipationStatus.REJECTED] + by[ParticipationStatus.REVOKED],
        open=activity.status in CERTIFIABLE,
        own_ids={r.id for r in records if permissions.is_participant(actor, r)},
    )


def activity_of_participation(session: Session, participation_id: int) -> int | None:
    """Where to go back to after acting on one record."""
    return session.execute(
        select(Participation.activity_id).where(Participation.id == participation_id)
    ).scalar_one_or_none()


# --------------------------------------------------------------------------- transcripts


def transcripts_page(
    session: Session, actor: User | None, student_no: str | None = None, page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Issued transcripts, newest first, optionally of one student: the admin's revocation desk."""
    from app.models.transcripts import Transcript

    _require_admin(actor, "管理成绩单")
    query = (
        select(Transcript).join(User, User.id == Transcript.student_id)
        .options(joinedload(Transcript.student))
        .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
    )
    number = (student_no or "").strip()
    if number:
        query = query.where(or_(User.student_no == number, Transcript.serial == number.upper()))
    return _page(session, query, page, per_page)


def my_transcripts(session: Session, actor: User | None) -> list:
    """The signed-in student's own transcripts, newest first."""
    from app.services.transcripts import list_transcripts

    if actor is None or not actor.is_student:
        return []
    return list_transcripts(session, actor, actor.student_no)
