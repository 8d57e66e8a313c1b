"""Issue → download → scan → verify: the student's and the employer's journey."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.services import transcripts
from app.services.audit import verify_chain
from tests.pdfread import scan_qr, text_of


@pytest.fixture
def graduate(make):
    """A student with three certified records in two modules and one still unsigned."""
    w = make.world()
    student = w.students[0]
    plan = (("volunteering", "敬老院志愿服务"), ("innovation", "挑战杯项目路演"), ("volunteering", "马拉松志愿者"))
    for module, title in plan:
        activity = make.activity(w.club, module=module, title=title)
        make.participation(activity, student, status="certified", certifier=w.advisor)
    make.participation(w.activity, student)  # recorded, not certified: not on the transcript
    return w, student


def issue(client, make, user, student_no):
    return client.post(f"/api/v1/students/{student_no}/transcripts", headers=make.token(user))


def follow(client, link: str):
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}")


def test_issue_download_scan_and_verify_genuine(client, make, graduate):
    w, student = graduate
    r = issue(client, make, student, student.student_no)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "valid" and body["record_count"] == 3 and body["total_hours"] == 12.0
    serial = body["serial"]
    assert len(serial.replace("-", "")) == 18 and not set(serial) & set("01OI")
    pdf = client.get(f"/api/v1/transcripts/{serial}/pdf", headers=make.token(student))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    again = client.get(f"/api/v1/transcripts/{serial}/pdf", headers=make.token(student))
    assert again.data == pdf.data
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    link = scan_qr(pdf.data)
    assert link == body["verify_url"]
    page = follow(client, link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>有效</h1>" in html and student.display_name in html
    assert student.student_no not in html  # masked
    assert "敬老院志愿服务" in html and "挑战杯项目路演" in html
    text = text_of(pdf.data)
    assert student.display_name in text and "挑战杯项目路演" in text


def test_issuing_again_supersedes_and_old_link_says_superseded(client, make, graduate):
    w, student = graduate
    first = issue(client, make, student, student.student_no).get_json()
    # a new certified record: issuing again when nothing changed gives back the first one
    make.participation(make.activity(w.club, title="校史馆讲解"), student, status="certified", certifier=w.advisor)
    second = issue(client, make, student, student.student_no).get_json()
    assert first["serial"] != second["serial"]
    old = client.get(f"/api/v1/verify/{first['serial']}").get_json()
    assert old["status"] == "superseded"
    assert client.get(f"/api/v1/verify/{second['serial']}").get_json()["status"] == "valid"
    html = follow(client, first["verify_url"]).get_data(as_text=True)
    assert "已被新版本取代" in html


def test_admin_revokes_and_verify_shows_it_at_once(client, make, graduate, session):
    w, student = graduate
    body = issue(client, make, w.admin, student.student_no).get_json()
    r = client.post(f"/api/v1/transcripts/{body['serial']}/revoke", headers=make.token(w.admin),
                    json={"reason": "记录有误，已重新认证"})
    assert r.status_code == 200 and r.get_json()["status"] == "revoked"
    data = client.get(f"/api/v1/verify/{body['serial']}").get_json()
    assert data["status"] == "revoked" and data["revoke_reason"] == "记录有误，已重新认证"
    assert "已撤销" in follow(client, body["verify_url"]).get_data(as_text=True)
    actions = list(session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())
    assert "transcript.issue" in actions and "transcript.revoke" in actions
    assert verify_chain(session).ok


def test_no_certified_record_is_409(client, make):
    w = make.world()
    r = issue(client, make, w.students[1], w.students[1].student_no)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "conflict"


def test_another_student_cannot_issue_download_or_revoke(client, make, graduate):
    w, student = graduate
    other = w.students[1]
    assert issue(client, make, other, student.student_no).status_code == 403
    assert issue(client, make, w.advisor, student.student_no).status_code == 403
    assert issue(client, make, w.leader, student.student_no).status_code == 403
    serial = issue(client, make, student, student.student_no).get_json()["serial"]
    assert client.get(f"/api/v1/transcripts/{serial}/pdf", headers=make.token(other)).status_code == 403
    assert client.post(f"/api/v1/transcripts/{serial}/revoke", headers=make.token(student),
                       json={"reason": "x"}).status_code == 403
    assert client.get(f"/api/v1/transcripts/{serial}/pdf").status_code == 401


def test_verify_api_shows_masked_number_and_records(client, make, graduate):
    _, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    data = client.get(f"/api/v1/verify/{body['serial']}").get_json()
    assert data["student"]["name"] == student.display_name
    masked = data["student"]["student_no_masked"]
    assert masked != student.student_no and "*" in masked and masked[-2:] == student.student_no[-2:]
    assert data["total_hours"] == 12.0 and len(data["records"]) == 3
    assert data["institution"] and data["key_id"] and len(data["digest"]) == 64
    assert student.student_no not in str(data)


def test_unknown_serial_is_404_in_json_and_page(client):
    r = client.get("/api/v1/verify/ABCDEF-GHJKLM-NPQRST")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    page = client.get("/v/ABCDEF-GHJKLM-NPQRST")
    assert page.status_code == 404 and "无效" in page.get_data(as_text=True)


def test_forged_link_is_not_genuine(client, make, graduate):
    _, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    link = body["verify_url"]
    assert link.startswith("HTTPS://DEKT.EXAMPLE.EDU.CN/V/")  # the QR code's compact form
    flipped = link[:-5] + str((int(link[-5]) + 1) % 10) + link[-4:]  # in the signature's digits
    html = follow(client, flipped).get_data(as_text=True)
    assert "<h1>无效</h1>" in html and "<h1>有效</h1>" not in html
    # a genuine signature presented for another serial
    other = issue(client, make, make.world().admin, make_certified_student(make).student_no).get_json()
    swapped = link.replace(body["serial"], other["serial"])
    assert "<h1>无效</h1>" in follow(client, swapped).get_data(as_text=True)


def test_a_link_in_the_old_form_still_verifies(app, client, make, session, graduate):
    import credentials
    from app.timeutil import to_local

    _, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    transcript = transcripts.get_transcript(session, body["serial"])
    ring = credentials.KeyRing.load_dir(app.config["SIGNING_KEY_DIR"])
    old = credentials.make_link(app.config["PUBLIC_BASE_URL"], body["serial"], transcript.digest,
                                to_local(transcript.issued_at), ring.active, version=1)
    assert "/v/" in old and "?d=" in old
    assert "<h1>有效</h1>" in follow(client, old).get_data(as_text=True)
    # its fast path answers the second visit the same
    assert "<h1>有效</h1>" in follow(client, old).get_data(as_text=True)
    forged = old[:-3] + ("AAA" if not old.endswith("AAA") else "BBB")
    assert "<h1>无效</h1>" in follow(client, forged).get_data(as_text=True)


def make_certified_student(make):
    w = make.world()
    make.participation(w.activity, w.students[0], status="certified", certifier=w.advisor)
    return w.students[0]


def upload(client, data: bytes, name: str = "t.pdf"):
    return client.post("/api/v1/verify/pdf", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_genuine_and_tampered_files(client, make, graduate):
    _, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    pdf = client.get(f"/api/v1/transcripts/{body['serial']}/pdf", headers=make.token(student)).data
    ok = upload(client, pdf).get_json()
    assert ok == {"status": "valid", "serial": body["serial"], "genuine": True, "reason": ok["reason"]}
    middle = len(pdf) // 2
    cases = {
        "one byte": pdf[:middle] + bytes([pdf[middle] ^ 1]) + pdf[middle + 1:],
        "incremental update": pdf + b"\n1 0 obj\n<< /Title (changed) >>\nendobj\n%%EOF\n",
        "truncated": pdf[: len(pdf) - 200],
        "not a pdf": b"hello, I am a text file",
        "empty": b"",
    }
    for what, data in cases.items():
        r = upload(client, data)
        assert r.status_code == 200, what
        assert r.get_json()["genuine"] is False, what
        assert r.get_json()["reason"], what


def test_upload_page_without_javascript(client, make, graduate):
    _, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    pdf = client.get(f"/api/v1/transcripts/{body['serial']}/pdf", headers=make.token(student)).data
    r = client.post("/verify/upload", data={"file": (io.BytesIO(pdf), "t.pdf"), "serial": body["serial"]},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "<h1>文件一致</h1>" in r.get_data(as_text=True)
    changed = pdf.replace(b"%%EOF", b"%%EOF\n% appended", 1)
    r = client.post("/verify/upload", data={"file": (io.BytesIO(changed), "t.pdf")},
                    content_type="multipart/form-data")
    assert "<h1>不一致</h1>" in r.get_data(as_text=True)


def test_huge_upload_is_413(app, client):
    app.config["VERIFY_MAX_UPLOAD"] = 1024
    r = upload(client, b"%PDF-1.4\n" + b"0" * 4096)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "payload_too_large"


def test_key_rotation_keeps_old_transcripts_verifying(app, client, make, graduate):
    w, student = graduate
    old = issue(client, make, student, student.student_no).get_json()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert len(jwks["keys"]) == 2
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])
    # nothing changed: issuing again gives back the transcript signed with the retired key
    assert issue(client, make, student, student.student_no).get_json()["serial"] == old["serial"]
    make.participation(make.activity(w.club, title="校史馆讲解"), student, status="certified", certifier=w.advisor)
    new = issue(client, make, student, student.student_no).get_json()
    assert new["key_id"] != old["key_id"]
    assert {old["key_id"], new["key_id"]} == {k["kid"] for k in jwks["keys"]}
    assert "已被新版本取代" in follow(client, old["verify_url"]).get_data(as_text=True)
    assert "<h1>有效</h1>" in follow(client, new["verify_url"]).get_data(as_text=True)


def test_verify_is_rate_limited(tmp_path, backend):
    from tests.conftest import make_test_app

    app = make_test_app(backend, tmp_path, {"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "5 per minute"})
    client = app.test_client()
    codes = [client.get("/api/v1/verify/ABCDEF-GHJKLM-NPQRST").status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    body = client.get("/api/v1/verify/ABCDEF-GHJKLM-NPQRST").get_json()
    assert body["error"]["code"] == "rate_limited"
    assert client.get("/v/ABCDEF-GHJKLM-NPQRST").status_code == 429


def test_serials_are_unguessable_and_readable():
    serials = {transcripts.new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    assert all(set(s.replace("-", "")) <= set(transcripts.SERIAL_ALPHABET) for s in serials)
    assert len(transcripts.SERIAL_ALPHABET) ** transcripts.SERIAL_SYMBOLS >= 2 ** 80


def test_batch_issue_reports_failures_and_goes_on(app, make, graduate):
    w, student = graduate
    runner = app.test_cli_runner()
    result = runner.invoke(args=["transcripts", "issue", "--student-no", student.student_no,
                                 "--student-no", w.students[1].student_no])
    assert result.exit_code == 1
    assert "已签发 1 份成绩单，1 份失败" in result.output  # issued 1, 1 failed
    assert w.students[1].student_no in result.output


def test_a_cached_page_still_shows_a_revocation_at_once(client, make, graduate):
    w, student = graduate
    body = issue(client, make, student, student.student_no).get_json()
    first, second = follow(client, body["verify_url"]), follow(client, body["verify_url"])
    assert first.get_data() == second.get_data()  # the second one came from the page cache
    assert "<h1>有效</h1>" in second.get_data(as_text=True)
    assert second.headers["X-Frame-Options"] == "DENY" and second.mimetype == "text/html"
    client.post(f"/api/v1/transcripts/{body['serial']}/revoke", headers=make.token(w.admin), json={"reason": "更正"})
    for _ in range(2):
        assert "<h1>已撤销</h1>" in follow(client, body["verify_url"]).get_data(as_text=True)


def test_every_visit_of_a_cached_page_counts_against_the_budget(tmp_path, backend):
    from tests.conftest import make_test_app
    from tests.factories import Factory

    app = make_test_app(backend, tmp_path, {"RATELIMIT_ENABLED": True, "VERIFY_RATE_LIMIT": "3 per minute"})
    with app.app_context():
        from app.extensions import db

        make = Factory(db.session)
        w = make.world()
        make.participation(w.activity, w.students[0], status="certified", certifier=w.advisor)
        link = transcripts.issue_transcript(db.session, w.admin, w.students[0].student_no).link
        db.session.commit()  # the service flushes; its caller (a request, a command) commits
        client = app.test_client()
        codes = [follow(client, link).status_code for _ in range(5)]
        db.session.remove()
    assert codes == [200, 200, 200, 429, 429]
