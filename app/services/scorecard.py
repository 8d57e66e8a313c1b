"""The five-izations (五化) scorecard: each club's standing per term, measured from its records.

PRODUCT.md ("The five-izations"): 组织化 organized, 项目化 activities as projects,
规范化 standardized, 成果化 results, 社会化 socialized.  Nothing here is typed in by hand:
every figure is counted from clubs, rosters, activities and participation records.

How a score is made
-------------------
* The term's activities of a club are those that start in the term (``Activity.term``)
  and were not cancelled; drafts count (a plan is an activity in the making).
* Each indicator maps a raw figure to 0–100 with a straight line between two named
  thresholds (``_ramp``), or is all-or-nothing (an advisor is assigned or not).
* An indicator whose figure has no basis yet (no activity has ended, nothing to sign
  off) is ``None`` — "no data", never zero.  A dimension is the mean of its indicators
  that have data, the overall score the mean of the dimensions that have data.
* A club with no activity in the term has no data at all: every score is ``None``.
* "Started" and "ended" are judged at ``as_of`` (default: now), so a term in progress
  is scored on what has happened so far.

Queries
-------
Every figure is aggregated in SQL, for any number of clubs and terms at once: five
statements for the whole school (``QUERIES_PER_COMPUTE``), whatever the number of clubs.
Clubs, activities and rosters are grouped by (club, term).  The participation records
are read once, grouped by activity: each activity's sums are added up per club here, and
its sign-off delay (computed in SQL) feeds the median, taken in Python because SQLite has
no median aggregate.  Distinct active members are counted by (club, term) in SQL.

Permissions (they belong in ``app.permissions``; kept here until that file is extended):
the admin sees every club; an organizer the clubs they advise; a leader the clubs they
lead; students none.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from app import permissions
from app.models import (
    MODULE_LABELS,
    Activity,
    ActivityStatus,
    Club,
    Level,
    Membership,
    Module,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Role,
    Term,
    Unit,
    User,
    club_advisor,
    club_leader,
)
from app.models.types import UTCDateTime
from app.services.clubs import get_club
from app.services.errors import Forbidden, Invalid
from app.timeutil import term_bounds, term_of, to_local, utcnow

# =========================================================================== thresholds
# Every number the scores depend on, with the reason for it.  Change them here only.

#: Below this an indicator is "weak" and the page shows how to improve it: 60 is the pass
#: mark of Chinese grading (及格线), so a weak indicator is one the club would fail.
WEAK_SCORE = 60.0

# -- 组织化 organized ------------------------------------------------------------------
#: A club needs an advisor: PRODUCT.md has an organizer approve its plans and sign off
#: its records, so without one nothing the club does can be certified.
MIN_ADVISORS = 1
#: …and a student leader, who plans the activities and keeps the records.
MIN_LEADERS = 1
#: Share of the term's roster who took part in at least one activity that earns full
#: marks: most members active, while a fifth may sit a term out (exams, internships).
ACTIVE_SHARE_FULL = 0.8

# -- 项目化 activities as projects -----------------------------------------------------
#: Every activity should be planned (objectives and a budget) and every completed one
#: reported: the pilot's rule has no exceptions, so full marks need all of them.
PLAN_SHARE_FULL = 1.0
OUTCOME_SHARE_FULL = 1.0

# -- 规范化 standardized ---------------------------------------------------------------
#: The rule is approval before the start, for every activity.
APPROVED_SHARE_FULL = 1.0
#: Every activity that has ended should have its participants recorded.
ATTENDANCE_SHARE_FULL = 1.0
#: Median days from an activity's end to its sign-off: within a week is full marks (the
#: advisor's weekly office hour; students see their hours while they still remember)…
SIGNOFF_PROMPT_DAYS = 7.0
#: …a month or more is zero: records signed off that late miss the monthly hour
#: statistics and the scholarship reviews that read them.
SIGNOFF_LATE_DAYS = 30.0
#: Share of records rejected or revoked that scores zero: when one record in five is
#: wrong, the attendance keeping is not to be trusted; none wrong is full marks.
REJECTED_SHARE_ZERO = 0.2

# -- 成果化 results --------------------------------------------------------------------
#: Certified hours per active member for full marks: two typical 4-hour activities a
#: term from one club (a student takes part in several clubs and modules).
HOURS_PER_MEMBER_FULL = 8.0
#: Award points by the level of the activity: national > provincial > school > college
#: > club (the issue's order), each level worth about one and a half of the one below.
AWARD_WEIGHTS = {
    Level.NATIONAL: 8,
    Level.PROVINCIAL: 5,
    Level.SCHOOL: 3,
    Level.COLLEGE: 2,
    Level.CLUB: 1,
}
#: Points for full marks: one national award and one at school level, or a handful of
#: school and college prizes in a term.
AWARD_POINTS_FULL = 10
#: Outcome reports for full marks: about one documented result per month of teaching
#: (a term has three to four months of activities).
OUTCOME_REPORTS_FULL = 3

# -- 社会化 socialized -----------------------------------------------------------------
#: Share of activities with an external partner for full marks: half, since a club's
#: own meetings and training need none.
PARTNER_SHARE_FULL = 0.5
#: Certified volunteering hours in the term for full marks: one real community service,
#: ten volunteers for half a day.
VOLUNTEER_HOURS_FULL = 40.0
#: Share of activities that reach beyond the club's college — school level or above, or
#: with another school — for full marks: half, the same reasoning as partners.
REACH_SHARE_FULL = 0.5
REACH_LEVELS = (Level.SCHOOL, Level.PROVINCIAL, Level.NATIONAL)
#: A partner whose name contains one of these is another school (邻校…协会, …大学, …学院).
SCHOOL_MARKERS = ("校", "大学", "学院")

# =========================================================================== vocabulary

DIMENSIONS: tuple[tuple[str, str, str], ...] = (
    ("organized", "组织化", "Organized"),
    ("projects", "项目化", "Activities as projects"),
    ("standardized", "规范化", "Standardized"),
    ("results", "成果化", "Results"),
    ("socialized", "社会化", "Socialized"),
)
DIMENSION_KEYS = tuple(key for key, _, _ in DIMENSIONS)
DIMENSION_LABELS = {key: (zh, en) for key, zh, en in DIMENSIONS}

#: key → (dimension, 中文, English, hint 中文, hint English)
INDICATORS: dict[str, tuple[str, str, str, str, str]] = {
    "advisors": ("organized", "指导老师到位", "Advisor assigned",
                 "请校团委为社团指定指导老师。",
                 "Ask the Youth League office to assign an advisor."),
    "leaders": ("organized", "负责人到位", "Leader assigned",
                "请校团委在社团信息中指定学生负责人。",
                "Ask the Youth League office to name a student leader."),
    "charter": ("organized", "社团章程", "Charter on file",
                "起草社团章程并交校团委备案。",
                "Write the club's charter and file it with the Youth League office."),
    "active_members": ("organized", "成员参与率", "Active members on the roster",
                       "维护本学期名册，并邀请未参加活动的成员参与。",
                       "Keep the term's roster and bring inactive members to an activity."),
    "election": ("organized", "换届选举", "Election or handover this term",
                 "在名册中记录本学期的换届选举（当选日期）。",
                 "Record the term's election or handover (the date elected) on the roster."),
    "plans": ("projects", "策划书完备", "Activities with a plan",
              "每个活动都写明目标和预算。",
              "Give every activity its objectives and a budget."),
    "outcome_share": ("projects", "结项报告", "Completed activities with an outcome report",
                      "结项时填写成果报告。",
                      "Write an outcome report when you complete an activity."),
    "approved_before_start": ("standardized", "先审批后开展", "Approved before the start",
                              "提前提交活动计划，待指导老师批准后再开展。",
                              "Submit plans early so the advisor approves them before the start."),
    "attendance": ("standardized", "参与记录", "Attendance recorded",
                   "活动结束后及时记录参与同学（可用签到或 CSV 导入）。",
                   "Record who took part after each activity (check-in or CSV)."),
    "signoff_days": ("standardized", "认证及时性", "Days to sign-off (median)",
                     "活动结束后一周内提请指导老师认证记录。",
                     "Ask the advisor to sign records off within a week of the activity."),
    "rejected_share": ("standardized", "记录准确率", "Records rejected or revoked",
                       "核对签到表后再提交记录，避免被驳回。",
                       "Check records against the sign-in sheet so none is rejected."),
    "hours_per_member": ("results", "人均认证学时", "Certified hours per active member",
                         "让更多记录完成认证，并组织更充实的活动。",
                         "Get records certified and run fuller activities."),
    "awards": ("results", "获奖（按级别加权）", "Awards, weighted by level",
               "组织成员参加校级及以上的竞赛与评比。",
               "Take members to competitions at school level or above."),
    "outcome_reports": ("results", "成果报告数", "Outcome reports",
                        "为每个结项活动留下成果报告。",
                        "Leave an outcome report for every completed activity."),
    "partners": ("socialized", "校外合作", "Activities with external partners",
                 "与社区、企业或兄弟院校合作开展活动。",
                 "Run activities with a community, company or another school."),
    "volunteer_hours": ("socialized", "志愿服务学时", "Volunteering hours",
                        "组织志愿公益活动，服务社区。",
                        "Organise volunteering for the community."),
    "reach": ("socialized", "校级及以上 / 校际交流",
              "School level and above, or with other schools",
              "申报校级及以上活动，或与其他学校交流。",
              "Run school-level (or higher) activities, or exchanges with other schools."),
}

TERM_PATTERN = re.compile(r"^(\d{4})-(\d{4})-([12])$")
#: Statements one call of ``compute`` issues, however many clubs and terms it covers.
QUERIES_PER_COMPUTE = 5

LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
BAD = (ParticipationStatus.REJECTED, ParticipationStatus.REVOKED)


# =========================================================================== data


@dataclass
class Facts:
    """The raw figures of one club in one term, as counted from the records."""

    advisors: int = 0
    leaders: int = 0
    charter: bool = False
    roster: int = 0
    active_roster: int = 0
    elections: int = 0
    activities: int = 0
    planned: int = 0
    completed: int = 0
    completed_with_outcome: int = 0
    started: int = 0
    approved_before_start: int = 0
    ended: int = 0
    ended_with_records: int = 0
    partnered: int = 0
    reaching: int = 0
    records: int = 0
    rejected: int = 0
    certified_hours: float = 0.0
    volunteer_hours: float = 0.0
    awards: int = 0
    award_points: int = 0
    active: int = 0
    signoff_days: list[float] = field(default_factory=list)


@dataclass
class Indicator:
    key: str
    value: float | int | bool | None
    score: float | None
    detail_zh: str
    detail_en: str
    figures: dict = field(default_factory=dict)

    @property
    def dimension(self) -> str:
        return INDICATORS[self.key][0]

    @property
    def label_zh(self) -> str:
        return INDICATORS[self.key][1]

    @property
    def label_en(self) -> str:
        return INDICATORS[self.key][2]

    @property
    def label(self) -> str:
        return f"{self.label_zh} {self.label_en}"

    @property
    def detail(self) -> str:
        return f"{self.detail_zh} / {self.detail_en}"

    @property
    def weak(self) -> bool:
        return self.score is not None and self.score < WEAK_SCORE

    @property
    def hint_zh(self) -> str | None:
        return INDICATORS[self.key][3] if self.weak else None

    @property
    def hint_en(self) -> str | None:
        return INDICATORS[self.key][4] if self.weak else None

    @property
    def hint(self) -> str | None:
        return f"{self.hint_zh} {self.hint_en}" if self.weak else None


@dataclass
class Dimension:
    key: str
    score: float | None
    indicators: list[Indicator]

    @property
    def label_zh(self) -> str:
        return DIMENSION_LABELS[self.key][0]

    @property
    def label_en(self) -> str:
        return DIMENSION_LABELS[self.key][1]

    @property
    def label(self) -> str:
        return f"{self.label_zh} {self.label_en}"


@dataclass
class ClubInfo:
    id: int
    name: str
    category: str
    unit_id: int
    unit_name: str
    charter: bool
    advisors: int
    leaders: int


@dataclass
class Scorecard:
    club: ClubInfo
    term: str
    overall: float | None
    dimensions: dict[str, Dimension]
    facts: Facts

    @property
    def club_id(self) -> int:
        return self.club.id

    @property
    def no_data(self) -> bool:
        return self.overall is None

    @property
    def weak(self) -> list[Indicator]:
        return [i for d in self.dimensions.values() for i in d.indicators if i.weak]

    def scores(self) -> dict[str, float | None]:
        return {key: d.score for key, d in self.dimensions.items()}


# =========================================================================== scoring


def _ramp(value: float, zero: float, full: float) -> float:
    """0 at ``zero``, 100 at ``full``, a straight line between, clamped (either direction)."""
    share = (value - zero) / (full - zero)
    return round(100.0 * min(1.0, max(0.0, share)), 1)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _num(value: float) -> str:
    """1 decimal, without a trailing .0 (3 → "3", 3.25 → "3.3")."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _of(key: str, part: int, whole: int, what: tuple[str, str], none: tuple[str, str],
        full: float) -> Indicator:
    """A share indicator: "9 项中 7 项活动…" / "7 of 9 activities…"; ``none`` when 0 of 0."""
    share = _share(part, whole)
    if share is None:
        return Indicator(key, None, None, none[0], none[1], {"count": 0, "of": 0})
    return Indicator(
        key, round(share, 3), _ramp(share, 0.0, full),
        f"{whole} 项中 {part} {what[0]}", f"{part} of {whole} {what[1]}",
        {"count": part, "of": whole},
    )


