"""Keys that can be revoked (#16): a compromised key revoked from a date fails what it signed on or
after that date, on the page, in the JSON and for an offline verifier reading the JWKS; what it
signed earlier still verifies; rotation keeps only the public parts of retired keys; the signing
key's file never enters a backup."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import credentials
from app.models import AuditEvent
from app.timeutil import to_local, utcnow


@pytest.fixture
def graduate(make):
    w = make.world()
    student = w.students[0]
    activity = make.activity(w.club, title="敬老院志愿服务", hours="4", status="completed")
    make.participation(activity, student, status="certified", certifier=w.advisor)
    return w, student


def issue(client, make, student) -> dict:
    response = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def page(client, link: str) -> str:
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}").get_data(as_text=True)


def revoke(app, kid: str, day) -> object:
    # A key id is base64url and may start with "-": after "--" it is never read as an option.
    return app.test_cli_runner().invoke(args=["keys", "revoke", "--from", day.isoformat(), "--", kid])


def test_revoked_key_fails_after_its_date(app, client, make, session, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    kid, today = issued["key_id"], to_local(utcnow()).date()
    # revoked from tomorrow: what it signed today still verifies
    result = revoke(app, kid, today + timedelta(days=1))
    assert result.exit_code == 0, result.output
    assert client.get(f"/api/v1/verify/{issued['serial']}").get_json()["status"] == "valid"
    # revoked from today: today's transcript no longer does, anywhere
    assert revoke(app, kid, today).exit_code == 0
    body = client.get(f"/api/v1/verify/{issued['serial']}").get_json()
    assert body["status"] == "revoked" and today.isoformat() in body["revoke_reason"]
    assert "已撤销" in page(client, issued["verify_url"])
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert [k["revoked_from"] for k in jwks["keys"] if k["kid"] == kid] == [today.isoformat()]
    verdict = credentials.verify_link(issued["verify_url"], jwks)
    assert not verdict.genuine and verdict.code == "key_revoked"
    pdf = client.get(f"/api/v1/transcripts/{issued['serial']}/pdf", headers=make.token(student)).data
    upload = client.post("/api/v1/verify/pdf", data={"file": (__import__("io").BytesIO(pdf), "t.pdf")})
    assert upload.get_json()["genuine"] is False
    logged = session.execute(select(AuditEvent).where(AuditEvent.action == "key.revoke")
                             .order_by(AuditEvent.id)).scalars().all()
    assert [e.data["from"] for e in logged] == [(today + timedelta(days=1)).isoformat(), today.isoformat()]


def test_issuing_with_a_revoked_active_key_is_refused_until_the_key_is_rotated(app, client, make, graduate):
    _w, student = graduate
    kid = credentials.KeyRing.load_dir(app.config["SIGNING_KEY_DIR"]).active.kid
    result = revoke(app, kid, to_local(utcnow()).date())
    assert result.exit_code == 0 and "keys rotate" in result.output
    refused = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert refused.status_code == 409 and "keys rotate" in refused.get_json()["error"]["message"]
    assert app.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    fresh = issue(client, make, student)
    assert fresh["key_id"] != kid
    assert client.get(f"/api/v1/verify/{fresh['serial']}").get_json()["status"] == "valid"


@pytest.mark.parametrize("args", [["AAAAAAAAAAAAAAAA", "--from", "2026-01-01"], ["{kid}", "--from", "2019-12-31"],
                                  ["{kid}", "--from", "tomorrow"], ["{kid}"]])
def test_a_bad_revocation_is_refused_and_changes_nothing(app, session, args):
    directory = Path(app.config["SIGNING_KEY_DIR"])
    kid = credentials.KeyRing.load_dir(directory).active.kid
    result = app.test_cli_runner().invoke(args=["keys", "revoke", *[a.format(kid=kid) for a in args]])
    assert result.exit_code != 0
    assert not (directory / credentials.keys.REVOKED_FILE).exists()
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "key.revoke")).first() is None


def test_rotation_keeps_only_the_public_part_of_the_retired_key(app, client, make, graduate):
    _w, student = graduate
    old = issue(client, make, student)
    directory = Path(app.config["SIGNING_KEY_DIR"])
    secret = (directory / f"{old['key_id']}.pem").read_bytes()
    assert app.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    assert not (directory / f"{old['key_id']}.pem").exists()
    assert all(secret not in p.read_bytes() for p in directory.rglob("*") if p.is_file())
    body = client.get(f"/api/v1/verify/{old['serial']}").get_json()
    assert body["status"] == "valid" and body["key_id"] == old["key_id"]
    assert "<h1>有效</h1>" in page(client, old["verify_url"])  # the link checks against the public part


def test_the_signing_key_never_enters_a_backup(app, make, graduate, tmp_path, backend):
    import shutil

    if backend == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    directory = Path(app.config["SIGNING_KEY_DIR"])
    # the Ed25519 key and the PDF signing certificate's key (and the audit checkpoints' once made)
    secrets = [p.read_bytes() for p in directory.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]
    assert len(secrets) >= 2
    target = tmp_path / "backup" / "copy.db"
    target.parent.mkdir()
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    written = [p for p in target.parent.rglob("*") if p.is_file()]
    assert written
    for path in written:
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data and not any(s in data for s in secrets), path


def test_a_revoked_key_leaves_no_credential_to_download_and_the_did_document_says_so(app, client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    url = f"/api/v1/transcripts/{issued['serial']}/credential"
    assert client.get(url, headers=make.token(student)).status_code == 200
    assert revoke(app, issued["key_id"], to_local(utcnow()).date()).exit_code == 0
    refused = client.get(url, headers=make.token(student))
    assert refused.status_code == 409
    did = client.get("/.well-known/did.json").get_json()
    revoked = [m for m in did["verificationMethod"] if m["id"].endswith("#" + issued["key_id"])]
    assert revoked[0]["revoked"].startswith(to_local(utcnow()).date().isoformat())
