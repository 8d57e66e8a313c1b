"""A believable demo school: units, clubs, people, two terms of activities and records.

Built through the same services as real use, so the demo data obeys every rule (and fills
the audit chain). Deterministic: the same seed builds the same school. Its Chinese is data
(names of people, clubs, units, activities). Over 400 lines because most of it is that data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import (
    Activity,
    Club,
    Membership,
    Participation,
    ParticipationStatus,
    Role,
    Term,
    User,
    club_leader,
)
from app.services import accounts, activities, classes, clubs, demo_student_year, leadership, participations
from app.services.participations import Entry
from app.services.passwords import hash_password
from app.timeutil import school_zone, term_bounds

DEMO_PASSWORD = "demo12345"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    name: str
    note: tuple[str, str]  # (zh, en): shown in the reader's language


DEMO_LOGINS = (
    DemoLogin("admin", "admin", "校团委 陈老师", ("校团委", "Youth League office")),
    DemoLogin("wang.laoshi", "organizer", "王建国",
              ("青年志愿者协会、机器人创新社的指导老师", "advisor of 青年志愿者协会 and 机器人创新社")),
    DemoLogin("cs.tuanwei", "organizer", "周书记",
              ("院团委书记：本院的社团和学生", "the CS college's League secretary: its clubs and students")),
    DemoLogin("li.xiaoyu", "leader", "李晓雨", ("青年志愿者协会负责人", "leader of 青年志愿者协会")),
    DemoLogin("zhang.wei", "student", "张伟", ("有已认定记录的学生", "student with certified records")),
)

UNITS = [("CS", "计算机科学与技术学院"), ("ECON", "经济管理学院"), ("ART", "艺术与传媒学院"),
         ("MED", "医学院")]

SURNAMES = (  # noqa: E501 — one line of surnames reads best
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = ["子涵", "欣怡", "梓萱", "一诺", "浩宇", "宇轩", "雨桐", "思远", "佳怡", "俊杰", "嘉豪",
         "诗涵", "明轩", "可馨", "晨曦", "博文", "雅琪", "泽宇", "梦瑶", "天佑", "若曦", "子墨",
         "静怡", "文博", "思彤", "昊然", "婉清", "志强", "丽娜", "海涛", "晓峰", "美玲", "建华"]

# (name, unit, category, advisor index, charter?, module mix, partner-heavy?)
CLUBS = [
    ("青年志愿者协会", "MED", "志愿公益", 0, True, ["volunteering", "practice", "ideology"], True),
    ("机器人创新社", "CS", "学术科技", 0, True, ["innovation", "skills", "practice"], True),
    ("开源软件协会", "CS", "学术科技", 1, True, ["skills", "innovation"], False),
    ("红色经典读书会", "ECON", "思想政治", 1, True, ["ideology", "culture_sports"], False),
    ("创业俱乐部", "ECON", "创新创业", 2, False, ["innovation", "practice"], True),
    ("民乐团", "ART", "文化艺术", 2, True, ["culture_sports"], False),
    ("篮球协会", "CS", "体育竞技", 3, False, ["culture_sports"], False),
    ("学生会宣传部", "ART", "学生组织", 3, True, ["leadership", "ideology"], False),
    ("乡村支教团", "MED", "志愿公益", 4, True, ["volunteering", "practice"], True),
]

TITLES = {
    "ideology": ["学习二十大精神主题分享会", "红色经典诵读", "参观革命纪念馆", "青年马克思主义者讲堂"],
    "practice": ["暑期社会实践调研", "企业参访与实习体验", "乡镇经济调研", "社区治理实践"],
    "volunteering": ["社区敬老院志愿服务", "马拉松赛事志愿者", "图书馆整理志愿活动", "无偿献血宣传"],
    "innovation": ["机器人竞赛备赛集训", "创业计划书工作坊", "挑战杯项目路演", "黑客马拉松"],
    "culture_sports": ["新生杯篮球赛", "民乐专场音乐会", "校园十佳歌手大赛", "经典诗词朗诵会"],
    "leadership": ["学生干部培训营", "社团骨干换届述职", "宣传部新媒体运营", "班团干部素质拓展"],
    "skills": ["Python 编程入门讲座", "Linux 与开源贡献实战", "普通话水平测试培训", "英语演讲训练营"],
}
LOCATIONS = ["图书馆报告厅", "学生活动中心 201", "体育馆", "阳光敬老院", "创新创业孵化基地",
             "艺术楼音乐厅", "市博物馆", "青山村小学"]
PARTNERS = ["阳光敬老院", "市红十字会", "青山村小学", "华为技术有限公司", "邻校机器人协会",
            "市图书馆", "高新区创业服务中心"]
AWARDS = ["一等奖", "二等奖", "三等奖", "优秀奖", "优秀志愿者"]


@dataclass(frozen=True)
class Habits:
    """How a club runs, so the five-izations scorecards differ the way real clubs do.

    lead: days between approval and the start (negative: approved after it started);
    lag: days from an activity's end to its sign-off; budgets, reports, elections: whether
    plans carry a budget, completed activities an outcome report, the roster an election.
    """

    lead: tuple[float, float] = (4, 10)
    lag: tuple[float, float] = (3, 10)
    budgets: bool = True
    reports: bool = True
    elections: bool = True


HABITS = {
    "青年志愿者协会": Habits(lead=(7, 14), lag=(1, 4)),             # the model club
    "机器人创新社": Habits(lead=(5, 10), lag=(3, 8)),
    "开源软件协会": Habits(lead=(3, 7), lag=(25, 45)),               # sign-off drags on
    "红色经典读书会": Habits(lead=(-4, 2), lag=(5, 10)),             # runs first, asks later
    "创业俱乐部": Habits(lead=(2, 6), lag=(10, 20), budgets=False, elections=False),
    "民乐团": Habits(lead=(4, 8), lag=(5, 12)),
    "篮球协会": Habits(lead=(-6, 3), lag=(15, 30), reports=False, elections=False),
    "学生会宣传部": Habits(lead=(5, 10), lag=(2, 6)),
    "乡村支教团": Habits(lead=(7, 14), lag=(2, 5)),
}
#: A club founded this term that has not run an activity yet: its scorecard shows no data.
NEW_CLUB = ("摄影协会", "ART", "文化艺术", 4)


def is_loaded(session: Session) -> bool:
    people = select(func.count(User.id)).where(User.role != Role.SYSTEM)  # the CLI's account is no one
    return session.execute(people).scalar_one() > 0


def _names(rng: random.Random, count: int) -> list[str]:
    seen, out = set(), []
    while len(out) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def load_demo(session: Session, today: date | None = None, seed: int = 2026) -> bool:
    """Fill an empty database; returns False (and changes nothing) if people exist already."""
    if is_loaded(session):
        return False
    rng = random.Random(seed)
    today = today or datetime.now(school_zone()).date()
    current = _term_for(today)
    previous = _previous_term(current)
    for code in (previous, current):
        start, end = term_bounds(code)
        half = "秋季" if code.endswith("-1") else "春季"
        session.add(Term(code=code, name=f"{code[:9]} 学年{half}学期", starts_on=start, ends_on=end))
    session.flush()

    units = {code: accounts.create_unit(session, None, code, name) for code, name in UNITS}

    # The demo's one known password (README) is hashed once and given to every demo account;
    # it is not a password anyone could set (it is too common), and nothing imported gets it.
    demo_hash = hash_password(DEMO_PASSWORD)

    def person(username, role, name, unit=None, student_no=None):
        user = accounts.create_user(
            session, None, username=username, display_name=name,
            role=role, student_no=student_no, unit_id=units[unit].id if unit else None,
        )
        user.password_hash = demo_hash
        return user

    admin = person("admin", Role.ADMIN, "校团委 陈老师")
    advisors = [person("wang.laoshi", Role.ORGANIZER, "王建国", "CS")]
    for i, name in enumerate(["刘芳", "赵明", "孙丽", "周强"], start=2):
        advisors.append(person(f"teacher{i}", Role.ORGANIZER, name, UNITS[i % len(UNITS)][0]))
    # A college League secretary (院团委): advises no club, oversees the CS college's clubs and students.
    secretary = person("cs.tuanwei", Role.ORGANIZER, "周书记", "CS")
    secretary.scope_unit_id = units["CS"].id

    names = _names(rng, 80)
    unit_codes = [code for code, _ in UNITS]
    students = [person("zhang.wei", Role.STUDENT, "张伟", "CS", "2023010001")]
    leaders = [person("li.xiaoyu", Role.LEADER, "李晓雨", "MED", "2023040001")]
    for i, name in enumerate(names[:8]):
        unit = CLUBS[i + 1][1]
        number = f"2023{unit_codes.index(unit) + 1:02d}{i + 100:04d}"
        leaders.append(person(f"leader{i + 2}", Role.LEADER, name, unit, number))
    for i, name in enumerate(names[8:], start=2):
        unit = unit_codes[i % len(unit_codes)]
        students.append(person(f"s{2024000 + i}", Role.STUDENT, name, unit,
                               f"2024{unit_codes.index(unit) + 1:02d}{i:04d}"))

    # Classes (班级) by college and year of entry; every demo student belongs to one.
    short = {"CS": "计科", "ECON": "经管", "ART": "艺传", "MED": "临床"}
    made: dict[tuple[int, int], int] = {}
    for student in students + leaders:
        cohort = int(student.student_no[:4])
        key = (student.unit_id, cohort)
        if key not in made:
            code = next(c for c, u in units.items() if u.id == student.unit_id)
            made[key] = classes.create_class(session, None, student.unit_id, f"{short[code]}{cohort % 100}01班",
                                             cohort).id
        student.class_id = made[key]

    club_rows = []
    for index, (name, unit, category, advisor, charter, modules, partnered) in enumerate(CLUBS):
        club = clubs.create_club(
            session, None, name=name, unit_id=units[unit].id, category=category,
            advisor_ids=[advisors[advisor].id] + ([advisors[0].id] if index == 1 else []),
            leader_ids=[leaders[index].id] if index else [],  # the first club's: a handover, below
            charter=f"{name}章程：以服务同学、锻炼能力为宗旨，每学期换届选举一次。" if charter else None,
            founded_on=date(2010 + index, 9, 1),
        )
        club_rows.append((club, modules, partnered))
    former = next(s for s in students[1:] if s.unit_id == units[CLUBS[0][1]].id)
    _demo_handover(session, club_rows[0][0], former, leaders[0], previous, current)

    members = students + leaders
    for club, _, _ in club_rows:
        for term in (previous, current):
            roster = rng.sample(members, 14)
            for k, student in enumerate(roster):
                session.add(Membership(
                    club_id=club.id, user_id=student.id, term=term,
                    role="会长" if k == 0 else ("干事" if k < 4 else "成员"),
                    elected_on=term_bounds(term)[0] + timedelta(days=20)
                    if k == 0 and HABITS[club.name].elections else None,
                    joined_on=term_bounds(term)[0],
                ))
    session.flush()

    zhang = students[0]
    for term, is_past in ((previous, True), (current, False)):
        for club, modules, partnered in club_rows:
            for n in range(3):
                _demo_activity(session, rng, club, modules, partnered, term, n, is_past, today,
                               members, zhang, admin)
    _demo_history(session, random.Random(seed + 1))
    _demo_new_club(session, random.Random(seed + 2), units, advisors, members, current)
    demo_student_year.load(session, random.Random(seed + 3), today, members, zhang, secretary)
    _demo_rules(session, admin, today)
    _demo_transcripts(session, admin, zhang, members)
    return True


# Each cohort's credit rules: the juniors' were tightened once (version 2), so the office's page
# shows a history; with the demo's records some students of each cohort meet them and some do not.
DEMO_RULES = {
    2023: [{"total_min_hours": "24", "modules": {"volunteering": {"min_hours": "6", "max_hours": "16"}},
            "annual": {"pass_hours": "12", "excellent_hours": "24"}, "years_required": 0},
           {"total_min_hours": "30", "modules": {"volunteering": {"min_hours": "8", "max_hours": "16"},
                                                  "practice": {"max_hours": "12"}},
            "annual": {"pass_hours": "12", "excellent_hours": "24"}, "years_required": 1}],
    2024: [{"total_min_hours": "20", "modules": {"volunteering": {"min_hours": "4", "max_hours": "16"},
                                                  "ideology": {"max_hours": "10"}},
            "annual": {"pass_hours": "8", "excellent_hours": "16"}, "years_required": 1}],
}


def _demo_rules(session: Session, admin: User, today: date) -> None:
    from app.services import credit_rules, year_end

    for cohort, versions in DEMO_RULES.items():
        for values in versions:
            credit_rules.set_rules(session, admin, cohort, values)
    # The year that ended last summer is certified already.
    year_end.run_year_end(session, admin, year_end.recent_years()[1])


def _demo_transcripts(session: Session, admin: User, zhang: User, members: list[User]) -> None:
    """A few issued transcripts in every state, when a signing key exists."""
    from app.services import transcripts
    from app.services.errors import DomainError

    try:
        transcripts.keyring()
    except DomainError:
        return  # `flask keys generate` first; `make run` does
    transcripts.issue_transcript(session, zhang, zhang.student_no)
    others = [m for m in members if m.id != zhang.id]
    issued = []
    for student in others[:12]:
        try:
            issued.append(transcripts.issue_transcript(session, admin, student.student_no))
        except DomainError:
            continue  # no certified record yet
        if len(issued) == 3:
            break
    if issued:
        # Issuing again when nothing changed gives back the same transcript; a withdrawn record
        # amends it, and the student's next issue supersedes it.
        first = issued[0]
        certified = session.execute(
            select(Participation.id).where(Participation.student_id == first.student_id,
                                           Participation.status == ParticipationStatus.CERTIFIED)
            .order_by(Participation.id)).scalars().all()
        if len(certified) > 1:
            participations.revoke(session, admin, certified[-1], "重复登记，撤销认证")
            transcripts.issue_transcript(session, admin, first.student.student_no)  # supersedes
    if len(issued) > 1:
        transcripts.revoke_transcript(session, admin, issued[1].serial, "学生申请更正记录后重新开具")


def demo_verify_link(session: Session) -> str | None:
    from app.models import Transcript, TranscriptStatus

    return session.execute(
        select(Transcript.link).join(User, User.id == Transcript.student_id)
        .where(User.username == "zhang.wei", Transcript.status == TranscriptStatus.VALID)
    ).scalar_one_or_none()


def _demo_activity(session, rng, club: Club, modules, partnered, term, n, is_past, today,
                   members, zhang, admin) -> Activity:
    leader = club.leaders[0]
    advisor = club.advisors[0]
    module = modules[n % len(modules)]
    start_day, end_day = term_bounds(term)
    span = max((end_day - start_day).days - 7, 1)
    day = start_day + timedelta(days=rng.randrange(span))
    if not is_past:
        # This term: one activity already held, the others planned for the coming weeks.
        day = today - timedelta(days=rng.randrange(10, 40)) if n == 0 else today + timedelta(
            days=rng.randrange(3, 30))
    starts_at = datetime(day.year, day.month, day.day, 14, 0, tzinfo=school_zone())
    title = f"{TITLES[module][(n + len(club.name)) % len(TITLES[module])]}"
    level = rng.choice(["club", "college", "school", "school", "provincial", "national"][: 4 + n])
    activity = activities.create_activity(
        session, leader, club.id, title=title, module=module, level=level,
        starts_at=starts_at, ends_at=starts_at + timedelta(hours=rng.choice([2, 3, 4])),
        location=rng.choice(LOCATIONS), hours=rng.choice([2, 3, 4, 6, 8]),
        capacity=rng.choice([None, 30, 50]),
        description=f"{club.name}组织的{title}。",
        objectives="提升同学的实践能力与社会责任感。" if rng.random() < 0.8 else None,
        budget=rng.choice([None, 500, 1200, 3000]) if HABITS[club.name].budgets else None,
        partners=[rng.choice(PARTNERS)] if partnered and rng.random() < 0.7 else [],
    )
    ended = starts_at.date() < today
    # Current-term plans stop at different points so every state shows up.
    stage = 4 if (is_past or ended) else rng.choice([0, 1, 1, 2, 2, 2])
    if not is_past and n == 2 and club.name.startswith("篮球"):
        activities.cancel_activity(session, leader, activity.id, "场地冲突，活动取消")
        return activity
    if stage >= 1:
        activities.submit_activity(session, leader, activity.id)
    if stage >= 2:
        activities.approve_activity(session, advisor, activity.id)
    if stage < 4:
        return activity
    people = rng.sample([m for m in members if m.id != leader.id], rng.randrange(6, 14))
    if module in ("volunteering", "practice") and zhang not in people:
        people.append(zhang)
    entries = [Entry(student_no=leader.student_no, role="leader")]
    for person in people:
        award = rng.choice(AWARDS) if level in ("school", "provincial", "national") and rng.random() < 0.15 else None
        entries.append(Entry(student_no=person.student_no, role="awardee" if award else
                             rng.choice(["participant", "participant", "volunteer", "organizer"]),
                             award=award))
    participations.record_participations(session, leader, activity.id, entries)
    report = f"共 {len(entries)} 人参加，活动圆满完成。" if rng.random() < 0.85 else None
    activities.complete_activity(session, leader, activity.id,
                                 report if HABITS[club.name].reports else None)
    if not is_past and rng.random() < 0.4:
        return activity  # left in the organizer's sign-off queue
    records = participations.list_participations(session, advisor, activity.id)
    if rng.random() < 0.3:
        participations.reject(session, advisor, records[-1].id, "签到表上没有该同学，请核实后重新记录")
    participations.certify(session, advisor, activity.id)
    if is_past and rng.random() < 0.15:
        certified = [r for r in records if r.status == "certified" and r.student_id != zhang.id]
        if certified:
            participations.revoke(session, admin, certified[0].id, "经核查该同学未实际参加，撤销认证")
    return activity


def _demo_history(session: Session, rng: random.Random) -> None:
    """Give the records the times a real term would have left behind.

    The services stamp everything "now"; a demo built in one go would show every plan
    approved long after it started and every record signed off months late.  Each club's
    habits (``HABITS``) set when its plans were approved and its records signed off.
    Never later than now; the audit chain is left as written.
    """
    now = datetime.now(UTC)

    def until_now(moment: datetime, floor: datetime | None = None) -> datetime:
        moment = min(moment, now - timedelta(minutes=5))
        return max(moment, floor) if floor is not None else moment

    query = select(Activity).join(Club).order_by(Activity.id)
    for activity in session.execute(query).scalars():
        habits = HABITS.get(activity.club.name, Habits())
        lead = timedelta(days=rng.uniform(*habits.lead))
        planned = until_now(activity.starts_at - max(lead, timedelta(0)) - timedelta(days=10))
        activity.created_at = min(activity.created_at, planned)
        if activity.submitted_at is not None:
            activity.submitted_at = until_now(activity.starts_at - lead - timedelta(days=3),
                                              activity.created_at)
        if activity.approved_at is not None:
            activity.approved_at = until_now(activity.starts_at - lead, activity.submitted_at)
        if activity.completed_at is not None:
            activity.completed_at = until_now(activity.ends_at + timedelta(hours=20))
        if activity.cancelled_at is not None:
            activity.cancelled_at = until_now(activity.cancelled_at, activity.created_at)
        signed = until_now(activity.ends_at + timedelta(days=rng.uniform(*habits.lag)))
        for record in activity.participations:
            record.recorded_at = until_now(activity.ends_at + timedelta(hours=18))
            if record.certified_at is not None:
                record.certified_at = until_now(signed, record.recorded_at)
            if record.rejected_at is not None:
                record.rejected_at = until_now(signed, record.recorded_at)
            if record.revoked_at is not None:
                record.revoked_at = until_now(signed + timedelta(days=12), record.certified_at)
    session.flush()


def _demo_handover(session: Session, club: Club, former: User, leader: User, previous: str, current: str) -> None:
    """换届: `former` led the club last term and stepped down for `leader` this term (the
    appointment history the club page shows), dated as the terms would have left them."""
    for student, term in ((former, previous), (leader, current)):
        leadership.appoint_leaders(session, None, club.id, [student.student_no], term=term)
    latest = datetime.now(UTC) - timedelta(days=1)

    def day(term: str) -> datetime:  # the election, three weeks into the term (never in the future)
        return min(datetime.combine(term_bounds(term)[0] + timedelta(days=20), datetime.min.time(), UTC), latest)

    elected, handover = day(previous), day(current)
    c = club_leader.c
    session.execute(update(club_leader).where(c.club_id == club.id, c.user_id == former.id)
                    .values(appointed_at=elected, ended_at=handover))
    session.execute(update(club_leader).where(c.club_id == club.id, c.user_id == leader.id)
                    .values(appointed_at=handover))
    session.flush()


def _demo_new_club(session: Session, rng: random.Random, units, advisors, members, term) -> None:
    name, unit, category, advisor = NEW_CLUB
    club = clubs.create_club(
        session, None, name=name, unit_id=units[unit].id, category=category,
        advisor_ids=[advisors[advisor].id], leader_ids=[],
        founded_on=term_bounds(term)[0] + timedelta(days=14),
    )
    for student in rng.sample(members, 8):
        session.add(Membership(club_id=club.id, user_id=student.id, term=term, role="成员",
                               joined_on=term_bounds(term)[0] + timedelta(days=14)))
    session.flush()


def _term_for(today: date) -> str:
    from app.timeutil import term_of

    return term_of(datetime(today.year, today.month, today.day, 12, tzinfo=UTC))


def _previous_term(code: str) -> str:
    first, second, half = code.split("-")
    if half == "2":
        return f"{first}-{second}-1"
    return f"{int(first) - 1}-{first}-2"