def score_facts(facts: Facts) -> tuple[float | None, dict[str, Dimension]]:
    """Turn one club-term's raw figures into indicators, dimensions and the overall score.

    Pure: the rules of the scorecard, with no database; ``compute`` feeds it.
    """
    f = facts
    no_data = f.activities == 0
    ended = f.ended > 0
    items: list[Indicator] = []

    # 组织化 -----------------------------------------------------------------------------
    items.append(Indicator(
        "advisors", f.advisors, 100.0 if f.advisors >= MIN_ADVISORS else 0.0,
        f"{f.advisors} 位指导老师", f"{f.advisors} advisor{'s' * (f.advisors != 1)}",
        {"count": f.advisors},
    ))
    items.append(Indicator(
        "leaders", f.leaders, 100.0 if f.leaders >= MIN_LEADERS else 0.0,
        f"{f.leaders} 位负责人", f"{f.leaders} leader{'s' * (f.leaders != 1)}",
        {"count": f.leaders},
    ))
    items.append(Indicator(
        "charter", f.charter, 100.0 if f.charter else 0.0,
        "章程已备案" if f.charter else "尚无章程",
        "charter on file" if f.charter else "no charter",
        {"present": f.charter},
    ))
    if f.roster:
        share = f.active_roster / f.roster
        items.append(Indicator(
            "active_members", round(share, 3), _ramp(share, 0.0, ACTIVE_SHARE_FULL),
            f"名册 {f.roster} 人中 {f.active_roster} 人参加过活动",
            f"{f.active_roster} of {f.roster} roster members took part in an activity",
            {"count": f.active_roster, "of": f.roster},
        ))
    else:  # a club without a roster this term is not organized: zero, not "no data"
        items.append(Indicator(
            "active_members", None, 0.0, "本学期没有名册", "no roster for this term",
            {"count": 0, "of": 0},
        ))
    items.append(Indicator(
        "election", f.elections, 100.0 if f.elections else 0.0,
        f"本学期记录了 {f.elections} 次当选" if f.elections else "本学期没有换届记录",
        f"{f.elections} election{'s' * (f.elections != 1)} recorded this term"
        if f.elections else "no election or handover recorded this term",
        {"count": f.elections},
    ))

    # 项目化 -----------------------------------------------------------------------------
    items.append(_of("plans", f.planned, f.activities,
                     ("项活动写明了目标和预算", "activities have objectives and a budget"),
                     ("本学期没有活动", "no activities this term"), PLAN_SHARE_FULL))
    items.append(_of("outcome_share", f.completed_with_outcome, f.completed,
                     ("项结项活动有成果报告", "completed activities have an outcome report"),
                     ("还没有结项的活动", "no completed activity yet"), OUTCOME_SHARE_FULL))

    # 规范化 -----------------------------------------------------------------------------
    items.append(_of("approved_before_start", f.approved_before_start, f.started,
                     ("项在开始前获批", "activities approved before start"),
                     ("还没有开始的活动", "no activity has started yet"), APPROVED_SHARE_FULL))
    items.append(_of("attendance", f.ended_with_records, f.ended,
                     ("项已结束的活动记录了参与者", "ended activities have attendance recorded"),
                     ("还没有结束的活动", "no activity has ended yet"), ATTENDANCE_SHARE_FULL))
    if f.signoff_days:
        median = statistics.median(f.signoff_days)
        n = len(f.signoff_days)
        items.append(Indicator(
            "signoff_days", round(median, 1), _ramp(median, SIGNOFF_LATE_DAYS, SIGNOFF_PROMPT_DAYS),
            f"{n} 项活动从结束到认证的中位数为 {_num(median)} 天",
            f"median {_num(median)} days from end to sign-off over {n} "
            f"activit{'ies' if n != 1 else 'y'}",
            {"median_days": round(median, 1), "activities": n},
        ))
    else:
        items.append(Indicator("signoff_days", None, None, "还没有待认证的记录",
                               "no records to sign off yet",
                               {"median_days": None, "activities": 0}))
    share = _share(f.rejected, f.records)
    items.append(Indicator(
        "rejected_share", None if share is None else round(share, 3),
        None if share is None else _ramp(share, REJECTED_SHARE_ZERO, 0.0),
        f"{f.records} 条记录中 {f.rejected} 条被驳回或撤销" if f.records else "还没有参与记录",
        f"{f.rejected} of {f.records} records rejected or revoked" if f.records
        else "no participation records yet",
        {"count": f.rejected, "of": f.records},
    ))

    # 成果化 (nothing to show before an activity has ended) ----------------------------
    if ended:
        per = f.certified_hours / f.active if f.active else 0.0
        items.append(Indicator(
            "hours_per_member", round(per, 1), _ramp(per, 0.0, HOURS_PER_MEMBER_FULL),
            f"{f.active} 名参与成员共获认证 {_num(f.certified_hours)} 学时（人均 {_num(per)}）",
            f"{_num(f.certified_hours)} certified hours for {f.active} active members "
            f"({_num(per)} each)",
            {"certified_hours": round(f.certified_hours, 1), "active_members": f.active},
        ))
        items.append(Indicator(
            "awards", f.award_points, _ramp(f.award_points, 0.0, AWARD_POINTS_FULL),
            f"{f.awards} 个奖项，加权 {f.award_points} 分",
            f"{f.awards} award{'s' * (f.awards != 1)}, {f.award_points} weighted points",
            {"awards": f.awards, "points": f.award_points},
        ))
        items.append(Indicator(
            "outcome_reports", f.completed_with_outcome,
            _ramp(f.completed_with_outcome, 0.0, OUTCOME_REPORTS_FULL),
            f"{f.completed_with_outcome} 份成果报告",
            f"{f.completed_with_outcome} outcome report{'s' * (f.completed_with_outcome != 1)}",
            {"count": f.completed_with_outcome},
        ))
    else:
        for key in ("hours_per_member", "awards", "outcome_reports"):
            items.append(Indicator(key, None, None, "还没有结束的活动",
                                   "no activity has ended yet"))

    # 社会化 -----------------------------------------------------------------------------
    items.append(_of("partners", f.partnered, f.activities,
                     ("项活动有校外合作方", "activities have an external partner"),
                     ("本学期没有活动", "no activities this term"), PARTNER_SHARE_FULL))
    if ended:
        items.append(Indicator(
            "volunteer_hours", round(f.volunteer_hours, 1),
            _ramp(f.volunteer_hours, 0.0, VOLUNTEER_HOURS_FULL),
            f"志愿服务认证 {_num(f.volunteer_hours)} 学时",
            f"{_num(f.volunteer_hours)} certified volunteering hours",
            {"hours": round(f.volunteer_hours, 1)},
        ))
    else:
        items.append(Indicator("volunteer_hours", None, None, "还没有结束的活动",
                               "no activity has ended yet"))
    items.append(_of("reach", f.reaching, f.activities,
                     ("项活动为校级及以上或校际交流",
                      "activities at school level or above, or with other schools"),
                     ("本学期没有活动", "no activities this term"), REACH_SHARE_FULL))

    if no_data:  # no activity this term: the figures stay visible, the scores do not exist
        for item in items:
            item.score = None
    dimensions = {
        key: Dimension(key, None, [i for i in items if i.dimension == key])
        for key in DIMENSION_KEYS
    }
    for dim in dimensions.values():
        dim.score = _mean(i.score for i in dim.indicators)
    overall = _mean(d.score for d in dimensions.values())
    return overall, dimensions


