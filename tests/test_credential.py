"""The transcript as a verifiable credential: checked by an independent implementation (Digital
Bazaar's vc + eddsa-jcs-2022 + bitstring status list, in Node, tests/vc_verifier) and by our own
offline verifier; the status list flips at once on revocation; did.json resolves every key."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import credentials
from credentials import vc
from tests.test_transcripts import issue
from tests.test_web_transcripts import sign_in

VERIFIER = Path(__file__).parent / "vc_verifier"


@pytest.fixture(scope="session")
def node_verifier() -> Path:
    """tests/vc_verifier with its packages (`npm ci` from the lock file when node_modules is missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("Node.js (node, npm) is needed for the independent credential verifier", pytrace=False)
    if not (VERIFIER / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=VERIFIER, capture_output=True,
                                text=True)
        if result.returncode != 0:
            pytest.fail(f"npm ci in {VERIFIER} failed:\n{result.stderr[-2000:]}", pytrace=False)
    return VERIFIER


def node_verify(verifier: Path, tmp_path: Path, credential: dict, did: dict, *status: dict) -> dict:
    """Run verify.mjs offline on files written here; its printed JSON."""
    (tmp_path / "vc.json").write_text(json.dumps(credential, ensure_ascii=False), "utf-8")
    (tmp_path / "did.json").write_text(json.dumps(did), "utf-8")
    args = ["node", "verify.mjs", str(tmp_path / "vc.json"), "--did", str(tmp_path / "did.json")]
    for i, document in enumerate(status):
        path = tmp_path / f"status-{i}.json"
        path.write_text(json.dumps(document), "utf-8")
        args += ["--status", str(path)]
    result = subprocess.run(args, cwd=verifier, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def issued(client, make):
    """A student with two certified records and their transcript."""
    w = make.world()
    student = w.students[0]
    for module, title in (("volunteering", "敬老院志愿服务"), ("innovation", "挑战杯项目路演")):
        activity = make.activity(w.club, module=module, title=title)
        make.participation(activity, student, status="certified", certifier=w.advisor)
    body = issue(client, make, student, student.student_no).get_json()
    return w, student, body["serial"]


def get_credential(client, make, user, serial):
    return client.get(f"/api/v1/transcripts/{serial}/credential", headers=make.token(user))


def public_json(client, path: str) -> dict:
    r = client.get(path)
    assert r.status_code == 200, r.data[:300]
    return json.loads(r.data)


def test_credential_verifies_in_digitalbazaar_vc(client, make, issued, node_verifier, tmp_path):
    w, student, serial = issued
    r = get_credential(client, make, student, serial)
    assert r.status_code == 200 and r.mimetype == "application/vc"
    document = json.loads(r.data)
    assert document["@context"] == [vc.VC_V2, vc.OB_V3]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["issuer"]["id"] == "did:web:dekt.example.edu.cn"
    subject = document["credentialSubject"]
    assert subject["name"] == student.display_name
    assert student.student_no not in r.get_data(as_text=True)  # only its salted hash
    assert {x["activity"] for x in subject["result"]} == {"敬老院志愿服务", "挑战杯项目路演"}
    assert len(subject["achievement"]["resultDescription"]) == 2
    assert document["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    entry = document["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"].startswith("https://dekt.example.edu.cn/status/")
    # the same file every time (issue time, deterministic Ed25519), and the page serves it too
    assert get_credential(client, make, student, serial).data == r.data
    sign_in(client, student)
    page = client.get(f"/transcripts/{serial}/credential.json")
    assert page.status_code == 200 and page.data == r.data and "attachment" in page.headers["Content-Disposition"]
    home = client.get("/me").get_data(as_text=True)
    assert f"/transcripts/{serial}/credential.json" in home

    did = public_json(client, "/.well-known/did.json")
    status = public_json(client, "/status/" + entry["statusListCredential"].rsplit("/", 1)[1])
    result = node_verify(node_verifier, tmp_path, document, did, status)
    assert result["verified"] is True, result
    assert result["statusResult"]["results"][0]["status"] is False  # not revoked
    ours = vc.verify_credential(document, did, status)
    assert ours.verified, ours


def test_one_changed_field_fails_the_credential(client, make, issued, node_verifier, tmp_path):
    _, student, serial = issued
    document = json.loads(get_credential(client, make, student, serial).data)
    did = public_json(client, "/.well-known/did.json")
    document["credentialSubject"]["result"][0]["hours"] = "99.0"
    assert node_verify(node_verifier, tmp_path, document, did)["verified"] is False
    verdict = vc.verify_credential(document, did)
    assert not verdict.verified and verdict.steps[-1].name == "signature"


def test_revoking_flips_the_status_bit(client, make, issued, node_verifier, tmp_path):
    w, student, serial = issued
    document = json.loads(get_credential(client, make, student, serial).data)
    list_path = "/status/" + document["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1]
    before = public_json(client, list_path)
    assert client.get(list_path).mimetype == "application/vc"
    did = public_json(client, "/.well-known/did.json")
    assert vc.verify_credential(document, did, before).verified
    r = client.post(f"/api/v1/transcripts/{serial}/revoke", headers=make.token(w.admin), json={"reason": "记录有误"})
    assert r.status_code == 200
    after = public_json(client, list_path)
    index = int(document["credentialStatus"]["statusListIndex"])
    bits = vc.decode_bitstring(after["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072 and vc.bit_is_set(bits, index)
    assert not vc.bit_is_set(vc.decode_bitstring(before["credentialSubject"]["encodedList"]), index)
    verdict = vc.verify_credential(document, did, after)
    assert not verdict.verified and verdict.reason == "revoked"
    # the independent implementation reads the same bit from the signed list
    result = node_verify(node_verifier, tmp_path, document, did, after)
    assert result["statusResult"]["results"][0]["status"] is True, result
    # without a saved list the credential still verifies as a signature, and says so
    unchecked = vc.verify_credential(document, did)
    assert unchecked.verified and "status not checked" in unchecked.reason


def test_superseded_transcript_keeps_its_bit_at_zero(client, make, issued):
    w, student, serial = issued
    document = json.loads(get_credential(client, make, student, serial).data)
    # a new certified record, so issuing again makes a new transcript
    make.participation(make.activity(w.club, title="校史馆讲解"), student, status="certified", certifier=w.advisor)
    assert issue(client, make, student, student.student_no).status_code == 201  # supersedes it
    status = public_json(client, "/status/" + document["credentialStatus"]["statusListCredential"].rsplit("/", 1)[1])
    assert vc.verify_credential(document, public_json(client, "/.well-known/did.json"), status).verified


def test_did_document_resolves_every_key(app, client, make, issued):
    _, student, serial = issued
    old = json.loads(get_credential(client, make, student, serial).data)
    ring = credentials.KeyRing.rotate_in_dir(app.config["SIGNING_KEY_DIR"])
    did = public_json(client, "/.well-known/did.json")
    assert did["id"] == "did:web:dekt.example.edu.cn"
    methods = {m["id"]: m for m in did["verificationMethod"]}
    assert set(methods) == {f"{did['id']}#{k.kid}" for k in ring.keys} and len(methods) == 2
    assert did["assertionMethod"] == list(methods)
    for key in ring.keys:
        method = methods[f"{did['id']}#{key.kid}"]
        assert method["type"] == "Multikey" and method["controller"] == did["id"]
        assert vc.multikey(key.public_key) == method["publicKeyMultibase"]
        assert method["publicKeyMultibase"].startswith("z6Mk")
    assert set(vc.keys_from_did_document(did)) == {k.kid for k in ring.keys}
    # the credential signed by the retired key still verifies; a new download is signed by the active one
    assert vc.verify_credential(old, did).verified
    new = json.loads(get_credential(client, make, student, serial).data)
    assert new["proof"]["verificationMethod"].endswith("#" + ring.active.kid)
    assert vc.verify_credential(new, did).verified


def test_someone_elses_student_is_refused(client, make, issued):
    w, student, serial = issued
    assert get_credential(client, make, w.students[1], serial).status_code == 403
    assert get_credential(client, make, w.advisor, serial).status_code == 403
    assert get_credential(client, make, w.admin, serial).status_code == 200
    assert get_credential(client, make, student, "ZZZZZZ-ZZZZZZ-ZZZZZZ").status_code == 404
    sign_in(client, w.students[1])
    assert client.get(f"/transcripts/{serial}/credential.json").status_code == 403


def test_unknown_status_list_is_404(client, issued):
    assert client.get("/status/1").status_code == 200
    assert client.get("/status/0").status_code == 404
    assert client.get("/status/99").status_code == 404


def test_a_status_position_taken_by_a_concurrent_issue_is_a_409_and_changes_nothing(client, make, session,
                                                                                    issued, monkeypatch):
    from sqlalchemy import func, select

    from app.models import AuditEvent, Transcript
    from app.services import transcripts

    w, student, serial = issued
    taken = session.execute(select(Transcript.status_list_index).where(Transcript.serial == serial)).scalar()
    make.participation(make.activity(w.club, title="读书会"), student, status="certified",
                       certifier=w.advisor)  # something new to issue
    session.commit()
    before = (session.execute(select(func.count(Transcript.id))).scalar(),
              session.execute(select(func.count(AuditEvent.id))).scalar())
    monkeypatch.setattr(transcripts, "new_status_index", lambda _session: taken)  # as if it raced us
    response = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert response.status_code == 409, response.get_json()
    session.expire_all()
    assert (session.execute(select(func.count(Transcript.id))).scalar(),
            session.execute(select(func.count(AuditEvent.id))).scalar()) == before
    assert session.execute(select(Transcript.status).where(Transcript.serial == serial)).scalar() == "valid"
