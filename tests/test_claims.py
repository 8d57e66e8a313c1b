"""Achievement claims (个人申报) with evidence files, reviewed by an organizer in scope."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.models import AuditEvent, Claim, ClaimFile, Notification
from app.services import evidence
from app.timeutil import to_local, utcnow

API = "/api/v1"


def png(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Certificate of achievement")
    page.showPage()
    page.save()
    return buffer.getvalue()


def today() -> str:
    return to_local(utcnow()).date().isoformat()


def form(**overrides):
    values = {"title": "全国大学生数学建模竞赛", "module": "innovation", "level": "national",
              "occurred_on": today(), "hours": "8", "award": "省级一等奖", "description": "三人团队"}
    return {**values, **overrides}


def submit(client, make, student, files, **overrides):
    data = form(**overrides)
    data["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"{API}/claims", headers=make.token(student), data=data, content_type="multipart/form-data")


@pytest.fixture
def people(make, session):
    """The world, and the college's League secretary (院团委): the students are in their scope."""
    w = make.world()
    w.college = make.organizer(unit=w.unit)
    w.college.scope_unit_id = w.unit.id
    session.commit()
    return w


def claim_count(session) -> int:
    return session.execute(select(func.count(Claim.id))).scalar_one()


def test_a_claim_with_a_photo_and_a_pdf_is_stored_by_content_hash(app, client, session, make, people):
    answer = submit(client, make, people.students[0], [("photo.jpg", jpeg()), ("cert.pdf", pdf())])
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "submitted"
    claim = session.get(Claim, answer.get_json()["id"])
    assert [(f.position, f.media_type) for f in claim.files] == [(1, "image/jpeg"), (2, "application/pdf")]
    for f in claim.files:
        stored = evidence.path_of(f.sha256)
        assert stored.is_file() and str(stored).startswith(app.config["EVIDENCE_DIR"])
        assert not str(stored).startswith(str(app.static_folder))


def test_renamed_executable_is_refused(client, session, make, people):
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)
    answer = submit(client, make, people.students[0], [("prize.png", elf)])
    assert answer.status_code == 422
    reasons = answer.get_json()["error"]["fields"]["files"]
    assert "prize.png" in reasons[0] and "PDF" in reasons[0]
    forged_photo = jpeg()[:200] + bytes(8000)  # a real JPEG header, then anything
    assert submit(client, make, people.students[0], [("IMG_1.jpg", forged_photo)]).status_code == 422
    html_as_pdf = b"%PDF-1.4\n<html><script>alert(1)</script></html>"
    assert submit(client, make, people.students[0], [("x.pdf", html_as_pdf)]).status_code == 422
    assert claim_count(session) == 0
    assert session.execute(select(func.count(ClaimFile.id))).scalar_one() == 0


def test_a_30_mb_file_is_refused_with_its_name(client, session, make, people):
    big = png() + bytes(30 * 1024 * 1024)
    answer = submit(client, make, people.students[0], [("huge.png", big)])
    assert answer.status_code == 422
    assert "huge.png" in answer.get_json()["error"]["fields"]["files"][0]
    assert "10 MB" in answer.get_json()["error"]["fields"]["files"][0]
    assert claim_count(session) == 0


@pytest.mark.parametrize("overrides, files, field", [
    ({"title": ""}, [("p.png", png())], "title"),
    ({}, [], "files"),
    ({"occurred_on": (to_local(utcnow()).date() + timedelta(days=3)).isoformat()}, [("p.png", png())], "occurred_on"),
    ({"hours": "41"}, [("p.png", png())], "hours"),
    ({"module": "astrology"}, [("p.png", png())], "module"),
])
def test_bad_claims_store_nothing_and_name_the_field(client, session, make, people, overrides, files, field):
    answer = submit(client, make, people.students[0], files, **overrides)
    assert answer.status_code == 422
    assert field in answer.get_json()["error"]["fields"]
    assert claim_count(session) == 0


def test_an_empty_claim_names_every_missing_field(client, session, make, people):
    answer = client.post(f"{API}/claims", headers=make.token(people.students[0]), data={},
                         content_type="multipart/form-data")
    assert answer.status_code == 422
    assert {"title", "module", "level", "occurred_on", "hours", "files"} <= set(answer.get_json()["error"]["fields"])


def test_claim_evidence_is_private_to_owner_and_reviewers(client, session, make, people):
    w = people
    claim_id = submit(client, make, w.students[0], [("photo.png", png())]).get_json()["id"]
    url = f"{API}/claims/{claim_id}/files/1"
    other_college = make.organizer(unit=make.unit())
    session.commit()
    for insider in (w.students[0], w.college, w.admin):
        answer = client.get(url, headers=make.token(insider))
        assert answer.status_code == 200, insider.role
        assert answer.mimetype == "image/png" and answer.data.startswith(b"\x89PNG")
    for outsider in (w.students[1], w.leader, w.advisor, other_college):
        assert client.get(url, headers=make.token(outsider)).status_code == 404, outsider.role
        assert client.get(f"{API}/claims/{claim_id}", headers=make.token(outsider)).status_code == 404
    assert client.get(url).status_code == 401
    listed = client.get(f"{API}/claims", headers=make.token(w.students[1])).get_json()
    assert listed["total"] == 0


