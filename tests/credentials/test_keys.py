"""Ed25519 keys, RFC 7638 key ids, the key ring on disk and its JWKS."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import (
    KeyRing,
    KeysMissing,
    generate_key,
    get_keyring,
    jwk_thumbprint,
    key_id,
    load_key,
    public_keys_from_jwks,
    resolve_keys,
    save_key,
    verify_link,
)
from credentials.keys import b64u_decode, b64u_encode


def test_thumbprint_matches_rfc_8037_example():
    # RFC 8037, appendix A.3: the JWK thumbprint of the example Ed25519 public key.
    pub = Ed25519PublicKey.from_public_bytes(
        b64u_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
    assert jwk_thumbprint(pub) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert key_id(pub) == "kPrK_qmxVWaYVA9w"


def test_signing_key_basics(key):
    assert key.kid == key_id(key.public_key) and len(key.kid) == 16
    jwk = key.public_jwk()
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"], "kid": key.kid, "use": "sig",
                   "alg": "EdDSA"}
    assert "d" not in jwk
    assert key.kid in repr(key) and "PRIVATE" not in repr(key)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2048))
def test_sign_verify_round_trip(key, other_key, message):
    sig = key.sign(message)
    assert len(sig) == 64
    assert key.verify(sig, message)
    assert not other_key.verify(sig, message)
    assert not key.verify(sig, message + b"x")


def test_save_and_load(tmp_path, key):
    path = tmp_path / "k.pem"
    save_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_key(path) == key
    assert [p.name for p in tmp_path.iterdir()] == ["k.pem"]  # no temporary files left
    save_key(generate_key(), path)  # replaced atomically
    assert load_key(path) != key


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(ValueError):
        load_key(bad)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ecpem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    bad.write_bytes(ecpem)
    with pytest.raises(ValueError, match="Ed25519"):
        load_key(bad)


def test_ring_generate_is_idempotent_and_rotation_keeps_old_keys(tmp_path):
    d = tmp_path / "keys"
    r1 = KeyRing.generate_in_dir(d)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert KeyRing.generate_in_dir(d).active == r1.active  # nothing new
    assert r1.retired == ()
    r2 = KeyRing.rotate_in_dir(d)
    assert r2.active != r1.active and r2.retired == (r1.active,)
    r3 = KeyRing.rotate_in_dir(d)
    assert set(r3.retired) == {r1.active, r2.active}
    loaded = KeyRing.load_dir(d)
    assert loaded.active == r3.active and set(loaded.retired) == set(r3.retired)
    for pem in d.glob("*.pem"):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert (d / "active").read_text().strip() == r3.active.kid

    jwks = loaded.jwks()
    assert [k["kid"] for k in jwks["keys"]][0] == r3.active.kid
    assert len(jwks["keys"]) == 3
    assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])
    assert "PRIVATE" not in json.dumps(jwks)
    pubs = public_keys_from_jwks(json.loads(json.dumps(jwks)))
    assert set(pubs) == {k.kid for k in loaded.keys}


def test_ring_load_errors(tmp_path):
    with pytest.raises(KeysMissing):
        KeyRing.load_dir(tmp_path)
    with pytest.raises(FileNotFoundError):  # what the app catches
        get_keyring(tmp_path / "none", create=False)
    ring = KeyRing.generate_in_dir(tmp_path)
    (tmp_path / "active").write_text("nonsense")
    with pytest.raises(ValueError):
        KeyRing.load_dir(tmp_path)
    (tmp_path / "active").write_text(ring.active.kid)
    os.rename(tmp_path / f"{ring.active.kid}.pem", tmp_path / "AAAAAAAAAAAAAAAA.pem")
    with pytest.raises(ValueError):
        KeyRing.load_dir(tmp_path)


def test_get_keyring_is_cached_and_sees_rotation(tmp_path):
    d = tmp_path / "k"
    a = get_keyring(d)
    assert get_keyring(d) is a  # loaded once
    KeyRing.rotate_in_dir(d)
    b = get_keyring(d)
    assert b is not a and b.retired == (a.active,)


@pytest.mark.parametrize("jwks", [
    None, [], {}, {"keys": {}}, {"keys": [1]},
    {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}]},
    {"keys": [{"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "short"}]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
               }]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
               "kid": "someone-else"}]},
    {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
               "d": "secret"}]},
])
def test_malformed_jwks_is_refused(jwks):
    with pytest.raises(ValueError):
        public_keys_from_jwks(jwks)


def test_resolve_keys_accepts_key_like_things(key, ring):
    assert set(resolve_keys(key)) == {key.kid}
    assert set(resolve_keys(key.public_key)) == {key.kid}
    assert set(resolve_keys(ring)) == {k.kid for k in ring.keys}
    assert set(resolve_keys(ring.jwks())) == {k.kid for k in ring.keys}
    assert set(resolve_keys([key, ring])) == {key.kid} | {k.kid for k in ring.keys}
    assert set(resolve_keys({"whatever": key.public_key})) == {key.kid}  # kid is recomputed
    for bad in ("keys.json", 3, None):
        with pytest.raises(ValueError):
            resolve_keys(bad)


@given(st.binary(max_size=100))
def test_base64url_is_strict(data):
    text = b64u_encode(data)
    assert "=" not in text and b64u_decode(text) == data
    for bad in (text + "=", text + " ", text.replace("-", "+") if "-" in text else text + "+"):
        with pytest.raises(ValueError):
            b64u_decode(bad)


def test_rotation_destroys_the_retired_private_keys_and_old_links_still_verify(tmp_path):
    from credentials import make_link
    from credentials.keys import VerifyKey

    d = tmp_path / "keys"
    first = KeyRing.generate_in_dir(d).active
    link = make_link("https://dekt.example.edu.cn", "K7QM-4XJ9-PW2D", "ab" * 32, dt.date(2025, 6, 1), first)
    secret = first.private_pem()
    ring = KeyRing.rotate_in_dir(d)
    assert [p.name for p in d.glob("*.pem")] == [f"{ring.active.kid}.pem"]
    assert (d / f"{first.kid}.pub").is_file()
    retired = ring.get(first.kid)
    assert isinstance(retired, VerifyKey) and not hasattr(retired, "sign")
    assert all(secret not in p.read_bytes() for p in d.iterdir() if p.is_file())
    assert verify_link(link, KeyRing.load_dir(d)).genuine
    assert verify_link(link, json.loads(json.dumps(ring.jwks()))).genuine


def test_a_directory_from_before_keeps_its_retired_private_keys_until_the_next_rotation(tmp_path):
    from credentials.keys import VerifyKey

    d = tmp_path / "keys"
    ring = KeyRing.generate_in_dir(d)
    old = generate_key()
    save_key(old, d / f"{old.kid}.pem")  # how a rotation used to leave a retired key
    loaded = KeyRing.load_dir(d)
    assert isinstance(loaded.get(old.kid), VerifyKey) and loaded.active == ring.active
    KeyRing.rotate_in_dir(d)
    assert not (d / f"{old.kid}.pem").exists() and (d / f"{old.kid}.pub").exists()


def test_revoked_key_fails_after_its_date(tmp_path):
    from credentials import make_link

    d = tmp_path / "keys"
    key = KeyRing.generate_in_dir(d).active
    before = make_link("https://dekt.example.edu.cn", "K7QM-4XJ9-PW2D", "ab" * 32, dt.date(2026, 3, 31), key)
    on_the_day = make_link("https://dekt.example.edu.cn", "K7QM-4XJ9-PW2E", "cd" * 32, dt.date(2026, 4, 1), key)
    ring = KeyRing.revoke_in_dir(d, key.kid, dt.date(2026, 4, 1))
    assert ring.revoked_from(key.kid) == dt.date(2026, 4, 1)
    jwks = json.loads(json.dumps(KeyRing.load_dir(d).jwks()))
    assert jwks["keys"][0]["revoked_from"] == "2026-04-01"
    for keys in (ring, jwks):
        assert verify_link(before, keys).genuine
        verdict = verify_link(on_the_day, keys)
        assert not verdict.genuine and verdict.code == "key_revoked" and "2026-04-01" in verdict.reason
    # bare public keys know nothing of the revocation: the JWKS is what tells
    assert verify_link(on_the_day, ring.public_keys()).genuine
    with pytest.raises(ValueError):
        KeyRing.revoke_in_dir(d, "AAAAAAAAAAAAAAAA", dt.date(2026, 4, 1))
    bad = {"keys": [{**jwks["keys"][0], "revoked_from": "April"}]}
    assert verify_link(before, bad).code == "bad_keys"
