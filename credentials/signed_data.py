"""The CMS signature of a transcript without rebuilding it: pyHanko's container, made once per
certificate, with only the document's digest and the signature over it put in anew.

pyHanko builds a PAdES SignedData from scratch for every file — its signed attributes, the
signing-certificate-v2 attribute, the certificate set — through asn1crypto, ~15 ms of pure
Python per transcript, half the cost of a graduation batch's signing. With an RSA key and no
timestamp, the container of one certificate differs from file to file in two places only: the
messageDigest attribute (a SHA-256, always 32 bytes) and the PKCS#1 v1.5 signature over the
signed attributes (always the key's size, and deterministic). So pyHanko makes the container
once, for a probe digest; each file then gets that container with its own digest written where
the probe was and the signature recomputed over the signed attributes so changed. The result
is the container pyHanko itself makes for that digest (tests/credentials/test_signed_data.py
holds them equal, byte for byte where pyHanko's certificate order is stable). An ECDSA key
(whose signature's length varies) or a timestamp (a token per file) takes pyHanko's own path.
"""

from __future__ import annotations

import hashlib
import weakref

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: The signed attributes pyHanko writes for PAdES without a timestamp: none of them depends on
#: the file but the digest (PAdES puts the signing time in the signature dictionary's /M).
_FIXED_ATTRIBUTES = {"content_type", "message_digest", "signing_certificate_v2"}
_PROBE = hashlib.sha256(b"second transcript: the probe digest of the signature template").digest()


class SignatureTemplate:
    """pyHanko's SignedData for one RSA certificate, refilled for each document digest."""

    def __init__(self, key: rsa.RSAPrivateKey, blob: bytes) -> None:
        self._key = key
        info = cms.ContentInfo.load(blob)["content"]["signer_infos"][0]
        # What is signed is the attributes' DER as a SET OF (RFC 5652 5.4), not the [0] the
        # container writes them as.
        kinds = {a["type"].native for a in info["signed_attrs"]}
        if kinds != _FIXED_ATTRIBUTES:
            raise ValueError(f"signed attributes {sorted(kinds)}: only {sorted(_FIXED_ATTRIBUTES)} stay the same")
        attrs = bytearray(info["signed_attrs"].untag().dump())
        signature = info["signature"].native
        if attrs.count(_PROBE) != 1 or blob.count(_PROBE) != 1 or blob.count(signature) != 1:
            raise ValueError("the signature container does not hold its digest and signature once each")
        self._attrs = attrs
        self._attrs_at = attrs.index(_PROBE)
        self._blob = blob
        self._digest_at = blob.index(_PROBE)
        self._signature_at = blob.index(signature)
        self._signature_len = len(signature)

    def sign(self, digest: bytes) -> bytes:
        """The DER SignedData (a ContentInfo) over a document whose SHA-256 is ``digest``."""
        if len(digest) != len(_PROBE):
            raise ValueError("digest: expected a SHA-256 (32 bytes)")
        attrs = bytearray(self._attrs)
        attrs[self._attrs_at:self._attrs_at + len(digest)] = digest
        signature = self._key.sign(bytes(attrs), padding.PKCS1v15(), hashes.SHA256())
        if len(signature) != self._signature_len:
            raise RuntimeError("the signature's length changed")
        out = bytearray(self._blob)
        out[self._digest_at:self._digest_at + len(digest)] = digest
        out[self._signature_at:self._signature_at + len(signature)] = signature
        return bytes(out)


async def pyhanko_signed_data(signer, digest: bytes, *, timestamper=None, signing_time=None) -> bytes:
    """pyHanko's own PAdES SignedData for ``digest`` (the reference the template is made from)."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    container = await signer.async_sign(digest, "sha256", use_pades=True, timestamper=timestamper,
                                        signed_attr_settings=PdfCMSSignedAttributes(signing_time=signing_time))
    return container.dump()


_templates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def signed_data(key, signer, digest: bytes, *, timestamper=None, signing_time=None) -> bytes:
    """The PAdES SignedData for ``digest``: from the signer's template (made on its first use)
    when the key is RSA and no timestamp is asked for; pyHanko's own otherwise."""
    if timestamper is not None or not isinstance(key, rsa.RSAPrivateKey):
        return await pyhanko_signed_data(signer, digest, timestamper=timestamper, signing_time=signing_time)
    template = _templates.get(signer)
    if template is None:
        try:
            template = SignatureTemplate(key, await pyhanko_signed_data(signer, _PROBE, signing_time=signing_time))
        except ValueError:
            template = False  # a container this certificate's signer varies otherwise: pyHanko every time
        _templates[signer] = template
    if template is False:
        return await pyhanko_signed_data(signer, digest, timestamper=timestamper, signing_time=signing_time)
    return template.sign(digest)
