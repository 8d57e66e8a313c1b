"""The signature container refilled from its template is the one pyHanko makes for the same
digest, and a file signed that way passes the checks a signature made by pyHanko passes. (An ECDSA
certificate, which takes pyHanko's own path, is tests/credentials/test_pades.py's.)"""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import check_pades, make_school_certificate
from credentials.pades import _run
from credentials.sample import sample_snapshot
from credentials.signed_data import SignatureTemplate, pyhanko_signed_data, signed_data

from .conftest import CERT, cases, issue


def _parts(blob: bytes) -> dict:
    """What a reader of the container sees: the signer's attributes and signature, the digest
    algorithm and the set of certificates (pyHanko keeps the certificates in a Python set, so
    their order may differ between two containers it makes)."""
    content = cms.ContentInfo.load(blob)["content"]
    info = content["signer_infos"][0]
    return {
        "signed_attrs": info["signed_attrs"].dump(),
        "signature": info["signature"].native,
        "sid": info["sid"].dump(),
        "algorithms": (info["digest_algorithm"].dump(), info["signature_algorithm"].dump()),
        "certificates": sorted(c.dump() for c in content["certificates"]),
        "version": content["version"].native,
    }


@settings(max_examples=cases(60, 400), deadline=None)
@given(digest=st.binary(min_size=32, max_size=32))
def test_the_refilled_container_is_the_one_pyhanko_makes_for_that_digest(digest):
    signer = CERT._signer
    ours = _run(signed_data(CERT.key, signer, digest))
    theirs = _run(pyhanko_signed_data(signer, digest))
    assert len(ours) == len(theirs)
    assert _parts(ours) == _parts(theirs)
    info = cms.ContentInfo.load(ours)["content"]["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0].native for a in info["signed_attrs"]}
    assert attrs["message_digest"] == digest
    # the signature is over the attributes as a SET OF, with the school's key
    CERT.cert.public_key().verify(info["signature"].native, info["signed_attrs"].untag().dump(),
                                  padding.PKCS1v15(), hashes.SHA256())


def test_each_certificate_is_refilled_from_its_own_template():
    school = make_school_certificate("另一所大学 Another University")
    digest = hashlib.sha256(b"a transcript").digest()
    _run(signed_data(CERT.key, CERT._signer, digest))  # CERT's template made first
    ours = _run(signed_data(school.key, school._signer, digest))
    assert _parts(ours) == _parts(_run(pyhanko_signed_data(school._signer, digest)))
    info = cms.ContentInfo.load(ours)["content"]["signer_infos"][0]
    school.cert.public_key().verify(info["signature"].native, info["signed_attrs"].untag().dump(),
                                    padding.PKCS1v15(), hashes.SHA256())


def test_a_file_signed_from_the_template_is_valid_and_a_changed_byte_is_not(key):
    s = sample_snapshot(5)
    _link, pdf = issue(s, key)
    assert check_pades(pdf, CERT.roots).ok
    at = pdf.index(b"/Contents <") - 200  # inside the signed revision, before the signature
    broken = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]
    assert not check_pades(broken, CERT.roots).ok


def test_a_container_that_does_not_hold_its_digest_once_is_refused():
    blob = _run(pyhanko_signed_data(CERT._signer, hashlib.sha256(b"x").digest()))
    with pytest.raises(ValueError):
        SignatureTemplate(rsa.generate_private_key(65537, 2048), blob)  # not made for the probe