# =========================================================================== queries


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_text(column):
    return and_(column.is_not(None), func.length(func.trim(column)) > 0)


def _json_text(column):
    return cast(column, String)


def _partner_like(marker: str):
    """Partners are JSON text: match the marker as written and as JSON escapes it (\\uXXXX)."""
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in marker)
    text = _json_text(Activity.partners)
    return or_(text.like(f"%{marker}%", escape="/"), text.like(f"%{escaped}%", escape="/"))


def _activity_conditions(terms: list[str], club_ids: Select | list[int] | None):
    conds = [Activity.term.in_(terms), Activity.status != ActivityStatus.CANCELLED]
    if club_ids is not None:
        conds.append(Activity.club_id.in_(club_ids))
    return conds


def _club_rows(session: Session, club_ids, unit_id, category) -> list[ClubInfo]:
    advisors = (select(func.count()).select_from(club_advisor)
                .where(club_advisor.c.club_id == Club.id).scalar_subquery())
    leaders = (select(func.count()).select_from(club_leader)
               .where(club_leader.c.club_id == Club.id).scalar_subquery())
    query = (
        select(Club.id, Club.name, Club.category, Club.unit_id, Unit.name,
               case((_has_text(Club.charter), 1), else_=0), advisors, leaders)
        .join(Unit, Unit.id == Club.unit_id)
        .where(*_club_conditions(club_ids, unit_id, category))
        .order_by(Club.name)
    )
    return [ClubInfo(cid, name, cat, uid, uname, bool(charter), adv, lead)
            for cid, name, cat, uid, uname, charter, adv, lead in session.execute(query)]


