"""A verifier that names its steps (#16, cert-verifier-js is the model): format, signature, issuer key,
status, validity — each passed, failed or not checked with its reason, on the verify page, in the JSON
and by `python -m credentials`; a link whose signature fails shows no record data."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from app.timeutil import to_local, utcnow
from credentials.__main__ import main

NAMES = ["format", "signature", "issuer_key", "status", "validity"]
TITLE = "敬老院志愿服务"
EN = {"Accept-Language": "en"}


@pytest.fixture
def graduate(make):
    w = make.world()
    student = w.students[0]
    activity = make.activity(w.club, title=TITLE, hours="4", status="completed")
    make.participation(activity, student, status="certified", certifier=w.advisor)
    return w, student


def issue(client, make, student) -> dict:
    response = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def page(client, link: str, headers=EN) -> str:
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path,
                      headers=headers).get_data(as_text=True)


def revoke(app, kid: str, day) -> object:
    return app.test_cli_runner().invoke(args=["keys", "revoke", "--from", day.isoformat(), "--", kid])


def forge(link: str) -> str:
    """One digit changed in the signature of a compact link."""
    return link[:-5] + str((int(link[-5]) + 1) % 10) + link[-4:]


def steps_on_page(html: str) -> dict[str, str]:
    """{machine name: passed | failed | unchecked} as the page lists them."""
    found = re.findall(r'<li class="step (passed|failed|unchecked)" data-step="([a-z_]+)"', html)
    return {name: outcome for outcome, name in found}


def steps_in_json(body: dict) -> dict[str, object]:
    assert [s["name"] for s in body["steps"]] == NAMES
    assert all(s["label"] and s["detail"] for s in body["steps"])
    return {s["name"]: s["ok"] for s in body["steps"]}


def view_json(app, serial: str, link: str | None = None) -> dict:
    """The JSON of a view asked for with a link (the API looks up by serial only)."""
    from app.extensions import db
    from app.schemas.transcripts import VerificationSchema
    from app.services import verification

    with app.test_request_context(headers=EN):
        return VerificationSchema().dump(verification.public_view(db.session, serial, link))


def test_a_genuine_link_passes_every_step(app, client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    html = page(client, issued["verify_url"])
    assert steps_on_page(html) == dict.fromkeys(NAMES, "passed")
    for label in ("Format", "Signature", "Issuer key", "Status", "Validity"):
        assert f"<strong>{label}</strong>" in html
    assert html.count("✓") == 5 and "passed" in html  # said in words, not by colour alone
    assert steps_in_json(view_json(app, issued["serial"], issued["verify_url"])) == dict.fromkeys(NAMES, True)
    # in the reader's language: Chinese by default
    zh = page(client, issued["verify_url"], headers={})
    assert "签名" in zh and "格式" in zh
    assert student.display_name in html and TITLE in html


def test_no_link_presented_leaves_the_signature_not_checked(client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    body = client.get(f"/api/v1/verify/{issued['serial']}", headers=EN).get_json()
    assert steps_in_json(body) == {"format": None, "signature": None, "issuer_key": True, "status": True,
                                   "validity": True}
    assert body["steps"][1]["label"] == "Signature" and "No signed link" in body["steps"][1]["detail"]
    zh = client.get(f"/api/v1/verify/{issued['serial']}").get_json()
    assert zh["steps"][1]["label"] == "签名"  # the cached body is per language


def test_a_forged_link_fails_the_signature_and_shows_no_record_data(app, client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    forged = forge(issued["verify_url"])
    for html in (page(client, forged), page(client, forged)):  # the fast path answers the second
        assert "<h1>Not genuine</h1>" in html
        shown = steps_on_page(html)
        assert shown["format"] == "passed" and shown["signature"] == "failed"
        assert {shown[n] for n in ("issuer_key", "status", "validity")} == {"unchecked"}
        assert student.display_name not in html and TITLE not in html and issued["serial"] in html
        assert "Total hours" not in html
    body = view_json(app, issued["serial"], forged)
    assert set(body) == {"status", "serial", "steps", "reason"} and body["status"] == "not_genuine"
    assert steps_in_json(body)["signature"] is False and "forged" in body["reason"]
    text = str(body)
    assert student.display_name not in text and TITLE not in text


def test_a_revoked_key_fails_the_issuer_key_step(app, client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    today = to_local(utcnow()).date()
    assert revoke(app, issued["key_id"], today).exit_code == 0
    shown = steps_on_page(page(client, issued["verify_url"]))
    assert shown["signature"] == "passed" and shown["issuer_key"] == "failed" and shown["status"] == "unchecked"
    body = client.get(f"/api/v1/verify/{issued['serial']}", headers=EN).get_json()
    assert steps_in_json(body)["issuer_key"] is False
    assert today.isoformat() in body["steps"][2]["detail"]


def test_a_revoked_transcript_fails_the_status_step(client, make, graduate):
    w, student = graduate
    issued = issue(client, make, student)
    r = client.post(f"/api/v1/transcripts/{issued['serial']}/revoke", headers=make.token(w.admin),
                    json={"reason": "更正"})
    assert r.status_code == 200, r.get_json()
    html = page(client, issued["verify_url"])
    shown = steps_on_page(html)
    assert shown["signature"] == "passed" and shown["issuer_key"] == "passed" and shown["status"] == "failed"
    assert shown["validity"] == "unchecked" and "更正" in html
    body = client.get(f"/api/v1/verify/{issued['serial']}", headers=EN).get_json()
    assert steps_in_json(body)["status"] is False and "更正" in body["steps"][3]["detail"]


def test_a_closed_check_shows_only_its_status(client, make, graduate):
    _w, student = graduate
    issued = issue(client, make, student)
    r = client.patch(f"/api/v1/transcripts/{issued['serial']}", headers=make.token(student), json={"public": False})
    assert r.status_code == 200, r.get_json()
    body = client.get(f"/api/v1/verify/{issued['serial']}").get_json()
    assert body == {"status": "valid", "serial": issued["serial"], "public": False}
    shown = steps_on_page(page(client, issued["verify_url"]))
    assert shown == {"status": "unchecked"}


def test_the_command_line_prints_the_steps(app, client, make, graduate, tmp_path, capsys):
    _w, student = graduate
    issued = issue(client, make, student)
    keys = ["--keys-dir", app.config["SIGNING_KEY_DIR"]]
    assert main(["verify-link", issued["verify_url"], *keys]) == 0
    out = capsys.readouterr().out
    for step in ("format: passed", "signature: passed", "issuer key: passed", "key not revoked: passed"):
        assert step in out, out
    assert main(["verify-link", forge(issued["verify_url"]), *keys]) == 1
    out = capsys.readouterr().out
    assert "signature: FAILED" in out and "issuer key: not checked" in out
    pdf = client.get(f"/api/v1/transcripts/{issued['serial']}/pdf", headers=make.token(student)).data
    (tmp_path / "t.pdf").write_bytes(pdf)
    code = main(["verify", str(tmp_path / "t.pdf"), *keys])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "signature: passed" in out and "PDF signature: passed" in out
    assert main(["verify-link", issued["verify_url"], *keys, "--json"]) == 0
    assert '"steps"' in capsys.readouterr().out
