"""The graduation batch's workers (services/batches starts it): claim a chunk, issue its students.

A worker's job claims a chunk — `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL and, on both
databases, an `UPDATE … WHERE status = 'pending'` that only one claimer wins — and issues its
students one by one, each student one transaction: the transcript, the item that records it, the
student's notification and the chunk's heartbeat commit together or not at all. A worker killed
mid-chunk loses nothing: its heartbeat stops, and after BATCH_CLAIM_TIMEOUT_S another worker claims
the chunk again and goes on with the items still pending.

`work` is the job's unit of work and commits once per student; the rest flush.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import (
    BatchStatus,
    ChunkStatus,
    GraduationBatch,
    GraduationBatchChunk,
    GraduationBatchItem,
    ItemStatus,
    User,
)
from app.services import transcripts
from app.services.audit import append_event
from app.services.batches import LIVE, counts
from app.services.errors import Conflict, DomainError
from app.services.notifications import notify
from app.services.system import acting
from app.services.transactions import lock_row, locked
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# A concurrent issue for the same student (a serial or status-list position taken first) is tried again.
ISSUE_ATTEMPTS = 3


def _timeout() -> timedelta:
    return timedelta(seconds=current_app.config["BATCH_CLAIM_TIMEOUT_S"])


def _claimable(stale_before: datetime):
    chunk = GraduationBatchChunk
    return or_(chunk.status == ChunkStatus.PENDING,
               and_(chunk.status == ChunkStatus.CLAIMED, chunk.heartbeat_at < stale_before))


def claim_chunk(session: Session, batch_id: int, worker: str) -> GraduationBatchChunk | None:
    """Claim one chunk of a live batch: a pending one, or one whose worker's heartbeat stopped. Flushes;
    the claim holds once the caller commits. On PostgreSQL the candidate row is locked with SKIP LOCKED,
    so two workers never wait on the same chunk; on both databases the claiming UPDATE re-checks
    that the chunk is still claimable, so only one of two racing claimers gets it."""
    status = session.execute(select(GraduationBatch.status).where(GraduationBatch.id == batch_id)).scalar()
    if status not in LIVE:
        return None
    chunk = GraduationBatchChunk
    now = utcnow()
    claimable = _claimable(now - _timeout())
    for _attempt in range(5):
        query = (select(chunk.id).where(chunk.batch_id == batch_id, claimable)
                 .order_by(chunk.status.desc(), chunk.number).limit(1))  # pending first, then stale ones
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        chunk_id = session.execute(query).scalar()
        if chunk_id is None:
            return None
        won = session.execute(update(chunk).where(chunk.id == chunk_id, claimable).values(
            status=ChunkStatus.CLAIMED, claimed_by=worker[:64], claimed_at=now, heartbeat_at=now,
            claims=chunk.claims + 1).execution_options(synchronize_session=False)).rowcount
        if won == 1:
            started = session.execute(update(GraduationBatch).where(
                GraduationBatch.id == batch_id, GraduationBatch.status == BatchStatus.QUEUED,
            ).values(status=BatchStatus.RUNNING, started_at=func.coalesce(GraduationBatch.started_at, now))
                .execution_options(synchronize_session=False)).rowcount
            if started:
                append_event(session, acting(session, None), "batch.run", "batch", batch_id, {"worker": worker})
            session.flush()
            found = session.get(chunk, chunk_id)
            session.refresh(found)
            return found
    return None


def _issue_item(session: Session, chunk_id: int, item_id: int, actor: User) -> str:
    """Issue one student's transcript and record it on the item, in one flush; the item's status."""
    item = locked(session, GraduationBatchItem, item_id)
    if item.status != ItemStatus.PENDING:
        return item.status  # another worker issued it meanwhile (a chunk claimed again)
    student_no = session.execute(select(User.student_no).where(User.id == item.student_id)).scalar_one()
    transcript, new = transcripts.issue_or_current(session, actor, student_no)
    item.transcript_id = transcript.id
    item.status = ItemStatus.ISSUED if new else ItemStatus.SKIPPED
    item.finished_at = utcnow()
    if new:
        notify(session, item.student_id, "transcript.issued", link=f"/transcripts/{transcript.serial}",
               serial=transcript.serial)
    # The heartbeat as a plain UPDATE: the chunk's row is not read for it.
    session.execute(update(GraduationBatchChunk).where(GraduationBatchChunk.id == chunk_id)
                    .values(heartbeat_at=item.finished_at).execution_options(synchronize_session=False))
    session.flush()
    return item.status


def _fail_item(session: Session, chunk_id: int, item_id: int, error: str) -> None:
    item = session.get(GraduationBatchItem, item_id)
    if item is None or item.status != ItemStatus.PENDING:
        return
    item.status, item.error, item.finished_at = ItemStatus.FAILED, error[:2000], utcnow()
    chunk = session.get(GraduationBatchChunk, chunk_id)
    chunk.heartbeat_at = item.finished_at
    session.flush()


def _finish_chunk(session: Session, batch_id: int, chunk_id: int) -> bool:
    """The chunk is done; the last chunk finishes the batch. True when the batch finished."""
    chunk = session.get(GraduationBatchChunk, chunk_id)
    chunk.status = ChunkStatus.DONE
    session.flush()
    # The batch's row lock orders the workers finishing their last chunks at once, so exactly one sees none left.
    lock_row(session, GraduationBatch, batch_id)
    batch = session.get(GraduationBatch, batch_id)
    session.refresh(batch)
    done, failed = counts(session, [batch_id])[batch_id]
    left = session.execute(select(func.count()).select_from(GraduationBatchChunk).where(
        GraduationBatchChunk.batch_id == batch_id, GraduationBatchChunk.status != ChunkStatus.DONE)).scalar_one()
    finished = not left and batch.status in LIVE
    if finished:
        batch.status = BatchStatus.FAILED if failed == batch.total else BatchStatus.DONE
        batch.finished_at = utcnow()
        append_event(session, acting(session, None), "batch.finish", "batch", batch.id,
                     {"status": batch.status, "done": done, "failed": failed, "total": batch.total})
    session.flush()
    return finished


def _release_chunk(session: Session, chunk_id: int) -> None:
    """A cancelled batch: the chunk goes back, unclaimed (a resume takes it up again)."""
    chunk = session.get(GraduationBatchChunk, chunk_id)
    chunk.status, chunk.claimed_by = ChunkStatus.PENDING, None
    session.flush()


def _error_text(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    return f"{type(error).__name__}: {error}"


def work(session: Session, batch_id: int, worker: str, *,
         on_student: Callable[[str], None] | None = None) -> int:
    """The worker's loop (a job, or `flask transcripts batch --now`): claim a chunk, issue its pending
    students one transaction each, mark it done, claim the next, until none is left to claim.
    Returns how many students this call finished. It commits (it is the job's unit of work)."""
    finished = 0
    while True:
        chunk = claim_chunk(session, batch_id, worker)
        session.commit()
        if chunk is None:
            return finished
        chunk_id, number = chunk.id, chunk.number
        items = list(session.execute(select(GraduationBatchItem.id).where(
            GraduationBatchItem.batch_id == batch_id, GraduationBatchItem.chunk == number,
            GraduationBatchItem.status == ItemStatus.PENDING).order_by(GraduationBatchItem.id)).scalars())
        cancelled = False
        for item_id in items:
            # The batch's status and who started it, in one statement: each commit expired the actor.
            status, actor = session.execute(select(GraduationBatch.status, User)
                                            .join(User, User.id == GraduationBatch.created_by_id)
                                            .where(GraduationBatch.id == batch_id)).one()
            if status not in LIVE:  # cancelled meanwhile, from the office's page
                cancelled = True
                break
            for attempt in range(ISSUE_ATTEMPTS):
                try:
                    status = _issue_item(session, chunk_id, item_id, actor)
                    session.commit()
                except Conflict as error:
                    session.rollback()
                    if attempt + 1 < ISSUE_ATTEMPTS and error.message == _("Another issue was in progress; try again"):
                        continue  # a serial or status-list position taken at the same moment
                    _fail_item(session, chunk_id, item_id, _error_text(error))
                    session.commit()
                    status = ItemStatus.FAILED
                except Exception as error:  # noqa: BLE001 — one student's failure never stops the batch
                    session.rollback()
                    log.exception("batch %s: student item %s failed", batch_id, item_id)
                    _fail_item(session, chunk_id, item_id, _error_text(error))
                    session.commit()
                    status = ItemStatus.FAILED
                break
            finished += 1
            if on_student is not None:
                on_student(status)
        if cancelled:
            _release_chunk(session, chunk_id)
            session.commit()
            return finished
        _finish_chunk(session, batch_id, chunk_id)
        session.commit()


def needs_recheck(session: Session, batch_id: int) -> float | None:
    """After a job found nothing to claim: when chunks are still claimed by other workers, the seconds after
    which one (and only one) delayed job should look again, in case their worker died. Flushes."""
    batch = session.get(GraduationBatch, batch_id)
    if batch is None or batch.status not in LIVE:
        return None
    now = utcnow()
    claimed = session.execute(select(func.min(GraduationBatchChunk.heartbeat_at)).where(
        GraduationBatchChunk.batch_id == batch_id, GraduationBatchChunk.status == ChunkStatus.CLAIMED)).scalar()
    if claimed is None:
        return None
    at = max(claimed + _timeout(), now) + timedelta(seconds=1)
    won = session.execute(update(GraduationBatch).where(
        GraduationBatch.id == batch_id,
        or_(GraduationBatch.recheck_at.is_(None), GraduationBatch.recheck_at <= now),
    ).values(recheck_at=at).execution_options(synchronize_session=False)).rowcount
    session.flush()
    return (at - now).total_seconds() if won else None
