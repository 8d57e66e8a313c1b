"""The graduation batch (#17): one row per batch, its chunks (what a worker claims) and one row per student.

A batch names its scope (a unit, a class or a cohort), is split into chunks of students that the
job queue's workers claim one at a time (services/batches), and keeps, per student, what became of
them: issued (with the transcript), skipped (the current transcript was already up to date, or
the student had nothing certified by the time the batch came to them), failed (with the error), or
still pending.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import SchoolClass, Unit, User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class BatchScope(Labelled):
    UNIT = "unit"
    CLASS = "class"
    COHORT = "cohort"

    __titles__ = {"unit": _l("Unit"), "class": _l("Class"), "cohort": _l("Cohort")}


class BatchStatus(Labelled):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"

    __titles__ = {"queued": _l("Queued"), "running": _l("Running"), "done": _l("Done"),
                  "cancelled": _l("Cancelled"), "failed": _l("Failed")}


class ChunkStatus(Labelled):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"

    __titles__ = {"pending": _l("Waiting"), "claimed": _l("In progress"), "done": _l("Done")}


class ItemStatus(Labelled):
    PENDING = "pending"
    ISSUED = "issued"
    FAILED = "failed"
    SKIPPED = "skipped"

    __titles__ = {"pending": _l("Waiting"), "issued": _l("Issued"), "failed": _l("Failed"),
                  "skipped": _l("Already current")}


class GraduationBatch(db.Model):
    __tablename__ = "graduation_batch"
    __table_args__ = (
        CheckConstraint("scope IN ('unit', 'class', 'cohort')", name="scope_known"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'cancelled', 'failed')", name="status_known"),
        Index("ix_graduation_batch_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))
    cohort: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=BatchStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    chunk_size: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # One delayed re-check at a time looks for chunks whose worker died (services/batches).
    recheck_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit | None] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


class GraduationBatchChunk(db.Model):
    """A share of a batch's students that one worker claims; its heartbeat says the worker is alive."""

    __tablename__ = "graduation_batch_chunk"
    __table_args__ = (
        UniqueConstraint("batch_id", "number", name="chunk_number_in_batch"),
        CheckConstraint("status IN ('pending', 'claimed', 'done')", name="status_known"),
        Index("ix_graduation_batch_chunk_claimable", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("graduation_batch.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=ChunkStatus.PENDING)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claims: Mapped[int] = mapped_column(Integer, default=0)


class GraduationBatchItem(db.Model):
    __tablename__ = "graduation_batch_item"
    __table_args__ = (
        UniqueConstraint("batch_id", "student_id", name="student_once_in_batch"),
        CheckConstraint("status IN ('pending', 'issued', 'failed', 'skipped')", name="status_known"),
        Index("ix_graduation_batch_item_chunk", "batch_id", "chunk", "status"),
        Index("ix_graduation_batch_item_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("graduation_batch.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    chunk: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.PENDING)
    transcript_id: Mapped[int | None] = mapped_column(ForeignKey("transcript.id"))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    student: Mapped[User] = relationship()
