"""The QR matrix: the fixed mask and the version found once per shape of link."""

from __future__ import annotations

import qrcode
import qrcode.constants
from hypothesis import given, settings
from hypothesis import strategies as st

from credentials import qr

from .conftest import cases

#: Links of every class of character the encoder splits on: digits, QR alphanumerics, bytes.
LINKS = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abcxyz?=&_", min_size=1, max_size=400)


@settings(max_examples=cases(150, 2000), deadline=None)
@given(LINKS)
def test_the_version_is_the_smallest_that_fits_the_link(data):
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(data)
    assert qr.qr_version(data) == q.best_fit()


def test_every_code_uses_the_fixed_mask_and_matches_the_encoder():
    data = "HTTPS://DEKT.EXAMPLE.EDU.CN/V/ST2026ABCDEF/" + "7" * 212
    q = qrcode.QRCode(version=qr.qr_version(data), error_correction=qrcode.constants.ERROR_CORRECT_M,
                      box_size=1, border=qr.QUIET_ZONE, mask_pattern=qr.MASK)
    q.add_data(data)
    q.make(fit=False)
    assert qr.qr_matrix(data) == tuple(tuple(bool(c) for c in row) for row in q.get_matrix())
