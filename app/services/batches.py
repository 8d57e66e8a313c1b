"""The graduation batch (#17): the office issues the transcripts of a unit, a class or a cohort on the job queue.

`start_batch` writes the batch, one item per student who has something certified, and the items'
chunks (BATCH_CHUNK_SIZE students each); once the request commits, one job per chunk is queued
(app/jobs.py), whose worker claims and issues chunks (services/batch_work). Here also: cancel,
resume, the progress the office watches and its page; the ZIP for printing is services/batch_zip.

Idempotent: an item once issued is never issued again (a re-run skips it, and the item's row is
locked while its student is issued, so two workers never both issue it), and issuing for a
student whose current transcript already carries exactly what a new one would returns that one
(`transcripts.issue_or_current`), so a batch never supersedes a transcript it issued itself.

Every function here flushes and leaves the commit to its caller (the request, the CLI command).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app import jobs, permissions
from app.models import (
    STUDENT_ROLES,
    BatchScope,
    BatchStatus,
    ChunkStatus,
    Claim,
    ClaimStatus,
    GraduationBatch,
    GraduationBatchChunk,
    GraduationBatchItem,
    ItemStatus,
    Participation,
    ParticipationStatus,
    SchoolClass,
    Unit,
    User,
)
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import utcnow

log = logging.getLogger(__name__)

LIVE = (BatchStatus.QUEUED, BatchStatus.RUNNING)
FINISHED_ITEMS = (ItemStatus.ISSUED, ItemStatus.SKIPPED)
# The window over which the live rate is measured (the page's "per second" and "time left").
RATE_WINDOW = timedelta(seconds=20)
MAX_PER_PAGE = 100


# ---- starting, cancelling, resuming (the office) --------------------------------------------------

def _require_office(actor: User | None) -> None:
    if not permissions.can_run_batches(actor):
        raise Forbidden(_("Only the admin runs graduation batches"))


def _scope_of(session: Session, unit_id: int | None, class_id: int | None, cohort: int | None):
    given = {name: value for name, value in (("unit_id", unit_id), ("class_id", class_id), ("cohort", cohort))
             if value is not None}
    if len(given) != 1:
        message = _("Choose one: a unit, a class or a cohort")
        raise Invalid({name: [message] for name in (given or {"unit_id": 0, "class_id": 0, "cohort": 0})}, message)
    if unit_id is not None:
        if session.get(Unit, unit_id) is None:
            raise Invalid({"unit_id": [_("No such unit")]})
        return BatchScope.UNIT
    if class_id is not None:
        if session.get(SchoolClass, class_id) is None:
            raise Invalid({"class_id": [_("No such class")]})
        return BatchScope.CLASS
    if not 1950 <= cohort <= 2200:
        raise Invalid({"cohort": [_("A year of entry from %(first)s to %(last)s", first=1950, last=2200)]})
    return BatchScope.COHORT


def _scope_filter(unit_id: int | None, class_id: int | None, cohort: int | None):
    if unit_id is not None:
        return User.unit_id == unit_id
    if class_id is not None:
        return User.class_id == class_id
    return User.class_id.in_(select(SchoolClass.id).where(SchoolClass.cohort == cohort))


def students_in_scope(session: Session, unit_id: int | None = None, class_id: int | None = None,
                      cohort: int | None = None) -> list[int]:
    """The ids of the scope's students with a certified record or claim, by class and name."""
    certified = or_(
        select(Participation.id).where(Participation.student_id == User.id,
                                       Participation.status == ParticipationStatus.CERTIFIED).exists(),
        select(Claim.id).where(Claim.student_id == User.id, Claim.status == ClaimStatus.CERTIFIED).exists(),
    )
    return list(session.execute(
        select(User.id).outerjoin(SchoolClass, SchoolClass.id == User.class_id)
        .where(User.role.in_(STUDENT_ROLES), _scope_filter(unit_id, class_id, cohort), certified)
        .order_by(SchoolClass.name, User.display_name, User.student_no)
    ).scalars())


