"""The signed verification link: round trips, offline checks, the QR version bound."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import (
    MAX_LINK_LENGTH,
    KeyRing,
    make_link,
    parse_link,
    qr_matrix,
    qr_version,
    snapshot_digest,
    verify_link,
)
from credentials.sample import SAMPLE_BASE_URL, SAMPLE_SERIAL

from .strategies import serials, snapshots

DIGEST = hashlib.sha256(b"transcript").hexdigest()
DAY = dt.date(2025, 6, 30)


def test_reference_link_is_a_version_8_code_where_the_old_form_needed_10(key):
    # A realistic base URL and a 22-character serial, as the issue asks.
    assert SAMPLE_BASE_URL == "https://dekt.example-university.edu.cn"
    assert SAMPLE_SERIAL == "K7QM-4XJ9-PW2D-HT8R-N3" and len(SAMPLE_SERIAL) == 22
    link = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key)
    assert link.startswith("HTTPS://DEKT.EXAMPLE-UNIVERSITY.EDU.CN/V/K7QM-4XJ9-PW2D-HT8R-N3/")
    assert link.rsplit("/", 1)[1].isdigit() and len(link.rsplit("/", 1)[1]) == 212
    assert qr_version(link) == 8
    assert len(qr_matrix(link)) == 4 * 8 + 17 + 8  # quiet zone included
    old = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key, version=1)
    assert old.startswith("https://dekt.example-university.edu.cn/v/K7QM-4XJ9-PW2D-HT8R-N3?")
    assert len(old) == 207 and qr_version(old) == 10


@pytest.mark.parametrize("serial", ["ABCD-EFGH-JKLM-NPQR", "K7QM-4XJ9-PW2D-HT8R-N3",
                                    "23456789ABCDEFGHJKLMNPQRSTUV"])
@pytest.mark.parametrize("base", ["https://dekt.example-university.edu.cn",
                                  "https://dekt.tsinghua.edu.cn",
                                  "https://example.edu.cn:8443/dekt"])
def test_links_of_realistic_sizes_stay_within_version_9(key, base, serial):
    link = make_link(base, serial, DIGEST, DAY, key)
    assert qr_version(link) <= 9
    old = make_link(base, serial, DIGEST, DAY, key, version=1)
    assert len(old) <= MAX_LINK_LENGTH and qr_version(old) <= 10


def test_too_long_a_link_is_refused_at_issue(key):
    with pytest.raises(ValueError, match="version-10"):
        make_link("https://" + "a" * 60 + ".edu.cn", SAMPLE_SERIAL, DIGEST, DAY, key, version=1)
    with pytest.raises(ValueError, match="version-10"):
        make_link("https://" + "a" * 60 + ".edu.cn/" + "p" * 120, SAMPLE_SERIAL, DIGEST, DAY, key)


@settings(max_examples=120, deadline=None)
@given(serial=serials, day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
       digest=st.binary(min_size=32, max_size=32).map(bytes.hex))
def test_make_parse_verify_round_trip(key, other_key, serial, day, digest):
    link = make_link(SAMPLE_BASE_URL, serial, digest, day, key)
    c = parse_link(link)
    assert (c.base_url, c.serial, c.issued_on, c.version) == (SAMPLE_BASE_URL, serial, day, 2)
    assert c.key_matches(key.kid) and not c.key_matches(other_key.kid)
    assert c.url == link and c.matches_digest(digest)
    v = verify_link(link, key, expected_digest=digest, expected_base_url=SAMPLE_BASE_URL + "/")
    assert v.genuine and v.serial == serial and v.issued_on == day and v.kid == key.kid
    assert not verify_link(link, other_key).genuine
    assert verify_link(link, [other_key, key]).genuine


@settings(max_examples=40, deadline=None)
@given(snapshots)
def test_snapshot_sign_verify_round_trip(key, s):
    d = snapshot_digest(s)
    link = make_link(SAMPLE_BASE_URL, s.serial, d, s.issued_at, key)
    v = verify_link(link, {"keys": [key.public_jwk()]}, expected_digest=d)
    assert v.genuine and v.issued_on == s.issued_on


def test_verdicts_name_the_reason(key, other_key):
    link = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key)
    cases = {
        "unknown_key": verify_link(link, other_key),
        "digest_mismatch": verify_link(link, key, expected_digest=hashlib.sha256(b"x").hexdigest()),
        "wrong_site": verify_link(link, key, expected_base_url="https://evil.example.com"),
        "malformed_link": verify_link("https://dekt.example-university.edu.cn/v/X", key),
        "bad_keys": verify_link(link, {"keys": "nope"}),
    }
    for code, v in cases.items():
        assert not v.genuine and v.code == code and v.reason and v.reason_zh, code
    assert verify_link(link, key).to_dict()["genuine"] is True
    assert "genuine" in str(verify_link(link, key))


def test_the_base_url_is_signed(key):
    link = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key)
    moved = link.replace("DEKT.EXAMPLE-UNIVERSITY.EDU.CN", "DEKT.EXAMPLE-UNIVERSITY.EDU.CO")
    assert parse_link(moved).serial == SAMPLE_SERIAL
    v = verify_link(moved, key)
    assert not v.genuine and v.code == "bad_signature"


def test_retired_keys_still_verify(tmp_path):
    ring1 = KeyRing.generate_in_dir(tmp_path)
    old = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, ring1.active)
    ring2 = KeyRing.rotate_in_dir(tmp_path)
    new = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, ring2.active)
    assert verify_link(old, ring2.jwks()).genuine
    assert verify_link(new, ring2.jwks()).genuine
    assert not verify_link(new, ring1.jwks()).genuine


@pytest.mark.parametrize("base", ["http://dekt.example.edu.cn", "ftp://x.cn", "https://",
                                  "https://a.cn/?q=1", "https://a.cn/#x", "https://u@a.cn",
                                  "https://a.cn/p q", "dekt.example.edu.cn", 42])
def test_bad_base_urls_are_refused(key, base):
    with pytest.raises(ValueError):
        make_link(base, SAMPLE_SERIAL, DIGEST, DAY, key)


def test_localhost_may_use_http(key):
    link = make_link("http://localhost:5000", SAMPLE_SERIAL, DIGEST, DAY, key)
    assert verify_link(link, key).genuine


@pytest.mark.parametrize("serial,digest,issued", [
    ("AB", DIGEST, DAY), ("-ABCD", DIGEST, DAY), ("ABCD EFGH", DIGEST, DAY),
    ("ABCD/EFGH", DIGEST, DAY), (SAMPLE_SERIAL, DIGEST[:-1], DAY), (SAMPLE_SERIAL, "z" * 64, DAY),
    (SAMPLE_SERIAL, DIGEST, "2025-06-30"),
])
def test_make_link_validates(key, serial, digest, issued):
    with pytest.raises(ValueError):
        make_link(SAMPLE_BASE_URL, serial, digest, issued, key)


def test_parse_accepts_only_the_canonical_spelling_of_the_new_form(key):
    link = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key)
    head, digits = link.rsplit("/", 1)
    variants = [
        link.lower(), link.replace("/V/", "/v/"), link.replace("HTTPS://", "https://"), link + "/",
        link + "0", link[:-1], head + "/" + "9" * 212, link.replace("K7QM-4XJ9", "k7qm-4xj9"), " " + link,
        link + "?lang=en",
    ]
    for v in variants:
        with pytest.raises(ValueError):
            parse_link(v)
        assert not verify_link(v, key).genuine
    # any other 212 digits are a well-formed link whose signature fails
    for i in range(0, 212, 23):
        changed = head + "/" + digits[:i] + str((int(digits[i]) + 1) % 10) + digits[i + 1:]
        if int(changed.rsplit("/", 1)[1]) < 1 << 704:
            assert verify_link(changed, key).code in ("bad_signature", "unknown_key")


def test_parse_accepts_only_the_canonical_spelling(key):
    link = make_link(SAMPLE_BASE_URL, SAMPLE_SERIAL, DIGEST, DAY, key, version=1)
    c = parse_link(link)
    variants = [
        link + "&x=1", link + "#frag", link.replace("?d=", "?D="), link.replace("/v/", "/V/"),
        link.replace("https://", "HTTPS://"), link.replace("&k=", "&amp;k="),
        link.replace("-", "%2D", 1), " " + link, link + " ", link + "=", link[:-1],
        link.replace(f"d={DAY:%Y%m%d}", "d=20250631"),
        link.replace(f"&h={link.split('&h=')[1].split('&')[0]}", ""),
        link.replace("?d=20250630&k=" + c.kid, "?k=" + c.kid + "&d=20250630"),
    ]
    for v in variants:
        with pytest.raises(ValueError):
            parse_link(v)
        assert not verify_link(v, key).genuine
