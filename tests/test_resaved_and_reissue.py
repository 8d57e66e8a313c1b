"""A genuine file saved again by another program is a copy of its transcript, not a forgery;
issuing again when nothing changed gives back the current transcript."""

from __future__ import annotations

import io
import shutil
import subprocess

import pypdf
import pytest
from sqlalchemy import func, select

import credentials
from app.models import AuditEvent, Transcript
from app.services import transcripts, verification
from app.services.modules import module_list
from credentials.pdf_file import SNAPSHOT_ATTACHMENT
from tests.test_transcripts import follow, issue, upload


@pytest.fixture
def graduate(make):
    """A student with two certified records and one still unsigned."""
    w = make.world()
    student = w.students[0]
    for module, title in (("volunteering", "敬老院志愿服务"), ("innovation", "挑战杯项目路演")):
        activity = make.activity(w.club, module=module, title=title)
        make.participation(activity, student, status="certified", certifier=w.advisor)
    make.participation(w.activity, student)  # recorded, not certified
    return w, student


def _issued_pdf(client, make, student) -> tuple[dict, bytes]:
    body = issue(client, make, student, student.student_no).get_json()
    pdf = client.get(f"/api/v1/transcripts/{body['serial']}/pdf", headers=make.token(student)).data
    return body, pdf


def _qpdf(pdf: bytes, tmp_path) -> bytes:
    assert shutil.which("qpdf"), "qpdf is missing: scripts/ensure-chromium.sh installs it"
    (tmp_path / "in.pdf").write_bytes(pdf)
    done = subprocess.run(["qpdf", str(tmp_path / "in.pdf"), str(tmp_path / "out.pdf")],
                          capture_output=True, text=True)
    assert done.returncode in (0, 3), done.stderr  # 3: finished with warnings
    return (tmp_path / "out.pdf").read_bytes()


def _pypdf(pdf: bytes) -> bytes:
    out = io.BytesIO()
    pypdf.PdfWriter(clone_from=io.BytesIO(pdf)).write(out)
    return out.getvalue()


def _offline(app, data: bytes) -> credentials.Verdict:
    with app.app_context():
        return credentials.verify_pdf(data, verification.jwks(), trust_roots=transcripts.trust_roots())


def _audit_events(session, action: str) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.action == action)).scalar_one()


def test_a_resaved_copy_is_recognised_as_a_copy_of_transcript_x(app, client, make, graduate, tmp_path):
    _, student = graduate
    body, pdf = _issued_pdf(client, make, student)
    serial = body["serial"]
    assert _offline(app, pdf).genuine
    for tool, copy in (("qpdf", _qpdf(pdf, tmp_path)), ("pypdf", _pypdf(pdf))):
        assert copy != pdf and b"/TranscriptPart /snapshot /Params" not in copy, tool
        answer = upload(client, copy).get_json()
        assert answer["genuine"] is False and answer["serial"] == serial, (tool, answer)
        assert answer["copy_of"] == serial and answer["status"] == "valid", (tool, answer)
        assert serial in answer["reason"] and f"/v/{serial}" in answer["reason"], answer["reason"]
        verdict = _offline(app, copy)
        assert not verdict.genuine and verdict.code == "copy_not_original", (tool, verdict.code, verdict.reason)
        assert verdict.serial == serial and serial in verdict.reason and "/verify" in verdict.reason
        assert verdict.reason_zh and serial in verdict.reason_zh
    page = client.post("/verify/upload", data={"file": (io.BytesIO(_pypdf(pdf)), "t.pdf")},
                       content_type="multipart/form-data", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>Not the file we issued</h1>" in html
    assert f'class="copy-of"><a href="/v/{serial}">' in html and f"A copy of transcript {serial}" in html
    # the genuine file still answers as before, without `copy_of`
    assert upload(client, pdf).get_json() == {"status": "valid", "serial": serial, "genuine": True,
                                              "reason": upload(client, pdf).get_json()["reason"]}


def test_a_copy_whose_snapshot_was_changed_stays_changed_after_issue(app, client, make, graduate):
    _, student = graduate
    body, pdf = _issued_pdf(client, make, student)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    writer = pypdf.PdfWriter(clone_from=reader)
    [snapshot] = reader.attachments[SNAPSHOT_ATTACHMENT]
    forged = snapshot.replace("挑战杯项目路演".encode(), "挑战杯项目路演（国家级金奖）".encode())
    assert forged != snapshot
    names = writer._root_object["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = names[names.index(SNAPSHOT_ATTACHMENT) + 1].get_object()
    spec["/EF"]["/F"].get_object().set_data(forged)
    out = io.BytesIO()
    writer.write(out)
    answer = client.post("/api/v1/verify/pdf", data={"file": (io.BytesIO(out.getvalue()), "t.pdf")},
                         content_type="multipart/form-data", headers={"Accept-Language": "en"}).get_json()
    assert answer == {"status": "valid", "serial": body["serial"], "genuine": False,
                      "reason": "The file was changed after it was issued"}, answer
    verdict = _offline(app, out.getvalue())
    assert not verdict.genuine and verdict.code == "digest_mismatch", verdict.code


def test_issuing_again_when_nothing_changed_returns_the_current_transcript(client, make, graduate, session):
    w, student = graduate
    first = issue(client, make, student, student.student_no)
    assert first.status_code == 201
    issued = _audit_events(session, "transcript.issue")
    again = issue(client, make, w.admin, student.student_no)
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert _audit_events(session, "transcript.issue") == issued
    assert _audit_events(session, "transcript.supersede") == 0
    assert session.execute(select(func.count()).select_from(Transcript)
                           .where(Transcript.student_id == student.id)).scalar_one() == 1
    assert client.get(f"/api/v1/verify/{first.get_json()['serial']}").get_json()["status"] == "valid"


def test_a_new_certified_record_issues_a_new_transcript(client, make, graduate, session):
    w, student = graduate
    first = issue(client, make, student, student.student_no).get_json()
    make.participation(make.activity(w.club, title="马拉松志愿者"), student, status="certified", certifier=w.advisor)
    second = issue(client, make, student, student.student_no)
    assert second.status_code == 201 and second.get_json()["serial"] != first["serial"]
    assert second.get_json()["record_count"] == first["record_count"] + 1
    assert client.get(f"/api/v1/verify/{first['serial']}").get_json()["status"] == "superseded"
    assert _audit_events(session, "transcript.supersede") == 1


def test_renaming_a_module_issues_a_new_transcript(client, make, graduate, session):
    w, student = graduate
    first = issue(client, make, student, student.student_no).get_json()
    module = module_list(session)[0]
    renamed = client.patch(f"/api/v1/modules/{module.key}", headers=make.token(w.admin),
                           json={"name_zh": module.name_zh + "（新）", "name_en": "Renamed by the office"})
    assert renamed.status_code == 200, renamed.get_json()
    second = issue(client, make, student, student.student_no)
    assert second.status_code == 201 and second.get_json()["serial"] != first["serial"]
    html = follow(client, first["verify_url"]).get_data(as_text=True)
    assert "已被新版本取代" in html