def _club_conditions(club_ids, unit_id, category) -> list:
    conds = []
    if club_ids is not None:
        conds.append(Club.id.in_(club_ids))
    if unit_id is not None:
        conds.append(Club.unit_id == unit_id)
    if category:
        conds.append(Club.category == category)
    return conds


def compute(
    session: Session,
    terms: Iterable[str],
    *,
    club_ids: list[int] | None = None,
    unit_id: int | None = None,
    category: str | None = None,
    as_of: datetime | None = None,
) -> dict[tuple[int, str], Scorecard]:
    """Scorecards of the selected clubs (all by default) for each of ``terms``.

    No permission check: callers below do that.  Issues ``QUERIES_PER_COMPUTE``
    statements whatever the number of clubs and terms.
    """
    terms = sorted(set(terms))
    as_of = as_of or utcnow()
    clubs = _club_rows(session, club_ids, unit_id, category)
    facts: dict[tuple[int, str], Facts] = {}
    for club in clubs:
        for term in terms:
            facts[(club.id, term)] = Facts(
                advisors=club.advisors, leaders=club.leaders, charter=club.charter)
    if clubs and terms:
        # The same clubs the first query found, as a subquery (never a long IN list).
        conds = _club_conditions(club_ids, unit_id, category)
        scope = select(Club.id).where(*conds) if conds else None
        _activity_facts(session, facts, terms, scope, as_of)
        _record_facts(session, facts, terms, scope, as_of)
        _member_facts(session, facts, terms, scope)
        _roster_facts(session, facts, terms, scope)
    out = {}
    for club in clubs:
        for term in terms:
            f = facts[(club.id, term)]
            overall, dimensions = score_facts(f)
            out[(club.id, term)] = Scorecard(club, term, overall, dimensions, f)
    return out


