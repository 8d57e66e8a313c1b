"""The indicators as data: every threshold with its reason, and the five-izations vocabulary.

Only tables: how the figures become scores is ``scoring``, where they come from ``facts``.

A data module for the no-Chinese-literals rule: its Chinese string literals are the
five-izations vocabulary (``DIMENSIONS``, ``INDICATORS``: names and hints as (zh, en)
pairs, shown one language at a time with ``app.i18n.pick``) and ``SCHOOL_MARKERS``
(words matched in partners' names).  The messages computed from the figures (an
indicator's ``detail``) are in ``scoring`` and go through gettext.
"""

from __future__ import annotations

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
