"""The steps a verification names (cert-verifier-js is the model): format, signature, issuer
key, status, validity — each passed, failed or not checked, with its reason in the reader's
language; after a failed step the rest are not checked. The page, its JSON and the CLI show them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from app import i18n
from app.models import TranscriptStatus
from app.timeutil import to_local

if TYPE_CHECKING:
    from app.services.verification import PublicView


# The steps' stable machine names, in the order they are checked.
STEP_NAMES = ("format", "signature", "issuer_key", "status", "validity")


_LABELS = {"format": _l("Format"), "signature": _l("Signature"), "issuer_key": _l("Issuer key"),
           "status": _l("Status"), "validity": _l("Validity")}


def step_label(name: str) -> str:
    """A step's name in the reader's language (the one asked for translated, not all five)."""
    return str(_LABELS[name])


@dataclass(frozen=True)
class Step:
    """One check of a verification: `ok` True passed, False failed, None not checked."""

    name: str          # one of STEP_NAMES
    ok: bool | None
    detail: str        # why, in the reader's language

    @property
    def label(self) -> str:
        return step_label(self.name)

    def as_json(self) -> dict:
        return {"name": self.name, "label": self.label, "ok": self.ok, "detail": self.detail}


# The link verifier's codes that mean the link is not one of ours in form, and those that mean its
# signature does not hold for this transcript.
_FORMAT_FAILURES = ("malformed_link", "bad_keys")
_SIGNATURE_FAILURES = ("bad_signature", "digest_mismatch", "wrong_serial", "wrong_site")


def steps_of(view: PublicView) -> tuple[Step, ...]:
    """Format, signature, issuer key, status, validity; after a failed step the rest are not
    checked (as cert-verifier-js stops)."""
    _ = i18n.bound_gettext()  # a dozen texts for every verification
    t, code = view.transcript, view.link_code
    presented = view.link_ok is not None
    earlier = _("An earlier step failed")
    if not presented:
        fmt = Step("format", None, _("No QR link was presented: the transcript was looked up by its serial"))
        signature = Step("signature", None, _("No signed link was presented"))
    elif code in _FORMAT_FAILURES:
        fmt = Step("format", False, _("This is not a transcript's verification link."))
        signature = Step("signature", None, earlier)
    else:
        fmt = Step("format", True, _("The link is in the form the school prints"))
        if code == "unknown_key":
            signature = Step("signature", None, _("The link names a key that is not the school's"))
        elif code == "bad_signature":
            signature = Step("signature", False,
                             _("The link's signature does not match its contents: it was changed or forged."))
        elif code == "digest_mismatch":
            signature = Step("signature", False, _("The link was signed for another content than this transcript's"))
        elif code in _SIGNATURE_FAILURES:
            signature = Step("signature", False, _("The link was signed for another transcript"))
        else:
            signature = Step("signature", True, _("Signed with the school's Ed25519 key %(kid)s", kid=t.key_id))
    steps = [fmt, signature]
    if fmt.ok is False or signature.ok is False:
        steps.append(Step("issuer_key", None, earlier))
    elif code == "unknown_key" or view.key_problem == "unknown_key":
        steps.append(Step("issuer_key", False, _("Signed with a key that is not one of the school's")))
    elif view.key_problem == "key_revoked":
        steps.append(Step("issuer_key", False, view.reason))
    else:
        steps.append(Step("issuer_key", True,
                          _("Key %(kid)s is one of the school's published keys and not revoked", kid=t.key_id)))
    if any(step.ok is False for step in steps):
        steps += [Step("status", None, earlier), Step("validity", None, earlier)]
        return tuple(steps)
    steps.append(_status_step(view, _))
    if steps[-1].ok is False:
        steps.append(Step("validity", None, earlier))
    elif view.issued_in_future:
        steps.append(Step("validity", False, _("Issued on %(day)s, a date still to come",
                                               day=view.snapshot.issued_on)))
    else:
        steps.append(Step("validity", True, _("Issued on %(day)s, not in the future", day=view.snapshot.issued_on)))
    return tuple(steps)


def _status_step(view: PublicView, _: Callable[..., str]) -> Step:
    t = view.transcript
    if view.status == TranscriptStatus.REVOKED:
        return Step("status", False, _("Revoked: %(reason)s", reason=t.revoke_reason or view.reason))
    if view.status == TranscriptStatus.SUPERSEDED:
        detail = _("Genuine as of its issue date; a newer transcript was issued on %(day)s",
                   day=to_local(t.superseded_at).date() if t.superseded_at else "—")
    elif view.status == TranscriptStatus.AMENDED:
        detail = _("Issued by us; the school has since withdrawn records it carries")
    else:
        detail = _("Valid: the student's latest transcript")
    if not view.open:
        detail = " · ".join([detail, _("The public check of this transcript is closed; you see it through a "
                                       "share link or as its holder.")])
    elif view.public_until is not None:
        detail = " · ".join([detail, _("The holder keeps the public check open until %(day)s",
                                       day=view.public_until)])
    return Step("status", True, detail)