def _activity_facts(session, facts, terms, scope, as_of) -> None:
    started = Activity.starts_at <= as_of
    ended = Activity.ends_at <= as_of
    completed = Activity.status == ActivityStatus.COMPLETED
    partners = and_(Activity.partners.is_not(None),
                    _json_text(Activity.partners).not_in(["[]", "null"]))
    reach = or_(Activity.level.in_([lv.value for lv in REACH_LEVELS]),
                and_(partners, or_(*(_partner_like(m) for m in SCHOOL_MARKERS))))
    query = (
        select(
            Activity.club_id, Activity.term,
            func.count(Activity.id),
            _count_if(and_(_has_text(Activity.objectives), Activity.budget.is_not(None))),
            _count_if(completed),
            _count_if(and_(completed, _has_text(Activity.outcome))),
            _count_if(started),
            _count_if(and_(started, Activity.approved_at.is_not(None),
                           Activity.approved_at <= Activity.starts_at)),
            _count_if(ended),
            _count_if(partners),
            _count_if(reach),
        )
        .where(*_activity_conditions(terms, scope))
        .group_by(Activity.club_id, Activity.term)
    )
    for row in session.execute(query):
        f = facts.get((row[0], row[1]))
        if f is None:
            continue
        (f.activities, f.planned, f.completed, f.completed_with_outcome, f.started,
         f.approved_before_start, f.ended, f.partnered, f.reaching) = (int(v) for v in row[2:])


