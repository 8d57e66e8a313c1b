"""Seed data for the benchmarks: one student with N certified records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from app.models import Activity, Club, Participation, Unit, User, club_leader
from app.timeutil import term_of

MODULES = ["ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills"]


def seed_graduate(session, records: int = 60) -> tuple[User, User]:
    """Returns (admin, student); the student holds `records` certified participations."""
    unit = Unit(code="CS", name="计算机科学与技术学院")
    session.add(unit)
    session.flush()
    admin = User(username="admin", password_hash="x", display_name="管理员", role="admin")
    adv = User(username="adv", password_hash="x", display_name="王建国", role="organizer")
    lead = User(username="lead", password_hash="x", display_name="李晓雨", role="leader", student_no="2023000001")
    stu = User(username="stu", password_hash="x", display_name="张伟", role="student",
               student_no="2023010001", unit_id=unit.id)
    session.add_all([admin, adv, lead, stu])
    session.flush()
    club = Club(name="青年志愿者协会", category="志愿公益", unit_id=unit.id, advisors=[adv])
    session.add(club)
    session.flush()
    session.execute(insert(club_leader).values(club_id=club.id, user_id=lead.id))
    start = datetime(2025, 9, 10, 6, tzinfo=UTC)
    for i in range(records):
        at = start + timedelta(days=3 * i)
        activity = Activity(
            club_id=club.id, title=f"第{i + 1}期 社区志愿服务与实践活动", module=MODULES[i % 7], level="school",
            starts_at=at, ends_at=at + timedelta(hours=3), term=term_of(at), location="图书馆报告厅",
            hours=Decimal("3.5"), status="completed", created_by_id=lead.id, partners=[],
        )
        session.add(activity)
        session.flush()
        session.add(Participation(
            activity_id=activity.id, student_id=stu.id, role="participant", hours=Decimal("3.5"),
            status="certified", recorded_by_id=lead.id, certified_by_id=adv.id,
            certified_at=at + timedelta(days=1), award="一等奖" if i % 10 == 0 else None,
        ))
    session.commit()
    return admin, stu
