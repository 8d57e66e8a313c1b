"""The graduation batch (#17): the office issues a unit's, a class's or a cohort's transcripts on the
job queue, idempotently, watches it, cancels it, and prints a class's PDFs from one ZIP.

The worker's loop (`batches.work`) is called here in the test's process, as a job would call it; the
two-worker run that loses a worker to SIGKILL is tests/test_batch_workers.py.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

import credentials
from app.models import (
    AuditEvent,
    GraduationBatch,
    GraduationBatchChunk,
    GraduationBatchItem,
    Notification,
    Transcript,
)
from app.services import batch_work, batch_zip, batches, transcripts
from app.services.errors import Conflict, Forbidden, Invalid
from tests.factories import PASSWORD


def graduating_class(make, size: int = 5, *, unit=None, cohort: int = 2022, names=None):
    """A class of `size` students, each with one certified record, and the admin."""
    w = make.world()
    unit = unit or w.unit
    klass = make.school_class(unit, cohort=cohort)
    activity = make.activity(w.club, status="completed")
    students = []
    for i in range(size):
        name = names[i] if names else None
        student = make.student(unit=unit, school_class=klass, name=name)
        make.participation(activity, student, status="certified")
        students.append(student)
    return w, klass, students


def count(session, model, *where) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def run(session, batch_id: int, worker: str = "test-worker") -> int:
    return batch_work.work(session, batch_id, worker)


def test_a_batch_issues_every_student_of_the_class_once_and_tells_each(session, make):
    w, klass, students = graduating_class(make, 5)
    batch = batches.start_batch(session, w.admin, class_id=klass.id, chunk_size=2)
    session.commit()
    assert (batch.total, batch.status) == (5, "queued")
    assert count(session, GraduationBatchChunk, GraduationBatchChunk.batch_id == batch.id) == 3
    assert run(session, batch.id) == 5
    session.expire_all()
    batch = session.get(GraduationBatch, batch.id)
    assert (batch.status, *batches.counts(session, [batch.id])[batch.id]) == ("done", 5, 0)
    assert batch.started_at and batch.finished_at
    for student in students:
        [transcript] = session.execute(select(Transcript).where(Transcript.student_id == student.id)).scalars()
        item = session.execute(select(GraduationBatchItem).where(GraduationBatchItem.student_id == student.id)
                               ).scalar_one()
        assert (item.status, item.transcript_id) == ("issued", transcript.id)
        assert transcript.issued_by_id == w.admin.id
        [note] = session.execute(select(Notification).where(Notification.user_id == student.id,
                                                            Notification.kind == "transcript.issued")).scalars()
        assert note.params["serial"] == transcript.serial
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "batch")
                                   .order_by(AuditEvent.id)).scalars())
    assert actions == ["batch.start", "batch.run", "batch.finish"]
    assert count(session, AuditEvent, AuditEvent.action == "transcript.issue") == 5
    state = batches.progress(session, w.admin, batch.id, details=True)
    assert (state.done, state.issued, state.failed, state.pending, state.percent) == (5, 5, 0, 0, 100)
    assert state.classes == [(klass.id, klass.name, 5)]


def test_batch_never_supersedes_its_own_transcript(session, make):
    w, klass, students = graduating_class(make, 3)
    first = batches.start_batch(session, w.admin, class_id=klass.id)
    session.commit()
    run(session, first.id)
    serials = set(session.execute(select(Transcript.serial)).scalars())
    # Running the finished batch again has nothing to do; a new batch of the same class keeps them all.
    with pytest.raises(Conflict):
        batches.resume_batch(session, w.admin, first.id)
    session.rollback()
    again = batches.start_batch(session, w.admin, class_id=klass.id)
    session.commit()
    run(session, again.id)
    session.expire_all()
    assert set(session.execute(select(Transcript.serial)).scalars()) == serials
    assert count(session, Transcript, Transcript.status == "superseded") == 0
    state = batches.progress(session, w.admin, again.id)
    assert (state.status, state.issued, state.skipped) == ("done", 0, 3)
    # Only the first batch told the students.
    assert count(session, Notification, Notification.kind == "transcript.issued") == 3


def test_rerun_after_a_crash_issues_only_what_is_missing(app, session, make):
    w, klass, students = graduating_class(make, 5)
    batch = batches.start_batch(session, w.admin, class_id=klass.id, chunk_size=3)
    session.commit()
    # A worker claims the first chunk, issues one student of it, and dies (nothing more is committed).
    chunk = batch_work.claim_chunk(session, batch.id, "dead-worker")
    session.commit()
    first_item = session.execute(select(GraduationBatchItem).where(
        GraduationBatchItem.batch_id == batch.id, GraduationBatchItem.chunk == chunk.number)
        .order_by(GraduationBatchItem.id)).scalars().first()
    batch_work._issue_item(session, chunk.id, first_item.id, w.admin)
    session.commit()
    issued_before = session.execute(select(Transcript.serial)).scalars().all()
    assert len(issued_before) == 1
    # Another worker goes on at once with the other chunk; the dead one's chunk is not its to take yet.
    assert run(session, batch.id, "live-worker") == 2
    assert session.get(GraduationBatch, batch.id).status == "running"
    assert batch_work.needs_recheck(session, batch.id) is not None  # one delayed look for the dead worker's chunk
    session.commit()
    # Its heartbeat is now older than the timeout: the chunk is claimed again and only its pending students issued.
    app.config["BATCH_CLAIM_TIMEOUT_S"] = 0
    assert run(session, batch.id, "live-worker") == 2
    session.expire_all()
    assert session.get(GraduationBatch, batch.id).status == "done"
    assert session.get(GraduationBatchChunk, chunk.id).claims == 2
    for student in students:
        assert count(session, Transcript, Transcript.student_id == student.id) == 1
    assert set(issued_before) <= set(session.execute(select(Transcript.serial)).scalars())
    assert count(session, Transcript, Transcript.status != "valid") == 0
    assert count(session, AuditEvent, AuditEvent.action == "transcript.issue") == 5


def test_a_student_failing_does_not_stop_the_batch_and_running_it_again_retries_them(app, session, make):
    w, klass, students = graduating_class(make, 3)
    batch = batches.start_batch(session, w.admin, class_id=klass.id)
    session.commit()
    # The record of one student is withdrawn before the batch comes to them: nothing to put on a transcript.
    from app.models import Participation

    record = session.execute(select(Participation).where(Participation.student_id == students[1].id)).scalar_one()
    record.status = "revoked"
    session.commit()
    run(session, batch.id)
    state = batches.progress(session, w.admin, batch.id, details=True)
    assert (state.status, state.issued, state.failed) == ("done", 2, 1)
    assert state.errors[0][0] == students[1].student_no
    record.status = "certified"
    session.commit()
    batches.resume_batch(session, w.admin, batch.id)
    session.commit()
    run(session, batch.id)
    state = batches.progress(session, w.admin, batch.id)
    assert (state.status, state.issued, state.failed) == ("done", 3, 0)
    assert count(session, Transcript) == 3


def test_cancel_stops_before_the_next_student_and_resume_finishes(session, make):
    w, klass, students = graduating_class(make, 4)
    batch = batches.start_batch(session, w.admin, class_id=klass.id, chunk_size=2)
    session.commit()
    batches.cancel_batch(session, w.admin, batch.id)
    session.commit()
    assert run(session, batch.id) == 0
    assert count(session, Transcript) == 0
    with pytest.raises(Conflict):
        batches.cancel_batch(session, w.admin, batch.id)
    session.rollback()
    batches.resume_batch(session, w.admin, batch.id)
    session.commit()
    assert run(session, batch.id) == 4
    assert session.get(GraduationBatch, batch.id).status == "done"
    actions = list(session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "batch")
                                   .order_by(AuditEvent.id)).scalars())
    assert actions == ["batch.start", "batch.cancel", "batch.resume", "batch.run", "batch.finish"]


def test_a_batch_names_exactly_one_scope_with_students_in_it(session, make):
    w, klass, students = graduating_class(make, 1)
    for values in ({}, {"unit_id": w.unit.id, "class_id": klass.id}):
        with pytest.raises(Invalid):
            batches.start_batch(session, w.admin, **values)
    with pytest.raises(Invalid) as error:
        batches.start_batch(session, w.admin, unit_id=999_999)
    assert "unit_id" in error.value.fields
    with pytest.raises(Conflict):  # nobody of this cohort has anything certified
        batches.start_batch(session, w.admin, cohort=2031)
    batches.start_batch(session, w.admin, cohort=2022)
    session.commit()
    with pytest.raises(Conflict):  # the same students while the first still runs
        batches.start_batch(session, w.admin, cohort=2022)


def test_non_admin_cannot_start_a_batch(session, make):
    w, klass, students = graduating_class(make, 1)
    college = make.organizer()
    college.scope_unit_id = w.unit.id  # the college League secretary of this very unit
    session.commit()
    batch = batches.start_batch(session, w.admin, class_id=klass.id)
    session.commit()
    for who in (w.advisor, college, w.leader, students[0]):
        with pytest.raises(Forbidden):
            batches.start_batch(session, who, class_id=klass.id)
        for step in (batches.cancel_batch, batches.resume_batch, batches.progress, batch_zip.batch_zip):
            with pytest.raises(Forbidden):
                step(session, who, batch.id)
        with pytest.raises(Forbidden):
            batches.list_batches(session, who)


def test_non_admin_cannot_start_a_batch_over_the_api_or_the_page(client, session, make):
    w, klass, students = graduating_class(make, 1)
    for who in (w.advisor, w.leader, students[0]):
        r = client.post("/api/v1/batches/transcripts", json={"class_id": klass.id}, headers=make.token(who))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
        page = session.get(type(who), who.id)
        web = client.__class__(client.application, client.response_wrapper, use_cookies=True)
        assert web.post("/login", data={"username": page.username, "password": PASSWORD}).status_code == 302
        assert web.get("/admin/batches").status_code == 403
        assert web.post("/admin/batches", data={"class-scope": "class", "class-target": klass.id}).status_code == 403
    assert count(session, GraduationBatch) == 0


def _zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_zip_of_a_class_opens_with_every_pdf_valid_by_class_and_name(client, session, make):
    w, klass, students = graduating_class(make, 3, names=["王芳", "李雷", "张伟"])
    other = make.school_class(w.unit, cohort=2022)
    late = make.student(unit=w.unit, school_class=other, name="赵敏")
    make.participation(make.activity(w.club, status="completed"), late, status="certified")
    r = client.post("/api/v1/batches/transcripts", json={"cohort": 2022}, headers=make.token(w.admin))
    assert r.status_code == 202, r.get_json()
    batch_id = r.get_json()["id"]
    assert r.get_json()["total"] == 4
    run(session, batch_id)
    r = client.get(f"/api/v1/batches/{batch_id}", headers=make.token(w.admin))
    assert r.get_json()["status"] == "done" and r.get_json()["done"] == 4
    r = client.get(f"/api/v1/batches/{batch_id}/zip?class_id={klass.id}", headers=make.token(w.admin))
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.headers["Content-Disposition"].isascii()  # the class's name only in filename* (RFC 6266)
    archive = zipfile.ZipFile(io.BytesIO(r.get_data()))
    names = archive.namelist()
    ordered = sorted(students, key=lambda s: s.display_name)
    assert [n.split(" ", 1)[1] for n in names] == [f"{s.student_no} {s.display_name}.pdf" for s in ordered]
    assert all(n.startswith(f"{klass.name}/") for n in names)
    roots = transcripts.trust_roots()
    for name in names:
        data = archive.read(name)
        assert len(PdfReader(io.BytesIO(data)).pages) >= 1
        assert credentials.check_pades(data, roots).ok, name
    # The whole batch: both classes, by class then name.
    whole = _zip_names(client.get(f"/api/v1/batches/{batch_id}/zip", headers=make.token(w.admin)).get_data())
    assert [n.split("/")[0] for n in whole] == sorted(n.split("/")[0] for n in whole)
    assert len(whole) == 4
    # The office's page link gives the same file.
    web = client.__class__(client.application, client.response_wrapper, use_cookies=True)
    admin = session.get(type(w.admin), w.admin.id)
    web.post("/login", data={"username": admin.username, "password": PASSWORD})
    page = web.get(f"/admin/batches/{batch_id}/transcripts.zip?class_id={klass.id}")
    assert page.status_code == 200 and _zip_names(page.get_data()) == names


def test_the_office_starts_watches_and_cancels_a_batch_on_its_page(client, session, make):
    w, klass, students = graduating_class(make, 3)
    admin = session.get(type(w.admin), w.admin.id)
    client.post("/login", data={"username": admin.username, "password": PASSWORD})
    page = client.get("/admin/batches")
    assert page.status_code == 200 and klass.name in page.get_data(as_text=True)
    r = client.post("/admin/batches", data={"class-scope": "class", "class-target": str(klass.id),
                                            "class-nonce": "n1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    batch_id = session.execute(select(GraduationBatch.id)).scalar_one()
    assert r.headers["Location"].endswith(f"/admin/batches/{batch_id}")
    # Posting the same form again starts nothing twice.
    again = client.post("/admin/batches", data={"class-scope": "class", "class-target": str(klass.id),
                                                "class-nonce": "n1"})
    assert again.status_code == 302 and count(session, GraduationBatch) == 1
    progress = client.get(f"/admin/batches/{batch_id}/progress.json").get_json()
    assert (progress["status"], progress["total"], progress["done"], progress["live"]) == ("queued", 3, 0, True)
    html = client.get(f"/admin/batches/{batch_id}").get_data(as_text=True)
    assert "batch.js" in html and "data-progress-url" in html
    assert client.post(f"/admin/batches/{batch_id}/cancel").status_code == 302
    assert client.get(f"/admin/batches/{batch_id}/progress.json").get_json()["status"] == "cancelled"
    assert client.post(f"/admin/batches/{batch_id}/resume").status_code == 302
    run(session, batch_id)
    progress = client.get(f"/admin/batches/{batch_id}/progress.json").get_json()
    assert (progress["status"], progress["done"], progress["live"]) == ("done", 3, False)
    # A form without a choice says which field.
    bad = client.post("/admin/batches", data={"unit-scope": "unit", "unit-target": "", "unit-nonce": "n2"})
    assert bad.status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_command_line_runs_the_same_batch_here_with_now(app, session, make):
    w, klass, students = graduating_class(make, 2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["transcripts", "batch", "--class", klass.name, "--now"])
    assert result.exit_code == 0, result.output
    assert count(session, Transcript) == 2
    batch = session.execute(select(GraduationBatch)).scalar_one()
    assert batch.status == "done" and batch.created_by.role == "system"
    # Again: a new batch that keeps both transcripts.
    result = runner.invoke(args=["transcripts", "batch", "--class", klass.name, "--now"])
    assert result.exit_code == 0, result.output
    assert count(session, Transcript) == 2 and count(session, Transcript, Transcript.status == "superseded") == 0
