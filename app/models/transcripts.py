"""Issued transcripts: a signed snapshot of one student's certified records."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import User
from app.models.types import UTCDateTime


class TranscriptStatus(enum.StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    # The school withdrew (revoked) a record it carries after it was issued.
    AMENDED = "amended"
    REVOKED = "revoked"


class Transcript(db.Model):
    __tablename__ = "transcript"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'superseded', 'amended', 'revoked')", name="status_known"),
        # At most one valid transcript per student: issuing again supersedes the last one.
        Index(
            "uq_transcript_one_valid", "student_id", unique=True,
            sqlite_where=text("status = 'valid'"), postgresql_where=text("status = 'valid'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The canonical snapshot bytes (UTF-8 JSON) exactly as signed and embedded in the PDF.
    snapshot: Mapped[str] = mapped_column(Text, deferred=True)
    digest: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    link: Mapped[str] = mapped_column(String(512))
    # Its position in the Bitstring Status Lists (credentials.vc.status_position: list, index):
    # picked at random in a list at issue (services/transcripts), so an index tells nothing of the
    # order of issue; the bit is 1 once the transcript is revoked.
    status_list_index: Mapped[int] = mapped_column(Integer, unique=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), index=True)
    record_count: Mapped[int] = mapped_column(Integer)
    total_hours: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    status: Mapped[str] = mapped_column(String(12), default=TranscriptStatus.VALID)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("transcript.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # When the first record it carries was withdrawn (status amended from then on).
    amended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The holder decides who may look (PRODUCT.md): the public check answers with the contents
    # only while `public` and the school's today is on or before `public_until` (a school date,
    # 180 days after issue unless the student changes it); otherwise it says the holder closed it.
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    public_until: Mapped[date] = mapped_column(Date)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])


class TranscriptRecord(db.Model):
    """Which participation records a transcript carries, so a withdrawal finds its transcripts."""

    __tablename__ = "transcript_record"

    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id"), primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participation.id"), primary_key=True, index=True)


class TranscriptClaim(db.Model):
    """Which certified claims a transcript carries, as TranscriptRecord for participations."""

    __tablename__ = "transcript_claim"

    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True, index=True)


class TranscriptShare(db.Model):
    """A link the student gives one recipient: it opens the full check even while the public check
    is closed, through its `expires_on` (a school date), until the student withdraws it.

    Only the token's SHA-256 is kept, as for sign-in tokens: a copy of the database opens nothing.
    """

    __tablename__ = "transcript_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    transcript: Mapped[Transcript] = relationship()
