"""credentials — the verifiable transcript (第二课堂成绩单), as a pure library.

Snapshot → canonical bytes → digest; an Ed25519 key ring published as JWKS; a signed
link for the QR code; a deterministic A4 PDF with the bundled CJK font; and offline
verification of a link or a PDF.  Imports nothing from the web app.

A snapshot carries the office's module list (``modules``, default the seven national ones)
and, when the cohort has credit rules, a :class:`Requirement`; both are optional in its bytes.

Typical issue::

    ring = get_keyring("instance/keys")
    digest = snapshot_digest(snapshot)
    link = make_link(base_url, snapshot.serial, digest, snapshot.issued_at, ring.active)
    zh = catalog_translator("app/translations")   # the labels' Chinese
    cert = generate_school_certificate("instance/keys", "示范大学")  # or load_school_certificate(...)
    pdf = render_pdf(snapshot, link, ring.active, zh=zh, certificate=cert)   # PAdES-signed

    verify_pdf(pdf, ring.jwks(), trust_roots=cert.roots).genuine   # True
"""

from ._version import __version__
from .certificate import (
    SchoolCertificate,
    generate_school_certificate,
    load_roots,
    load_school_certificate,
    make_school_certificate,
    save_school_certificate,
    school_certificate_in_dir,
)
from .fonts import FONT_FILE, FONT_NAME, get_font
from .keys import (
    KeyRing,
    KeysMissing,
    SigningKey,
    VerifyKey,
    generate_key,
    get_keyring,
    jwk_thumbprint,
    key_id,
    load_jwks_file,
    load_key,
    public_keys_from_jwks,
    resolve_keys,
    save_key,
)
from .labels import N_, Labels, Translator, catalog_translator
from .links import (
    MAX_LINK_LENGTH,
    LinkClaims,
    Verdict,
    make_link,
    parse_link,
    verify_link,
    verify_page_url,
)
from .pades import check_pades
from .pdf import render_pdf
from .qr import qr_matrix, qr_version
from .snapshot import (
    CLAIM,
    GRADES,
    LEVELS,
    MODULES,
    ROLES,
    Record,
    Requirement,
    Snapshot,
    canonical_bytes,
    snapshot_digest,
    snapshot_from_bytes,
    snapshot_from_dict,
    snapshot_of_digest,
    snapshot_to_dict,
)
from .verify import extract_embedded, verify_pdf

__all__ = [
    "CLAIM",
    "FONT_FILE",
    "FONT_NAME",
    "GRADES",
    "LEVELS",
    "MAX_LINK_LENGTH",
    "MODULES",
    "ROLES",
    "KeyRing",
    "KeysMissing",
    "Labels",
    "LinkClaims",
    "N_",
    "Record",
    "Requirement",
    "SigningKey",
    "VerifyKey",
    "SchoolCertificate",
    "Snapshot",
    "Translator",
    "Verdict",
    "__version__",
    "canonical_bytes",
    "check_pades",
    "catalog_translator",
    "extract_embedded",
    "generate_key",
    "generate_school_certificate",
    "get_font",
    "get_keyring",
    "jwk_thumbprint",
    "key_id",
    "load_jwks_file",
    "load_key",
    "load_roots",
    "load_school_certificate",
    "make_link",
    "make_school_certificate",
    "make_link",
    "parse_link",
    "public_keys_from_jwks",
    "qr_matrix",
    "qr_version",
    "render_pdf",
    "resolve_keys",
    "save_key",
    "save_school_certificate",
    "school_certificate_in_dir",
    "snapshot_digest",
    "snapshot_from_bytes",
    "snapshot_from_dict",
    "snapshot_of_digest",
    "snapshot_to_dict",
    "verify_link",
    "verify_page_url",
    "verify_pdf",
]