class _DaysBetween(FunctionElement):
    """``later - earlier`` in days (a float), in SQL: the datetimes never reach Python."""

    type = Float()
    inherit_cache = True


@compiles(_DaysBetween, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(_DaysBetween)
def _days_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later}) - ({earlier})) / 86400.0)"


def _record_facts(session, facts, terms, scope, as_of) -> None:
    """The participation records, summed per activity in SQL (one pass over the records)
    and the per-activity sums added up per club here: the sign-off median needs each
    activity's delay anyway, and what depends on the activity alone (its module for
    volunteering, its level for the award weight) is applied once per activity instead
    of once per record."""
    certified = Participation.status == ParticipationStatus.CERTIFIED
    # Services store an award stripped, or NULL when there is none.
    awarded = and_(certified, Participation.award.is_not(None), Participation.award != "")
    moment = literal(as_of, UTCDateTime())
    # Days from the end to the first sign-off (certified or rejected), or to as_of while
    # every record still waits; only for an activity that has ended.
    delay = case(
        (Activity.ends_at <= moment, _DaysBetween(
            func.coalesce(func.min(func.coalesce(Participation.certified_at,
                                                 Participation.rejected_at)), moment),
            Activity.ends_at)),
    )
    query = (
        select(
            Activity.club_id, Activity.term, Activity.module, Activity.level,
            func.count(Participation.id),
            func.count(case((Participation.status.in_([s.value for s in BAD]), 1))),
            type_coerce(func.sum(case((certified, Participation.hours))), Float()),
            type_coerce(func.sum(case((
                and_(certified, Participation.role == ParticipationRole.VOLUNTEER),
                Participation.hours))), Float()),
            func.count(case((awarded, 1))),
            delay,
        )
        .join(Participation, Participation.activity_id == Activity.id)
        .where(*_activity_conditions(terms, scope))
        # by the primary key: the activity's other columns depend on it (functional
        # dependency, accepted by PostgreSQL and SQLite); no sort of the records needed
        .group_by(Activity.id)
    )
    for (club_id, term, module, level, records, bad, certified_hours, volunteer_role,
         awards, days) in session.execute(query):
        f = facts.get((club_id, term))
        if f is None:
            continue
        f.records += records
        f.rejected += bad
        f.awards += awards
        f.award_points += awards * AWARD_WEIGHTS.get(level, 0)
        certified_hours = float(certified_hours or 0)
        f.certified_hours += certified_hours
        # Volunteering: every certified hour of a volunteering activity, else the hours of
        # records in the volunteer role.
        f.volunteer_hours += certified_hours if module == Module.VOLUNTEERING else \
            float(volunteer_role or 0)
        if days is not None:
            f.ended_with_records += 1
            f.signoff_days.append(max(0.0, float(days)))
    for f in facts.values():  # hours are tenths: sums of floats drift in the 12th digit
        f.certified_hours = round(f.certified_hours, 1)
        f.volunteer_hours = round(f.volunteer_hours, 1)


def _member_facts(session, facts, terms, scope) -> None:
    """Active members (took part in an activity: a live record) and, of them, those on the
    term's roster: the distinct (club, term, student) of live records, joined to the roster."""
    took_part = (
        select(Activity.club_id, Activity.term, Participation.student_id)
        .join(Participation, Participation.activity_id == Activity.id)
        .where(*_activity_conditions(terms, scope),
               Participation.status.in_([s.value for s in LIVE]))
        .distinct()
        .subquery()
    )
    query = (
        select(took_part.c.club_id, took_part.c.term, func.count(), func.count(Membership.id))
        .select_from(took_part)
        .outerjoin(Membership, and_(Membership.club_id == took_part.c.club_id,
                                    Membership.term == took_part.c.term,
                                    Membership.user_id == took_part.c.student_id))
        .group_by(took_part.c.club_id, took_part.c.term)
    )
    for club_id, term, active, on_roster in session.execute(query):
        f = facts.get((club_id, term))
        if f is not None:
            f.active, f.active_roster = int(active), int(on_roster)


def _roster_facts(session, facts, terms, scope) -> None:
    # An election counts for the term whose dates it falls in (one branch per term).
    elected = or_(*(
        and_(Membership.term == term, Membership.elected_on.between(*term_bounds(term)))
        for term in terms
    ))
    query = (
        select(Membership.club_id, Membership.term, func.count(Membership.id), _count_if(elected))
        .where(Membership.term.in_(terms))
        .group_by(Membership.club_id, Membership.term)
    )
    if scope is not None:
        query = query.where(Membership.club_id.in_(scope))
    for club_id, term, roster, elections in session.execute(query):
        f = facts.get((club_id, term))
        if f is not None:
            f.roster, f.elections = int(roster), int(elections)


