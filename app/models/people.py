"""Units, classes, users, their sign-ins (API tokens and browser sessions) and reset links."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class Role(Labelled):
    ADMIN = "admin"
    ORGANIZER = "organizer"
    LEADER = "leader"
    STUDENT = "student"
    # The command line: one reserved account that never signs in (app/services/system.py),
    # so what a command did is stamped as the system's, never as a person's.
    SYSTEM = "system"

    __titles__ = {
        "admin": _l("Admin"),
        "organizer": _l("Organizer"),
        "leader": _l("Club leader"),
        "student": _l("Student"),
        "system": _l("System (command line)"),
    }


# Leaders are students who lead a club: they keep every student capability.
STUDENT_ROLES = (Role.STUDENT, Role.LEADER)
# The roles a person can be given (the system role is the command line's alone).
PERSON_ROLES = (Role.ADMIN, Role.ORGANIZER, Role.LEADER, Role.STUDENT)


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchoolClass(db.Model):
    """A class (班级 / 团支部): one unit, one cohort (the year of entry, e.g. 2023)."""

    __tablename__ = "school_class"
    __table_args__ = (
        UniqueConstraint("unit_id", "name", name="name_in_unit"),
        CheckConstraint("cohort BETWEEN 1950 AND 2200", name="cohort_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    cohort: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'organizer', 'leader', 'student', 'system')", name="role_known"
        ),
        CheckConstraint(
            "role NOT IN ('student', 'leader') OR student_no IS NOT NULL",
            name="student_has_number",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # None: no password works (imported, or SSO only) until the owner sets one by a reset link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    student_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"), index=True)
    # An organizer who is a college's League secretary (院团委) oversees that unit's clubs and students.
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # The catalog the account reads the site in ('zh_CN', 'en'); None: the browser's choice.
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    school_class: Mapped[SchoolClass | None] = relationship()
    scope_unit: Mapped[Unit | None] = relationship(foreign_keys=[scope_unit_id])

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.active

    @property
    def is_student(self) -> bool:
        return self.role in STUDENT_ROLES

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class TokenKind(enum.StrEnum):
    API = "api"  # a bearer token for the JSON API
    WEB = "web"  # a browser session: the signed cookie carries the token, the row decides


class AuthToken(db.Model):
    """One sign-in that can be ended: a bearer token or a browser session.

    Only the token's SHA-256 is stored, so a database leak gives no tokens. Ending a sign-in
    (logout, password change, deactivation) sets `ended_at`; a copied cookie or token then
    no longer works.
    """

    __tablename__ = "auth_token"
    __table_args__ = (CheckConstraint("kind IN ('api', 'web')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default=TokenKind.API)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    method: Mapped[str] = mapped_column(String(16), default="password")  # password, cas, oidc
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class PasswordReset(db.Model):
    """A one-time link that sets a password (also the activation of an imported account)."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
