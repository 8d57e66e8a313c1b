"""credentials.vc offline: the proof, the keys, the status list, and the command line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from credentials import generate_key, vc
from credentials.__main__ import main
from credentials.sample import sample_snapshot

BASE = "https://dekt.example.edu.cn:8443"


@pytest.fixture(scope="module")
def signed():
    key = generate_key()
    snapshot = sample_snapshot(4)
    document = vc.transcript_credential(snapshot, base_url=BASE, status_index=vc.LIST_SIZE + 7, key=key)
    return key, snapshot, document


def test_issuer_is_did_web_with_the_port_encoded(signed):
    key, _, document = signed
    assert document["issuer"]["id"] == "did:web:dekt.example.edu.cn%3A8443"
    assert document["proof"]["verificationMethod"] == f"did:web:dekt.example.edu.cn%3A8443#{key.kid}"
    assert document["credentialStatus"]["statusListCredential"] == f"{BASE}/status/2"
    assert document["credentialStatus"]["statusListIndex"] == "7"


def test_one_achievement_result_per_record_and_deterministic(signed):
    key, snapshot, document = signed
    subject = document["credentialSubject"]
    assert len(subject["result"]) == len(snapshot.records) == len(subject["achievement"]["resultDescription"])
    first, record = subject["result"][0], snapshot.records[0]
    assert first["hours"] == f"{record.hours:.1f}" and first["date"] == record.date.isoformat()
    assert first["module"]["key"] == record.module and first["role"]["key"] == record.role
    assert vc.transcript_credential(snapshot, base_url=BASE, status_index=vc.LIST_SIZE + 7, key=key) == document


def test_verifies_and_any_change_fails(signed):
    key, _, document = signed
    assert vc.verify_credential(document, key).verified
    changed = json.loads(json.dumps(document))
    changed["credentialSubject"]["result"][0]["hours"] = "99.0"
    assert not vc.verify_credential(changed, key).verified
    assert vc.verify_credential(document, generate_key()).steps[-1].name == "issuer key"
    assert not vc.verify_credential({**document, "issuer": {"id": "did:web:evil.example"}}, key).verified


def test_status_list_bits_and_wrong_lists(signed):
    key, _, document = signed
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    clear = vc.status_list_credential(BASE, 2, [], key, when)
    revoked = vc.status_list_credential(BASE, 2, [7], key, when)
    assert vc.verify_credential(document, key, clear).verified
    assert vc.verify_credential(document, key, revoked).reason == "revoked"
    assert not vc.verify_credential(document, key, vc.status_list_credential(BASE, 1, [], key, when)).verified
    forged = json.loads(json.dumps(revoked))
    forged["credentialSubject"]["encodedList"] = clear["credentialSubject"]["encodedList"]
    assert not vc.verify_credential(document, key, forged).verified
    bits = vc.decode_bitstring(revoked["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == vc.LIST_SIZE and vc.bit_is_set(bits, 7) and not vc.bit_is_set(bits, 6)


def test_multikey_round_trip_and_did_document(signed):
    key, _, _ = signed
    value = vc.multikey(key.public_key)
    assert value.startswith("z6Mk") and vc.public_key_from_multikey(value) == key.public_key
    doc = vc.did_document("did:web:x", {key.kid: key.public_key})
    assert list(vc.keys_from_did_document(doc)) == [key.kid]
    for url in vc.CONTEXTS:
        assert "@context" in vc.context_document(url)


def test_command_line_verify_credential(signed, tmp_path, capsys):
    key, _, document = signed
    (tmp_path / "vc.json").write_text(json.dumps(document), "utf-8")
    did = vc.did_document(vc.did_web(BASE), {key.kid: key.public_key})
    (tmp_path / "did.json").write_text(json.dumps(did), "utf-8")
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    (tmp_path / "list.json").write_text(json.dumps(vc.status_list_credential(BASE, 2, [7], key, when)), "utf-8")
    assert main(["verify-credential", str(tmp_path / "vc.json"), "--jwks", str(tmp_path / "did.json")]) == 0
    assert "status not checked" in capsys.readouterr().out
    args = ["verify-credential", str(tmp_path / "vc.json"), "--jwks", str(tmp_path / "did.json"),
            "--status", str(tmp_path / "list.json")]
    assert main(args) == 1
    assert "revoked" in capsys.readouterr().out
    assert main(["verify-credential", str(tmp_path / "nope.json"), "--jwks", str(tmp_path / "did.json")]) == 2


def test_a_revoked_key_fails_the_credentials_it_signed_from_that_day(tmp_path):
    from credentials import KeyRing
    from credentials.sample import sample_snapshot

    ring = KeyRing.generate_in_dir(tmp_path / "keys")
    document = vc.transcript_credential(sample_snapshot(5), base_url=BASE, status_index=3, key=ring.active)
    created = vc._parse_utc(document["proof"]["created"]).date()
    assert vc.verify_credential(document, ring).verified
    later = KeyRing.revoke_in_dir(tmp_path / "keys", ring.active.kid, created + dt.timedelta(days=1))
    assert vc.verify_credential(document, later).verified  # signed before the day
    revoked = KeyRing.revoke_in_dir(tmp_path / "keys", ring.active.kid, created)
    did = vc.did_document(vc.did_web(BASE), revoked)
    assert did["verificationMethod"][0]["revoked"] == f"{created.isoformat()}T00:00:00Z"
    for keys in (revoked, json.loads(json.dumps(revoked.jwks())), json.loads(json.dumps(did))):
        verdict = vc.verify_credential(document, keys)
        assert not verdict.verified and verdict.steps[-1].name == "issuer key" and "revoked" in verdict.reason