def start_batch(session: Session, actor: User | None, *, unit_id: int | None = None, class_id: int | None = None,
                cohort: int | None = None, chunk_size: int | None = None) -> GraduationBatch:
    """A new batch of the scope's students, queued; its jobs are enqueued when the caller commits."""
    _require_office(actor)
    scope = _scope_of(session, unit_id, class_id, cohort)
    live = session.execute(select(GraduationBatch.id).where(
        GraduationBatch.status.in_(LIVE), GraduationBatch.scope == scope,
        *(column == value for column, value in ((GraduationBatch.unit_id, unit_id),
                                                (GraduationBatch.class_id, class_id),
                                                (GraduationBatch.cohort, cohort)) if value is not None),
    ).limit(1)).scalar()
    if live is not None:
        raise Conflict(_("Batch %(id)s for the same students is still running: wait for it or cancel it", id=live))
    students = students_in_scope(session, unit_id, class_id, cohort)
    if not students:
        raise Conflict(_("No student in this scope has a certified record"))
    size = max(1, chunk_size or current_app.config["BATCH_CHUNK_SIZE"])
    actor = acting(session, actor)
    batch = GraduationBatch(scope=scope, unit_id=unit_id, class_id=class_id, cohort=cohort,
                            status=BatchStatus.QUEUED, total=len(students), chunk_size=size,
                            created_by_id=actor.id, created_at=utcnow())
    session.add(batch)
    session.flush()
    chunks = (len(students) + size - 1) // size
    session.execute(insert(GraduationBatchChunk), [
        {"batch_id": batch.id, "number": n, "status": ChunkStatus.PENDING, "claims": 0} for n in range(chunks)])
    session.execute(insert(GraduationBatchItem), [
        {"batch_id": batch.id, "student_id": sid, "chunk": i // size, "status": ItemStatus.PENDING}
        for i, sid in enumerate(students)])
    append_event(session, actor, "batch.start", "batch", batch.id, {
        "scope": scope, "unit_id": unit_id, "class_id": class_id, "cohort": cohort, "total": len(students),
        "chunks": chunks})
    session.flush()
    jobs.run_batch_after_commit(session, batch.id, chunks)
    return batch


def _batch(session: Session, batch_id: int) -> GraduationBatch:
    batch = session.get(GraduationBatch, batch_id)
    if batch is None:
        raise NotFound(_("No batch with this number"))
    return batch


def get_batch(session: Session, actor: User | None, batch_id: int) -> GraduationBatch:
    _require_office(actor)
    return _batch(session, batch_id)


def cancel_batch(session: Session, actor: User | None, batch_id: int) -> GraduationBatch:
    """Stop a queued or running batch: what is issued stays; the workers stop before the next student."""
    _require_office(actor)
    batch = _batch(session, batch_id)
    lock_row(session, GraduationBatch, batch.id)
    session.refresh(batch)
    if batch.status not in LIVE:
        raise Conflict(_("The batch is %(status)s: only a queued or running batch can be cancelled",
                         status=BatchStatus(batch.status).label))
    actor = acting(session, actor)
    before = batch.status
    batch.status, batch.cancelled_by_id, batch.finished_at = BatchStatus.CANCELLED, actor.id, utcnow()
    done, failed = counts(session, [batch.id])[batch.id]
    append_event(session, actor, "batch.cancel", "batch", batch.id,
                 {"from": before, "done": done, "failed": failed, "total": batch.total})
    session.flush()
    return batch


def resume_batch(session: Session, actor: User | None, batch_id: int) -> GraduationBatch:
    """Run a cancelled, failed or finished-with-failures batch again: only its pending and failed
    students, never one it issued. A running one whose worker died is taken over the same way."""
    _require_office(actor)
    batch = _batch(session, batch_id)
    lock_row(session, GraduationBatch, batch.id)
    session.refresh(batch)
    left = session.execute(select(func.count()).select_from(GraduationBatchItem).where(
        GraduationBatchItem.batch_id == batch.id,
        GraduationBatchItem.status.in_((ItemStatus.PENDING, ItemStatus.FAILED)))).scalar_one()
    if not left:
        raise Conflict(_("Every student of this batch is done: nothing to run again"))
    session.execute(update(GraduationBatchItem).where(
        GraduationBatchItem.batch_id == batch.id, GraduationBatchItem.status == ItemStatus.FAILED,
    ).values(status=ItemStatus.PENDING, error=None, finished_at=None))
    # Chunks with students left are claimable again (a chunk still claimed by a live worker keeps its claim).
    with_left = select(GraduationBatchItem.chunk).where(GraduationBatchItem.batch_id == batch.id,
                                                        GraduationBatchItem.status == ItemStatus.PENDING)
    session.execute(update(GraduationBatchChunk).where(
        GraduationBatchChunk.batch_id == batch.id, GraduationBatchChunk.status == ChunkStatus.DONE,
        GraduationBatchChunk.number.in_(with_left)).values(status=ChunkStatus.PENDING, claimed_by=None))
    actor = acting(session, actor)
    before = batch.status
    if batch.status != BatchStatus.RUNNING:
        batch.status = BatchStatus.QUEUED
    batch.finished_at, batch.cancelled_by_id = None, None
    chunks = session.execute(select(func.count()).select_from(GraduationBatchChunk).where(
        GraduationBatchChunk.batch_id == batch.id, GraduationBatchChunk.status != ChunkStatus.DONE)).scalar_one()
    append_event(session, actor, "batch.resume", "batch", batch.id, {"from": before, "students": left})
    session.flush()
    jobs.run_batch_after_commit(session, batch.id, chunks)
    return batch


def counts(session: Session, batch_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(done, failed) per batch, counted from its items (one grouped query): never stored, so never
    behind what the workers have finished."""
    item = GraduationBatchItem
    out = {batch_id: (0, 0) for batch_id in batch_ids}
    for batch_id, status, n in session.execute(
            select(item.batch_id, item.status, func.count()).where(item.batch_id.in_(batch_ids))
            .group_by(item.batch_id, item.status)):
        done, failed = out[batch_id]
        if status in FINISHED_ITEMS:
            done += n
        elif status == ItemStatus.FAILED:
            failed += n
        out[batch_id] = (done, failed)
    return out


# ---- what the office sees ----------------------------------------------------------------------------

@dataclass
class Progress:
    id: int
    status: str
    scope: str
    scope_name: str
    total: int
    done: int
    issued: int
    skipped: int
    failed: int
    pending: int
    rate: float           # students finished per second, over the last RATE_WINDOW
    seconds_left: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str
    classes: list[tuple[int, str, int]] = field(default_factory=list)  # (class id, name, PDFs) for the ZIPs
    errors: list[tuple[str, str, str]] = field(default_factory=list)   # (student no, name, error)

    @property
    def status_label(self) -> str:
        return BatchStatus(self.status).label

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def percent(self) -> int:
        return int(100 * (self.done + self.failed) / self.total) if self.total else 100


def scope_name(batch: GraduationBatch) -> str:
    if batch.scope == BatchScope.UNIT:
        return batch.unit.name if batch.unit else "—"
    if batch.scope == BatchScope.CLASS:
        return batch.school_class.name if batch.school_class else "—"
    return _("Cohort %(year)s", year=batch.cohort)


def progress(session: Session, actor: User | None, batch_id: int, *, details: bool = False) -> Progress:
    """Done, failed, rate and time left, counted from the items (one grouped query)."""
    _require_office(actor)
    batch = _batch(session, batch_id)
    now = utcnow()
    item = GraduationBatchItem
    counts = session.execute(
        select(item.status, func.count(), func.sum(case((item.finished_at >= now - RATE_WINDOW, 1), else_=0)))
        .where(item.batch_id == batch.id).group_by(item.status)).all()
    by_status = {status: n for status, n, _recent in counts}
    recent = sum(r or 0 for _s, _n, r in counts if _s != ItemStatus.PENDING)
    issued, skipped = by_status.get(ItemStatus.ISSUED, 0), by_status.get(ItemStatus.SKIPPED, 0)
    failed, pending = by_status.get(ItemStatus.FAILED, 0), by_status.get(ItemStatus.PENDING, 0)
    rate = 0.0
    if batch.status in LIVE and batch.started_at is not None:
        window = min(RATE_WINDOW.total_seconds(), max((now - batch.started_at).total_seconds(), 1.0))
        rate = recent / window
    elif batch.started_at is not None and batch.finished_at is not None and batch.status == BatchStatus.DONE:
        elapsed = max((batch.finished_at - batch.started_at).total_seconds(), 1.0)
        rate = (issued + skipped + failed) / elapsed
    seconds_left = int(pending / rate) + 1 if batch.status in LIVE and rate > 0 and pending else (
        0 if not pending else None)
    out = Progress(
        id=batch.id, status=batch.status, scope=batch.scope, scope_name=scope_name(batch), total=batch.total,
        done=issued + skipped, issued=issued, skipped=skipped, failed=failed, pending=pending, rate=round(rate, 1),
        seconds_left=seconds_left, created_at=batch.created_at, started_at=batch.started_at,
        finished_at=batch.finished_at, created_by=batch.created_by.display_name)
    if details:
        out.classes = [(cid, name or _("No class"), n) for cid, name, n in session.execute(
            select(User.class_id, SchoolClass.name, func.count())
            .select_from(item).join(User, User.id == item.student_id)
            .outerjoin(SchoolClass, SchoolClass.id == User.class_id)
            .where(item.batch_id == batch.id, item.transcript_id.is_not(None))
            .group_by(User.class_id, SchoolClass.name).order_by(SchoolClass.name)).all()]
        out.errors = [tuple(row) for row in session.execute(
            select(User.student_no, User.display_name, item.error).join(User, User.id == item.student_id)
            .where(item.batch_id == batch.id, item.status == ItemStatus.FAILED)
            .order_by(User.student_no).limit(50)).all()]
    return out


@dataclass
class BatchRow:
    """A batch in the office's list, with what its workers have finished so far."""

    batch: GraduationBatch
    scope_name: str
    done: int
    failed: int

    def __getattr__(self, name: str):  # the batch's own fields (id, status, total, times)
        return getattr(self.batch, name)


def list_batches(session: Session, actor: User | None, page: int = 1,
                 per_page: int = 20) -> tuple[list[BatchRow], int]:
    _require_office(actor)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = session.execute(select(func.count()).select_from(GraduationBatch)).scalar_one()
    rows = list(session.execute(select(GraduationBatch).order_by(GraduationBatch.id.desc())
                                .offset((max(page, 1) - 1) * per_page).limit(per_page)).scalars())
    done = counts(session, [b.id for b in rows])
    return [BatchRow(b, scope_name(b), *done[b.id]) for b in rows], total


# ---- the office's page -----------------------------------------------------------------------------

@dataclass
class OfficePage:
    batches: list[BatchRow]  # newest first
    total: int
    units: list[tuple[int, str]]
    classes: list[tuple[int, str]]
    cohorts: list[tuple[int, str]]


def office_page(session: Session, actor: User | None, page: int = 1) -> OfficePage:
    """The batch page: the latest batches, and what a new one may cover (units, classes, cohorts)."""
    rows, total = list_batches(session, actor, page, 20)
    units = [(u.id, f"{u.name} ({u.code})") for u in session.execute(select(Unit).order_by(Unit.code)).scalars()]
    classes = [(c.id, f"{c.name} · {c.unit.name}") for c in session.execute(
        select(SchoolClass).join(Unit, Unit.id == SchoolClass.unit_id)
        .order_by(SchoolClass.cohort.desc(), Unit.code, SchoolClass.name)).scalars()]
    cohorts = [(year, _("Cohort %(year)s", year=year)) for year in session.execute(
        select(SchoolClass.cohort).distinct().order_by(SchoolClass.cohort.desc())).scalars()]
    return OfficePage(rows, total, units, classes, cohorts)
