"""The options of the forms' select boxes, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PERSON_ROLES, Level, ParticipationRole, Unit, User
from app.services.pages.common import require_admin


def module_choices() -> list[tuple[str, str]]:
    """The office's module list (services.modules), in its order."""
    from app.extensions import db
    from app.services.modules import module_choices as office_modules

    return office_modules(db.session)


def level_choices() -> list[tuple[str, str]]:
    return Level.choices()


def role_choices() -> list[tuple[str, str]]:
    """How a student took part in an activity."""
    return ParticipationRole.choices()


def user_role_choices() -> list[tuple[str, str]]:
    """The roles a person can be given (never the command line's `system`)."""
    return [(role.value, role.label) for role in PERSON_ROLES]


def unit_choices(session: Session, actor: User | None) -> list[tuple[int, str]]:
    require_admin(actor, _("Only the Youth League office manages units"))
    units = session.execute(select(Unit).order_by(Unit.code)).scalars()
    return [(u.id, _("%(name)s (%(code)s)", name=u.name, code=u.code)) for u in units]


def people_choices(session: Session, actor: User | None, role: str) -> list[tuple[int, str]]:
    """Advisors (organizers) or leaders to pick when creating a club."""
    require_admin(actor, _("Only the Youth League office manages clubs"))
    users = session.execute(
        select(User).where(User.role == role, User.active.is_(True)).order_by(User.display_name)
    ).scalars()
    return [
        (u.id, _("%(name)s (%(code)s)", name=u.display_name, code=u.student_no or u.username)) for u in users
    ]


def college_choices(session: Session) -> list[tuple[str, str]]:
    """Every college, for a filter anyone signed in may use (names are public)."""
    units = session.execute(select(Unit).order_by(Unit.code)).scalars()
    return [(str(u.id), u.name) for u in units]
