"""Fixtures for the credentials library: keys, sample snapshots and rendered PDFs.

Long fuzz runs opt in with the environment variable ``SLOW=1`` (>= 1,000 generated
cases per fuzz test); the default run does a few hundred.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from credentials import (
    KeyRing,
    catalog_translator,
    generate_key,
    make_link,
    render_pdf,
    snapshot_digest,
    verify_pdf,
)
from credentials.certificate import make_school_certificate
from credentials.sample import SAMPLE_BASE_URL, sample_snapshot

SLOW = os.environ.get("SLOW", "") not in ("", "0")
#: The app's catalogs: the labels' Chinese comes from there, as when the app issues.
CATALOG = Path(__file__).resolve().parents[2] / "app" / "translations"
ZH = catalog_translator(CATALOG)
#: The school's signing certificate, made once per process (RSA key generation is slow).
CERT = make_school_certificate("示例大学 Example University")


def write_roots(path: Path) -> str:
    """The school's root certificate as a PEM file (for ``python -m credentials verify --roots``)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    path.write_bytes(b"".join(r.public_bytes(Encoding.PEM) for r in CERT.roots))
    return str(path)


def verify(data, keys, **kw):
    """verify_pdf with the issuer's catalog (an unsigned file is re-rendered) and the
    school's root (a PAdES-signed file is checked against it)."""
    kw.setdefault("trust_roots", CERT.roots)
    return verify_pdf(data, keys, zh=ZH, **kw)


def cases(default: int, slow: int) -> int:
    return slow if SLOW else default


@pytest.fixture(scope="session")
def key():
    return generate_key()


@pytest.fixture(scope="session")
def other_key():
    return generate_key()


@pytest.fixture(scope="session")
def ring(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    KeyRing.generate_in_dir(d)
    return KeyRing.rotate_in_dir(d)  # an active key and one retired key


def issue(snapshot, key, base_url=SAMPLE_BASE_URL, *, sign_file=True):
    link = make_link(base_url, snapshot.serial, snapshot_digest(snapshot), snapshot.issued_at, key)
    return link, render_pdf(snapshot, link, key, zh=ZH, certificate=CERT if sign_file else None)


@pytest.fixture(scope="session")
def snap60():
    return sample_snapshot(60)


@pytest.fixture(scope="session")
def issued60(snap60, key):
    """(snapshot, link, pdf bytes) of a 60-record transcript with its PAdES signature."""
    link, pdf = issue(snap60, key)
    return snap60, link, pdf


@pytest.fixture(scope="session")
def issued60_unsigned(snap60, key):
    """The same transcript rendered without a signature (re-render check)."""
    link, pdf = issue(snap60, key, sign_file=False)
    return snap60, link, pdf