# =========================================================================== terms


def parse_term(value: str | None, field_name: str = "term") -> str:
    """A term code ``YYYY-YYYY-N`` (N 1 autumn, 2 spring); empty means the current term."""
    if value is None or not str(value).strip():
        return term_of(utcnow())
    value = str(value).strip()
    match = TERM_PATTERN.match(value)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise Invalid({field_name: [
            "学期格式为 YYYY-YYYY-N，如 2026-2027-1 A term is written YYYY-YYYY-N, e.g. 2026-2027-1"
        ]})
    return value


def term_in_progress(term: str, today: date | datetime | None = None) -> bool:
    """Whether the term has not ended yet (its scores are "so far")."""
    if today is None:
        today = utcnow()
    if isinstance(today, datetime):
        today = (to_local(today) or today).date()
    return today <= term_bounds(term)[1]


def previous_term(term: str) -> str:
    first, second, half = term.split("-")
    if half == "2":
        return f"{first}-{second}-1"
    return f"{int(first) - 1}-{first}-2"


def known_terms(session: Session, club_id: int | None = None) -> list[str]:
    """Terms with a Term row or an activity (of the club, if given), newest first."""
    query = select(Activity.term).distinct()
    if club_id is not None:
        query = query.where(Activity.club_id == club_id)
    terms = set(session.execute(query).scalars())
    terms |= set(session.execute(select(Term.code)).scalars())
    terms.add(term_of(utcnow()))
    return sorted((t for t in terms if TERM_PATTERN.match(t)), reverse=True)


# =========================================================================== permissions


def _visible_club_ids(session: Session, actor: User | None) -> list[int] | None:
    """None for every club (admin); else the clubs the actor advises or leads."""
    if permissions.is_admin(actor):
        return None
    if actor.role == Role.ORGANIZER:
        table = club_advisor
    elif actor.role == Role.LEADER:
        table = club_leader
    else:
        raise Forbidden("学生不能查看社团五化评分 Students do not see club scorecards")
    return list(session.execute(
        select(table.c.club_id).where(table.c.user_id == actor.id)).scalars())


# =========================================================================== services


def club_scorecard(
    session: Session, actor: User | None, club_id: int, term: str | None = None,
    *, as_of: datetime | None = None,
) -> Scorecard:
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden("只有校团委、本社团指导老师和负责人可以查看 "
                        "Only the admin, the club's advisors and its leaders see its scorecard")
    term = parse_term(term)
    return compute(session, [term], club_ids=[club.id], as_of=as_of)[(club.id, term)]


def club_trend(
    session: Session, actor: User | None, club_id: int, terms: list[str] | None = None,
    *, as_of: datetime | None = None,
) -> list[Scorecard]:
    """The club's scorecard in every known term, oldest first."""
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden("只有校团委、本社团指导老师和负责人可以查看 "
                        "Only the admin, the club's advisors and its leaders see its scorecard")
    terms = sorted(terms or known_terms(session, club.id))
    cards = compute(session, terms, club_ids=[club.id], as_of=as_of)
    return [cards[(club.id, t)] for t in terms]


@dataclass
class RankedRow:
    rank: int | None
    card: Scorecard
    previous: Scorecard | None = None

    @property
    def change(self) -> float | None:
        if self.previous is None or self.previous.overall is None or self.card.overall is None:
            return None
        return round(self.card.overall - self.previous.overall, 1)


@dataclass
class Overview:
    term: str
    previous_term: str
    unit_id: int | None
    category: str | None
    rows: list[RankedRow]
    in_progress: bool = False

    @property
    def total(self) -> int:
        return len(self.rows)


def rank(cards: list[Scorecard]) -> list[tuple[int | None, Scorecard]]:
    """Best overall first; equal scores share a rank; no data last and unranked."""
    ordered = sorted(cards, key=lambda c: (c.overall is None, -(c.overall or 0), c.club.name))
    out, position, last, last_rank = [], 0, None, None
    for card in ordered:
        if card.overall is None:
            out.append((None, card))
            continue
        position += 1
        if card.overall != last:
            last, last_rank = card.overall, position
        out.append((last_rank, card))
    return out


def _overview(session, club_ids, term, unit_id, category, as_of, compare) -> Overview:
    before = previous_term(term)
    cards = compute(session, [term, before] if compare else [term], club_ids=club_ids,
                    unit_id=unit_id, category=category, as_of=as_of)
    now = [c for (_, t), c in cards.items() if t == term]
    rows = [RankedRow(r, c, cards.get((c.club.id, before))) for r, c in rank(now)]
    return Overview(term, before, unit_id, category, rows, term_in_progress(term, as_of))


def _check_unit(session: Session, unit_id: int | None) -> None:
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise Invalid({"unit": [f"没有编号为 {unit_id} 的院系 No such unit"]})


def overview(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
    compare: bool = False,
) -> Overview:
    """Every club's scorecard in the term, ranked; with ``compare`` also the term before
    (for the change), which doubles the work.

    The admin's view of the whole school (API ``GET /scorecards``).
    """
    if not permissions.can_view_overview(actor):
        raise Forbidden("只有校团委可以查看全校五化排名 Only the admin sees the school's ranking")
    term = parse_term(term)
    _check_unit(session, unit_id)
    return _overview(session, None, term, unit_id, category or None, as_of, compare)


