"""The student's home: hours by module, records and claims, transcripts, sign-ups and the check-ins open now."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import Activity, ActivityStatus, Participation, ParticipationStatus, Registration, User
from app.services.errors import Forbidden
from app.services.modules import module_list
from app.services.pages.transcripts import my_transcripts
from app.services.participations import LIVE, student_records
from app.services.registrations import LIVE as REGISTRATION_LIVE
from app.timeutil import utcnow


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
    claims: list = field(default_factory=list)  # certified claims: they count like records
    appealable: set[int] = field(default_factory=set)  # rejected records still open to an appeal
    sign_ups: list = field(default_factory=list)  # live sign-ups for activities not yet over


def student_home(session: Session, actor: User | None) -> StudentHome:
    if actor is None or not actor.is_student:
        raise Forbidden(_("This page is for students"))
    data = student_records(session, actor, actor.student_no)
    pending: dict[str, Decimal] = {}
    for record in data.items:
        if record.status == ParticipationStatus.RECORDED:
            module = record.activity.module
            pending[module] = pending.get(module, Decimal("0")) + record.hours
    modules = [
        ModuleRow(m.key, *m.pair, data.hours_by_module.get(m.key, Decimal("0")),
                  pending.get(m.key, Decimal("0")))
        for m in module_list(session)
    ]
    certified = [r for r in data.items if r.status == ParticipationStatus.CERTIFIED]
    from app.services import appeals  # the appeals build on the records this page reads

    appealable = {r.id for r in data.items if r.status == ParticipationStatus.REJECTED
                  and appeals.may_open(session, actor, participation=r)}
    return StudentHome(
        claims=data.claims, appealable=appealable, sign_ups=my_sign_ups(session, actor),
        student=actor,
        records=data.items,
        modules=modules,
        total_certified=data.total_certified_hours,
        total_pending=sum(pending.values(), Decimal("0")),
        certified_count=len(certified) + len(data.claims),
        awards=sum(1 for r in certified if r.award) + sum(1 for c in data.claims if c.award),
        open_check_ins=open_check_ins(session, actor),
        transcripts=my_transcripts(session, actor),
    )


def open_check_ins(session: Session, actor: User) -> list[Activity]:
    """Approved activities open for check-in now that the student is not yet recorded for."""
    if not permissions.can_check_in(actor):
        return []
    mine = select(Participation.activity_id).where(
        Participation.student_id == actor.id, Participation.status.in_(LIVE)
    )
    return list(session.execute(
        select(Activity).options(joinedload(Activity.club))
        .where(
            Activity.status == ActivityStatus.APPROVED,
            Activity.check_in_window_open(utcnow()),
            Activity.id.not_in(mine),
        )
        .order_by(Activity.starts_at)
    ).scalars())


def my_sign_ups(session: Session, actor: User) -> list[Registration]:
    """The student's places and waiting-list entries for what has not ended, soonest first."""
    return list(session.execute(
        select(Registration).join(Activity, Activity.id == Registration.activity_id)
        .where(Registration.student_id == actor.id, Registration.status.in_(REGISTRATION_LIVE),
               Activity.ends_at >= utcnow())
        .options(joinedload(Registration.activity).joinedload(Activity.club))
        .order_by(Activity.starts_at)
    ).scalars())
