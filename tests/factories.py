"""Factories: build units, people, clubs, activities and records straight in the database."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from app.models import (
    Activity,
    ActivityStatus,
    AuthToken,
    Claim,
    ClaimStatus,
    Club,
    Membership,
    Participation,
    ParticipationStatus,
    Role,
    SchoolClass,
    Unit,
    User,
    club_leader,
)
from app.services.passwords import hash_password
from app.timeutil import term_of, utcnow

PASSWORD = "correct horse 42"
_seq = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session

    def _save(self, obj):
        self.session.add(obj)
        self.session.commit()
        return obj

    def unit(self, code: str | None = None, name: str = "计算机学院") -> Unit:
        n = next(_seq)
        return self._save(Unit(code=code or f"U{n}", name=f"{name}{n}"))

    def school_class(self, unit: Unit | None = None, *, cohort: int = 2023, name: str | None = None) -> SchoolClass:
        n = next(_seq)
        return self._save(SchoolClass(unit_id=(unit or self.unit()).id, cohort=cohort, name=name or f"{cohort}级{n}班"))

    def user(self, role: str = Role.STUDENT, *, name: str | None = None, unit: Unit | None = None,
             student_no: str | None = None, username: str | None = None,
             school_class: SchoolClass | None = None) -> User:
        n = next(_seq)
        if school_class is not None:
            unit = unit or school_class.unit
        if student_no is None and role in (Role.STUDENT, Role.LEADER):
            student_no = f"2025{n:06d}"
        return self._save(User(
            username=username or f"{role}{n}",
            password_hash=hash_password(PASSWORD),
            display_name=name or f"测试{role}{n}",
            role=role,
            student_no=student_no,
            unit_id=unit.id if unit else None,
            class_id=school_class.id if school_class else None,
        ))

    def admin(self, **kw) -> User:
        return self.user(Role.ADMIN, **kw)

    def organizer(self, **kw) -> User:
        return self.user(Role.ORGANIZER, **kw)

    def leader(self, **kw) -> User:
        return self.user(Role.LEADER, **kw)

    def student(self, **kw) -> User:
        return self.user(Role.STUDENT, **kw)

    def club(self, *, advisors=(), leaders=(), unit: Unit | None = None, name: str | None = None,
             category: str = "学术科技") -> Club:
        n = next(_seq)
        club = Club(
            name=name or f"测试社团{n}", category=category, unit_id=(unit or self.unit()).id,
            advisors=list(advisors),
        )
        self.session.add(club)
        self.session.flush()
        self.put_in_post(club, leaders)
        return self._save(club)

    def put_in_post(self, club: Club, leaders) -> None:
        """Appoint these leaders straight in the database, like every factory (no audit event)."""
        if leaders:
            self.session.execute(insert(club_leader), [{"club_id": club.id, "user_id": u.id} for u in leaders])
            self.session.expire(club, ["leaders"])

    def activity(self, club: Club, *, status: str = ActivityStatus.APPROVED, module: str = "volunteering",
                 level: str = "school", hours: str = "4", starts_at: datetime | None = None,
                 title: str | None = None, **kw) -> Activity:
        starts_at = starts_at or datetime(2026, 10, 10, 1, 0, tzinfo=UTC)
        creator = club.leaders[0] if club.leaders else self.admin()
        return self._save(Activity(
            club_id=club.id, title=title or f"社区志愿服务{next(_seq)}", module=module, level=level,
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=3), term=term_of(starts_at),
            location="图书馆报告厅", hours=Decimal(hours), status=status, created_by_id=creator.id,
            partners=kw.pop("partners", []), **kw,
        ))

    def participation(self, activity: Activity, student: User, *, status: str = ParticipationStatus.RECORDED,
                      certifier: User | None = None, hours: str | None = None, role: str = "participant",
                      award: str | None = None) -> Participation:
        record = Participation(
            activity_id=activity.id, student_id=student.id, role=role, award=award,
            hours=Decimal(hours) if hours else activity.hours, status=status,
            recorded_by_id=(activity.club.leaders[0].id if activity.club.leaders else student.id),
        )
        if status in (ParticipationStatus.CERTIFIED, ParticipationStatus.REVOKED):
            certifier = certifier or (activity.club.advisors[0] if activity.club.advisors else self.admin())
            record.certified_by_id, record.certified_at = certifier.id, utcnow()
        return self._save(record)

    def membership(self, club: Club, student: User, term: str, *, elected_on: date | None = None,
                   role: str = "member") -> Membership:
        """A student on the club's roster for the term."""
        return self._save(Membership(club_id=club.id, user_id=student.id, term=term, role=role,
                                     elected_on=elected_on))

    def claim(self, student: User, *, module: str = "innovation", hours: str = "2", occurred_on: date | None = None,
              status: str = ClaimStatus.SUBMITTED, reviewer: User | None = None) -> Claim:
        """An achievement claim; reviewed by `reviewer` (else the admin) unless still submitted."""
        claim = Claim(student_id=student.id, title=f"校外成果{next(_seq)}", module=module, level="school",
                      occurred_on=occurred_on or date(2026, 10, 20), hours=Decimal(hours), status=status)
        if status != ClaimStatus.SUBMITTED:
            claim.reviewed_by_id, claim.reviewed_at = (reviewer or self.admin()).id, utcnow()
        return self._save(claim)

    def token(self, user: User) -> dict[str, str]:
        """Authorization header for a user."""
        token = secrets.token_urlsafe(24)
        self._save(AuthToken(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id,
            expires_at=utcnow() + timedelta(hours=1),
        ))
        return {"Authorization": f"Bearer {token}"}

    def world(self):
        """One club with an advisor and a leader, an approved activity and two students."""
        unit = self.unit()
        advisor, leader = self.organizer(unit=unit), self.leader(unit=unit)
        club = self.club(advisors=[advisor], leaders=[leader], unit=unit)
        activity = self.activity(club)
        return World(unit, club, advisor, leader, activity,
                     [self.student(unit=unit), self.student(unit=unit)], self.admin())


class World:
    def __init__(self, unit, club, advisor, leader, activity, students, admin):
        self.unit, self.club, self.advisor, self.leader = unit, club, advisor, leader
        self.activity, self.students, self.admin = activity, students, admin