def test_claimant_cannot_certify_own_claim(client, session, make, people):
    w = people
    claim_id = submit(client, make, w.students[0], [("p.png", png())]).get_json()["id"]
    answer = client.post(f"{API}/claims/{claim_id}/certify", headers=make.token(w.students[0]), json={})
    assert answer.status_code == 403
    assert session.get(Claim, claim_id).status == "submitted"


def test_an_organizer_out_of_scope_cannot_review(client, session, make, people):
    w = people
    claim_id = submit(client, make, w.students[0], [("p.png", png())]).get_json()["id"]
    stranger = make.organizer(unit=make.unit())
    session.commit()
    answer = client.post(f"{API}/claims/{claim_id}/certify", headers=make.token(stranger), json={})
    assert answer.status_code == 404
    assert session.get(Claim, claim_id).status == "submitted"


def test_rejecting_needs_a_reason_and_tells_the_student(client, session, make, people):
    w = people
    claim_id = submit(client, make, w.students[0], [("p.png", png())]).get_json()["id"]
    bare = client.post(f"{API}/claims/{claim_id}/reject", headers=make.token(w.college), json={"reason": " "})
    assert bare.status_code == 422
    answer = client.post(f"{API}/claims/{claim_id}/reject", headers=make.token(w.college),
                         json={"reason": "证书照片看不清"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "rejected"
    told = session.execute(select(Notification).where(Notification.user_id == w.students[0].id,
                                                      Notification.kind == "claim.rejected")).scalar_one()
    assert told.params["reason"] == "证书照片看不清"
    assert session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "claim")
                           .order_by(AuditEvent.id)).scalars().all() == ["claim.submit", "claim.reject"]


def test_certified_claim_counts_on_the_transcript(app, client, session, make, people):
    import credentials

    w = people
    make.participation(w.activity, w.students[0], status="certified")
    session.commit()
    claim_id = submit(client, make, w.students[0], [("p.png", png())], hours="6").get_json()["id"]
    assert client.post(f"{API}/claims/{claim_id}/certify", headers=make.token(w.college),
                       json={"note": "证书核验无误"}).status_code == 200
    records = client.get(f"{API}/students/{w.students[0].student_no}/records",
                         headers=make.token(w.students[0])).get_json()
    assert records["total_certified_hours"] == 4 + 6
    assert records["hours_by_module"]["innovation"] == 6
    assert [c["id"] for c in records["claims"]] == [claim_id]
    issued = client.post(f"{API}/students/{w.students[0].student_no}/transcripts", headers=make.token(w.students[0]))
    assert issued.status_code == 201, issued.get_json()
    from app.models import Transcript
    transcript = session.execute(select(Transcript)).scalar_one()
    snapshot = credentials.snapshot_from_bytes(transcript.snapshot.encode())
    claimed = [r for r in snapshot.records if r.source == credentials.CLAIM]
    assert [(r.activity, r.hours, r.club) for r in claimed] == [("全国大学生数学建模竞赛", 6, "")]
    assert snapshot.total_hours == 10
    # Withdrawing the claim amends the transcript, and the public check says which line went.
    revoked = client.post(f"{API}/claims/{claim_id}/revoke", headers=make.token(w.college),
                          json={"reason": "证书系伪造"})
    assert revoked.status_code == 200
    session.refresh(transcript)
    assert transcript.status == "amended"
    page = client.get(f"/v/{transcript.serial}").get_data(as_text=True)
    assert "个人申报" in page
    public = client.get(f"{API}/verify/{transcript.serial}").get_json()
    assert public["status"] == "amended"
    assert sorted(r["source"] for r in public["records"]) == ["activity", "claim"]
    assert [(x["activity"], x["hours"]) for x in public["withdrawn"]] == [("全国大学生数学建模竞赛", 6)]
    assert public["hours_still_certified"] == 4


def test_a_pdf_is_shown_in_the_page_as_its_first_page(client, session, make, people):
    claim_id = submit(client, make, people.students[0], [("cert.pdf", pdf())]).get_json()["id"]
    whole = client.get(f"{API}/claims/{claim_id}/files/1", headers=make.token(people.college))
    assert whole.mimetype == "application/pdf" and whole.data.startswith(b"%PDF-")
    preview = client.get(f"{API}/claims/{claim_id}/files/1?preview=1", headers=make.token(people.college))
    assert preview.mimetype == "image/png"
    image = Image.open(io.BytesIO(preview.data))
    assert image.width == evidence.PREVIEW_WIDTH
    # the page's text is on it: dark pixels where the certificate's line is printed
    assert image.convert("L").getextrema()[0] < 100
    assert client.get(f"{API}/claims/{claim_id}/files/1?preview=1",
                      headers=make.token(people.students[1])).status_code == 404
