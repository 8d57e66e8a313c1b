"""The ZIP of a graduation batch's PDFs for printing: by class and name, streamed as it is made."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import GraduationBatchItem, SchoolClass, Transcript, User
from app.services.batches import get_batch
from app.services.errors import NotFound
from app.timeutil import to_local, utcnow


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile writes to it; the response reads)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _safe(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", text).strip() or "_"


def batch_zip(session: Session, actor: User | None, batch_id: int,
              class_id: int | None = None) -> tuple[str, Iterator[bytes]]:
    """(file name, the ZIP's bytes as they are made): the batch's PDFs, or one class's, by class and name,
    each under `<class>/<nnn> <student no> <name>.pdf`. The PDFs are read a few at a time."""
    batch = get_batch(session, actor, batch_id)
    item = GraduationBatchItem
    query = (select(item.transcript_id, User.student_no, User.display_name, SchoolClass.name)
             .join(User, User.id == item.student_id).outerjoin(SchoolClass, SchoolClass.id == User.class_id)
             .where(item.batch_id == batch.id, item.transcript_id.is_not(None)))
    if class_id is not None:
        query = query.where(User.class_id == class_id)
    rows = session.execute(query.order_by(SchoolClass.name, User.display_name, User.student_no)).all()
    if not rows:
        raise NotFound(_("No transcript of this batch to download yet"))
    stamp = to_local(batch.finished_at or utcnow())
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    no_class = _("No class")
    label = _safe(rows[0][3] or no_class) if class_id is not None else f"batch-{batch.id}"
    filename = f"transcripts-{label}-{stamp:%Y%m%d}.zip"

    def chunks() -> Iterator[bytes]:
        pipe = _Pipe()
        with zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
            for start in range(0, len(rows), 20):
                part = rows[start:start + 20]
                pdfs = dict(session.execute(select(Transcript.id, Transcript.pdf).where(
                    Transcript.id.in_([r[0] for r in part]))).all())
                for n, (tid, number, name, klass) in enumerate(part, start=start + 1):
                    info = zipfile.ZipInfo(f"{_safe(klass or no_class)}/{n:04d} {number} {_safe(name)}.pdf",
                                           date_time=date_time)
                    archive.writestr(info, pdfs[tid])
                    yield pipe.take()
        yield pipe.take()

    return filename, chunks()
