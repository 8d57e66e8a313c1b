"""The student's home: hours by module, records and claims, transcripts, sign-ups and the check-ins open now.

A graduating student has a hundred records or more: the sums are grouped in SQL and each list is
one page (`common.paginate`), so the page costs the same statements whatever the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    Activity,
    ActivityStatus,
    Claim,
    ClaimStatus,
    Participation,
    Registration,
    User,
)
from app.services.errors import Forbidden
from app.services.modules import module_list
from app.services.pages.common import PER_PAGE, Page, paginate
from app.services.pages.transcripts import my_transcripts
from app.services.participations import LIVE, record_sums, student_records_query
from app.services.registrations import LIVE as REGISTRATION_LIVE
from app.timeutil import utcnow

ZERO = Decimal("0")
# The lists of the page, each paged on its own (?records=2, ?transcripts=2, …).
LISTS = ("records", "transcripts", "claims", "sign_ups", "check_ins")


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
    records: Page
    modules: list[ModuleRow]
    total_certified: Decimal
    total_pending: Decimal
    certified_count: int
    awards: int
    open_check_ins: Page
    transcripts: Page
    claims: Page  # certified claims: they count like records
    sign_ups: Page  # live sign-ups for activities not yet over
    appealable: set[int] = field(default_factory=set)  # rejected records on the page still open to an appeal


def student_home(session: Session, actor: User | None, pages: Mapping[str, int] | None = None) -> StudentHome:
    if actor is None or not actor.is_student:
        raise Forbidden(_("This page is for students"))
    pages = pages or {}
    sums = record_sums(session, actor.id)
    modules = [
        ModuleRow(m.key, *m.pair, sums.certified.get(m.key, ZERO), sums.pending.get(m.key, ZERO))
        for m in module_list(session)
    ]
    records = my_records(session, actor, pages.get("records", 1))
    from app.services import appeals  # the appeals build on the records this page reads

    return StudentHome(
        student=actor,
        records=records,
        modules=modules,
        total_certified=sum(sums.certified.values(), ZERO),
        total_pending=sum(sums.pending.values(), ZERO),
        certified_count=sums.certified_count,
        awards=sums.awards,
        open_check_ins=open_check_ins_page(session, actor, pages.get("check_ins", 1)),
        transcripts=my_transcripts(session, actor, pages.get("transcripts", 1)),
        claims=paginate(session, select(Claim).where(
            Claim.student_id == actor.id, Claim.status == ClaimStatus.CERTIFIED,
        ).order_by(Claim.occurred_on.desc(), Claim.id.desc()), pages.get("claims", 1), PER_PAGE),
        sign_ups=paginate(session, my_sign_ups_query(actor), pages.get("sign_ups", 1), PER_PAGE),
        appealable=appeals.appealable_records(session, actor, records.items),
    )


def my_records(session: Session, student: User, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the student's own records, the latest activity first."""
    return paginate(session, student_records_query(student.id), page, per_page)


def _open_check_ins_query(actor: User) -> Select:
    mine = select(Participation.activity_id).where(
        Participation.student_id == actor.id, Participation.status.in_(LIVE)
    )
    return (
        select(Activity).options(joinedload(Activity.club))
        .where(
            Activity.status == ActivityStatus.APPROVED,
            Activity.check_in_window_open(utcnow()),
            Activity.id.not_in(mine),
        )
        .order_by(Activity.starts_at, Activity.id)
    )


def open_check_ins(session: Session, actor: User) -> list[Activity]:
    """Approved activities open for check-in now that the student is not yet recorded for."""
    if not permissions.can_check_in(actor):
        return []
    return list(session.execute(_open_check_ins_query(actor)).scalars())


def open_check_ins_page(session: Session, actor: User, page: int = 1) -> Page:
    """The same, one page: at a big school a dozen activities may be open at once."""
    if not permissions.can_check_in(actor):
        return Page([], 0, 1, PER_PAGE)
    return paginate(session, _open_check_ins_query(actor), page, PER_PAGE)


def my_sign_ups_query(actor: User) -> Select:
    """The student's places and waiting-list entries for what has not ended, soonest first."""
    return (
        select(Registration).join(Activity, Activity.id == Registration.activity_id)
        .where(Registration.student_id == actor.id, Registration.status.in_(REGISTRATION_LIVE),
               Activity.ends_at >= utcnow())
        .options(joinedload(Registration.activity).joinedload(Activity.club))
        .order_by(Activity.starts_at, Registration.id)
    )


def my_sign_ups(session: Session, actor: User) -> list[Registration]:
    return list(session.execute(my_sign_ups_query(actor)).scalars())
