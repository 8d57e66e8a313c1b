"""The transcript signing keys' lifecycle beyond generating and rotating: revoking a key that
is compromised, from a date. What the key signed on or after that date no longer verifies (the
page, the JSON, the offline verifier reading the JWKS); what it signed before still does."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

import credentials
from app.models import User
from app.services import verification
from app.services.audit import append_event
from app.services.errors import Invalid, NotFound

#: No transcript was issued before the service existed; a date before this is a typing error.
EARLIEST_REVOCATION = dt.date(2020, 1, 1)


def revoke_key(session: Session, actor: User | None, kid: str, from_day: dt.date) -> credentials.KeyRing:
    """Revoke ``kid`` from ``from_day`` (the school's local date), audited `key.revoke`."""
    directory = current_app.config["SIGNING_KEY_DIR"]
    ring = credentials.KeyRing.load_dir(directory)
    if ring.get(kid) is None:
        raise NotFound(_("No signing key %(kid)s", kid=kid))
    if from_day < EARLIEST_REVOCATION:
        raise Invalid({"from": [_("A date from %(day)s on", day=EARLIEST_REVOCATION.isoformat())]},
                      _("Check the revocation date"))
    before = ring.revoked_from(kid)
    ring = credentials.KeyRing.revoke_in_dir(directory, kid, from_day)
    verification.forget_keyring()
    append_event(session, actor, "key.revoke", "key", kid, {
        "from": from_day.isoformat(), "before": before.isoformat() if before else None,
        "active": kid == ring.active.kid})
    session.flush()
    return ring