def my_overview(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
    compare: bool = True,
) -> Overview:
    """The ranking as the actor may see it (all clubs for the admin, else their own clubs),
    by default with the term before for the change."""
    club_ids = _visible_club_ids(session, actor)
    term = parse_term(term)
    _check_unit(session, unit_id)
    return _overview(session, club_ids, term, unit_id, category or None, as_of, compare)


@dataclass
class HeatTable:
    """Certified hours per module (columns) per unit of the club (rows) in a term."""

    term: str
    units: list[tuple[int, str]]
    modules: list[tuple[str, str, str]]
    cells: dict[tuple[int, str], float]

    @property
    def peak(self) -> float:
        return max(self.cells.values(), default=0.0)

    def value(self, unit_id: int, module: str) -> float:
        return self.cells.get((unit_id, module), 0.0)

    def unit_total(self, unit_id: int) -> float:
        return round(sum(v for (u, _), v in self.cells.items() if u == unit_id), 1)

    def module_total(self, module: str) -> float:
        return round(sum(v for (_, m), v in self.cells.items() if m == module), 1)

    def level(self, value: float, steps: int = 5) -> int:
        """0 for none, else 1..steps by share of the peak (for the heat colours)."""
        if value <= 0 or self.peak <= 0:
            return 0
        return max(1, min(steps, int(-(-value * steps // self.peak))))


def module_hours_by_unit(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None,
) -> HeatTable:
    """One statement: certified hours grouped by the club's unit and the module."""
    club_ids = _visible_club_ids(session, actor)
    term = parse_term(term)
    _check_unit(session, unit_id)
    conds = [Activity.term == term, Activity.status != ActivityStatus.CANCELLED,
             Participation.status == ParticipationStatus.CERTIFIED,
             *_club_conditions(club_ids, unit_id, category or None)]
    query = (
        select(Unit.id, Unit.name, Activity.module, func.sum(Participation.hours))
        .select_from(Participation)
        .join(Activity, Activity.id == Participation.activity_id)
        .join(Club, Club.id == Activity.club_id)
        .join(Unit, Unit.id == Club.unit_id)
        .where(*conds)
        .group_by(Unit.id, Unit.name, Activity.module)
    )
    units: dict[int, str] = {}
    cells: dict[tuple[int, str], float] = {}
    for uid, uname, module, hours in session.execute(query):
        units[uid] = uname
        cells[(uid, module)] = round(float(hours or Decimal(0)), 1)
    modules = [(m.value, zh, en) for m, (zh, en) in MODULE_LABELS.items()]
    return HeatTable(term, sorted(units.items(), key=lambda u: u[1]), modules, cells)


def filter_choices(session: Session, actor: User | None) -> dict:
    """Units and categories for the overview's filters (of the clubs the actor sees)."""
    club_ids = _visible_club_ids(session, actor)
    query = select(Unit.id, Unit.name, Club.category).join(Club, Club.unit_id == Unit.id)
    if club_ids is not None:
        query = query.where(Club.id.in_(club_ids))
    rows = session.execute(query).all()
    return {
        "units": sorted({(uid, name) for uid, name, _ in rows}, key=lambda u: u[1]),
        "categories": sorted({cat for _, _, cat in rows}),
        "terms": known_terms(session),
    }


# =========================================================================== pages


@dataclass
class OverviewPage:
    overview: Overview
    heat: HeatTable
    units: list[tuple[int, str]]
    categories: list[str]
    terms: list[str]
    whole_school: bool


def overview_page(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
) -> OverviewPage:
    """The overview page: the ranking (the admin's: every club; an organizer's or a
    leader's: their own clubs), the module-hours heat table and the filter choices."""
    ranking = my_overview(session, actor, term, unit_id=unit_id, category=category, as_of=as_of)
    heat = module_hours_by_unit(session, actor, ranking.term, unit_id=unit_id, category=category)
    choices = filter_choices(session, actor)
    return OverviewPage(ranking, heat, choices["units"], choices["categories"], choices["terms"],
                        permissions.is_admin(actor))


@dataclass
class ClubPage:
    card: Scorecard
    trend: list[Scorecard]
    terms: list[str]
    in_progress: bool = False


def club_scorecard_page(
    session: Session, actor: User | None, club_id: int, term: str | None = None, *,
    as_of: datetime | None = None,
) -> ClubPage:
    """One club's scorecard in a term with its trend across every known term."""
    term = parse_term(term)
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden("只有校团委、本社团指导老师和负责人可以查看 "
                        "Only the admin, the club's advisors and its leaders see its scorecard")
    terms = sorted(set(known_terms(session, club.id)) | {term})
    cards = compute(session, terms, club_ids=[club.id], as_of=as_of)
    trend = [cards[(club.id, t)] for t in terms]
    return ClubPage(cards[(club.id, term)], trend, sorted(terms, reverse=True),
                    term_in_progress(term, as_of))
