"""The indicators: every threshold with its reason, and how raw figures become 0–100 scores.

Pure rules over ``Facts``; nothing here touches the database (see ``facts``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.models import (
    Level,
    ParticipationStatus,
)

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


