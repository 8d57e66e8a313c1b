"""Verifying transcripts: what the public sees of a serial (the page, the JSON, the fast path),
the steps it checked, and the records withdrawn since a transcript was issued. The check of an
uploaded file is `services.upload_check`.

The module names shown are the snapshot's own (those it was issued with, even if the office has
renamed a module since), and a snapshot issued under credit rules shows its requirement: the rule
set, met or not, and each academic year's grade.

Issuing and keeping transcripts is `services.transcripts`; this module only reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import credentials
import credentials.pades
from app.lru import LRU
from app.models import (
    Activity,
    Claim,
    ClaimStatus,
    Participation,
    ParticipationStatus,
    Transcript,
    TranscriptClaim,
    TranscriptRecord,
    TranscriptStatus,
)
from app.models.rules import Grade
from app.services import holder
from app.services.errors import NotFound
from app.services.transcripts import keyring, normalize_serial
from app.services.verification_steps import Step, steps_of
from app.timeutil import to_local, utcnow


def jwks() -> dict:
    """The published public keys; re-read from disk at most once a second."""
    return verification_ring().jwks()


def offline_verifier() -> dict:
    """What the offline verifier file embeds: the keys of today, and its words in the reader's
    language (its script fills in the values)."""
    return {
        "jwks": jwks(), "today": to_local(utcnow()).date().isoformat(),
        "base_url": current_app.config["PUBLIC_BASE_URL"], "institution": current_app.config["INSTITUTION_NAME"],
        "texts": {
            "genuine": _("Genuine"), "not_genuine": _("Not genuine"),
            "genuine_detail": _("Signed by the school (key %(kid)s) for serial %(serial)s, issued %(day)s, "
                                "to be checked at %(base)s."),
            "malformed": _("This is not a transcript's verification link."),
            "unknown_key": _("Signed with a key this file does not know (%(kid)s): download a newer verifier."),
            "bad_signature": _("The link's signature does not match its contents: it was changed or forged."),
            "key_revoked": _("Signed with key %(kid)s, which the school revoked from %(day)s."),
            "no_webcrypto": _("This browser cannot check Ed25519 signatures (%(error)s): use a current browser."),
        },
    }


@dataclass(frozen=True)
class Withdrawal:
    """A record a transcript carries that the school withdrew after it was issued."""

    activity: str
    date: object
    hours: Decimal
    revoked_at: object
    reason: str


_claim = Claim.__table__.c
_carried_claim = TranscriptClaim.__table__.c
_WITHDRAWN_QUERY = (
    select(Activity.__table__.c.title, Activity.__table__.c.starts_at,
           Participation.__table__.c.hours, Participation.__table__.c.revoked_at,
           Participation.__table__.c.revoke_reason)
    .select_from(TranscriptRecord.__table__)
    .join(Participation.__table__, Participation.__table__.c.id == TranscriptRecord.__table__.c.participation_id)
    .join(Activity.__table__, Activity.__table__.c.id == Participation.__table__.c.activity_id)
    .where(TranscriptRecord.__table__.c.transcript_id == bindparam("transcript_id"),
           Participation.__table__.c.status == ParticipationStatus.REVOKED.value)
)
# A withdrawn claim: its title and date stand where an activity's would.
_WITHDRAWN_CLAIMS_QUERY = (
    select(_claim.title, _claim.occurred_on, _claim.hours, _claim.revoked_at, _claim.revoke_reason)
    .select_from(TranscriptClaim.__table__.join(Claim.__table__, _claim.id == _carried_claim.claim_id))
    .where(_carried_claim.transcript_id == bindparam("transcript_id"),
           _claim.status == ClaimStatus.REVOKED.value)
)


def _day(value) -> object:
    """An activity's start (a moment) or a claim's date, as the school's calendar day."""
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


def withdrawals(bind: Session | Engine, transcript_id: int) -> tuple[Withdrawal, ...]:
    """The records withdrawn since the transcript was issued (it carried them certified)."""
    params = {"transcript_id": transcript_id}
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            rows = [*connection.execute(_WITHDRAWN_QUERY, params), *connection.execute(_WITHDRAWN_CLAIMS_QUERY, params)]
    else:  # a session: it sees its own writes not yet committed
        rows = [*bind.execute(_WITHDRAWN_QUERY, params), *bind.execute(_WITHDRAWN_CLAIMS_QUERY, params)]
    rows.sort(key=lambda row: row[3])
    return tuple(Withdrawal(title, _day(day), Decimal(hours), revoked_at, reason or "")
                 for title, day, hours, revoked_at, reason in rows)


def mask_student_no(number: str) -> str:
    """Enough to compare with the paper, too little to identify: 2023****01."""
    if len(number) <= 4:
        return "*" * len(number)
    keep = 4 if len(number) >= 10 else 2
    return number[:keep] + "*" * (len(number) - keep - 2) + number[-2:]


@dataclass(frozen=True)
class YearShown:
    """One academic year of a transcript's requirement, its grade in the reader's language."""

    year: str
    hours: Decimal
    grade: str  # excellent | pass | fail

    @property
    def label(self) -> str:
        return Grade(self.grade).label


@dataclass(frozen=True)
class RequirementShown:
    """The credit requirement a transcript carries, as the page and the JSON show it."""

    rules: str
    met: bool
    counted: Decimal
    required: Decimal
    years: tuple[YearShown, ...]
    years_required: int
    years_passed: int

    @classmethod
    def of(cls, q: credentials.Requirement) -> RequirementShown:
        return cls(q.rules, q.met, q.counted, q.required, tuple(YearShown(*y) for y in q.years),
                   q.years_required, q.years_passed)

    @property
    def verdict(self) -> str:
        if self.met:
            return _("Requirement met under rule set %(rules)s", rules=self.rules)
        return _("Requirement not met under rule set %(rules)s (counted %(counted)s of %(required)s h)",
                 rules=self.rules, counted=self.counted, required=self.required)

    def as_json(self) -> dict:
        return {"rules": self.rules, "met": self.met, "counted": float(self.counted),
                "required": float(self.required),
                "years": [{"year": y.year, "hours": float(y.hours), "grade": y.grade} for y in self.years],
                "years_required": self.years_required, "years_passed": self.years_passed}


@dataclass(frozen=True)
class TranscriptState:
    """The mutable facts of a transcript (its status), without the immutable snapshot."""

    id: int
    serial: str
    status: str
    digest: str
    key_id: str
    issued_at: object
    superseded_at: object
    revoked_at: object
    revoke_reason: str | None
    amended_at: object = None
    # How many carried records (activities and claims) were withdrawn since it was issued.
    withdrawn_count: int = 0
    # The holder's choice (services/holder): whether the public check shows the contents.
    public: bool = True
    public_until: object = None
    # The QR link it was issued with (signed by key_id then).
    link: str | None = None


@dataclass
class PublicView:
    """What the public may see of one transcript, asked for by its serial."""

    status: str                 # valid | superseded | amended | revoked | not_genuine
    serial: str
    transcript: TranscriptState
    snapshot: credentials.Snapshot
    link_ok: bool | None = None  # None when no signed link was presented
    reason: str = ""
    withdrawn: tuple[Withdrawal, ...] = ()
    # The public check is open (switched on, not lapsed); a live share link shows it all the same.
    open: bool = True
    shared: bool = False
    # What the checks found, for `steps`: the link verifier's code when a link was presented
    # (credentials.Verdict.code), what is wrong with the transcript's own key (None, "unknown_key"
    # or "key_revoked") and whether its issue date is still to come (the school's today).
    link_code: str | None = None
    key_problem: str | None = None
    issued_in_future: bool = False

    @property
    def closed(self) -> bool:
        """The holder has closed (or let lapse) the check: only status and serial may be shown."""
        return not (self.open or self.shared)

    @property
    def shows_record(self) -> bool:
        """Whether the page and the JSON may show the transcript's contents: not while the holder
        has closed the check, and never for a link whose signature fails (it proves nothing)."""
        return not self.closed and self.status != "not_genuine"

    @property
    def steps(self) -> tuple[Step, ...]:
        """The checks made, in order, each passed, failed or not checked with its reason in the
        reader's language (cert-verifier-js's steps). A closed check shows only its status step."""
        if self.closed:
            return (Step("status", None, closed_note()),)
        return steps_of(self)

    @property
    def public_until(self):
        return self.transcript.public_until

    @property
    def records(self) -> tuple:
        return self.snapshot.records

    @property
    def withdrawn_hours(self) -> Decimal:
        return sum((w.hours for w in self.withdrawn), Decimal("0"))

    @property
    def hours_still_certified(self) -> Decimal:
        return Decimal(self.snapshot.total_hours) - self.withdrawn_hours

    @property
    def withdrawn_rows(self) -> dict[int, Withdrawal]:
        """Which lines of the snapshot were withdrawn (by index), matched on activity, date, hours."""
        rows: dict[int, Withdrawal] = {}
        for withdrawal in self.withdrawn:
            for index, record in enumerate(self.snapshot.records):
                if index not in rows and (record.activity, record.date, Decimal(record.hours)) == (
                        withdrawal.activity, withdrawal.date, withdrawal.hours):
                    rows[index] = withdrawal
                    break
        return rows

    @property
    def record_rows(self) -> list[tuple[credentials.Record, Withdrawal | None]]:
        """The snapshot's records in order, each with its withdrawal or None (the page's rows)."""
        if not self.withdrawn:
            return [(record, None) for record in self.snapshot.records]
        rows = self.withdrawn_rows
        return [(record, rows.get(index)) for index, record in enumerate(self.snapshot.records)]

    @property
    def student_no_masked(self) -> str:
        return mask_student_no(self.snapshot.student_no)

    @property
    def module_names(self) -> dict[str, tuple[str, str]]:
        """The snapshot's modules as (zh, en), the names it was issued with (for `pick`)."""
        return {key: (zh, en) for key, zh, en in self.snapshot.modules}

    @property
    def requirement(self) -> RequirementShown | None:
        """The credit requirement the snapshot carries; None for one issued without rules."""
        q = self.snapshot.requirement
        return None if q is None else RequirementShown.of(q)

    @property
    def requirement_json(self) -> dict | None:
        q = self.requirement
        return None if q is None else q.as_json()

    @property
    def version(self) -> tuple:
        """Everything the page shows that can change; the snapshot itself never does."""
        t = self.transcript
        return (t.serial, t.digest, self.status, t.superseded_at, t.revoked_at, t.revoke_reason,
                t.amended_at, self.withdrawn, self.link_ok, self.reason,
                # closing, reopening or re-dating changes the key at once (and so does lapsing:
                # `open` is computed per request from the school's today)
                self.open, self.shared, t.public_until,
                # the steps' inputs (the issue date stops being in the future at midnight)
                self.link_code, self.key_problem, self.issued_in_future)


# Keyed by the snapshot digest (or the exact link and key set): immutable, so never stale.
_snapshots = LRU(512)
_link_verdicts = LRU(2048)
_T = Transcript.__table__.c
_carried = TranscriptRecord.__table__.c
_record = Participation.__table__.c


# How many of the records and claims a transcript carries were withdrawn since it was issued.
_records_withdrawn = (
    select(func.count())
    .select_from(TranscriptRecord.__table__.join(Participation.__table__, _record.id == _carried.participation_id))
    .where(_carried.transcript_id == _T.id, _record.status == ParticipationStatus.REVOKED.value)
    .scalar_subquery()
)
_claims_withdrawn = (
    select(func.count())
    .select_from(TranscriptClaim.__table__.join(Claim.__table__, _claim.id == _carried_claim.claim_id))
    .where(_carried_claim.transcript_id == _T.id, _claim.status == ClaimStatus.REVOKED.value)
    .scalar_subquery()
)
# One statement by the unique serial, as every verification's: the status, the holder's choice,
# the withdrawals' count (their rows are read only when there are some) and the snapshot.
_STATE_QUERY = select(
    _T.id, _T.serial, _T.status, _T.digest, _T.key_id, _T.issued_at, _T.superseded_at, _T.revoked_at,
    _T.revoke_reason, _T.amended_at, _records_withdrawn + _claims_withdrawn, _T.public, _T.public_until,
    _T.link, _T.snapshot,
).where(_T.serial == bindparam("serial"))


def _engine(bind: Session | Engine) -> Engine:
    return bind if isinstance(bind, Engine) else bind.get_bind()


def transcript_state(bind: Session | Engine, serial: str) -> tuple[TranscriptState, str]:
    """(its state, the snapshot's stored text) in one indexed lookup through Core: the hot path
    of every verification."""
    with _engine(bind).connect() as connection:
        row = connection.execute(_STATE_QUERY, {"serial": normalize_serial(serial)}).first()
    if row is None:
        raise NotFound(_("No transcript with this serial"))
    *columns, public, public_until, link, snapshot = row
    return TranscriptState(*columns, public=bool(public), public_until=public_until, link=link), snapshot


def _snapshot_of(state: TranscriptState, text: str) -> credentials.Snapshot:
    """The snapshot we stored and signed: its bytes are checked against the digest, not parsed
    strictly again (credentials.snapshot_of_digest)."""
    snapshot = _snapshots.get(state.digest)
    if snapshot is None:
        snapshot = credentials.snapshot_of_digest(text.encode("utf-8"), state.digest)
        _snapshots.put(state.digest, snapshot)
    return snapshot


_ring_seen: dict[str, tuple[float, credentials.KeyRing]] = {}
# How long a verifier trusts the key ring it read; a rotation or a removed key shows after this.
RING_RECHECK_SECONDS = 1.0


def verification_ring(kid: str | None = None) -> credentials.KeyRing:
    """The key ring, re-read at most once a second, or at once for a key id it lacks."""
    directory = current_app.config["SIGNING_KEY_DIR"]
    seen = _ring_seen.get(directory)
    now = time.monotonic()
    stale = seen is None or now - seen[0] > RING_RECHECK_SECONDS
    if stale or (kid is not None and seen[1].get(kid) is None):
        seen = (now, keyring())
        _ring_seen[directory] = seen
    return seen[1]


def forget_keyring() -> None:
    """Read the key ring afresh on the next verification (this process: a revocation shows at
    once; other processes see it within RING_RECHECK_SECONDS)."""
    _ring_seen.clear()


def key_revoked_reason(ring: credentials.KeyRing, key_id: str, issued_at) -> str | None:
    """Why a transcript no longer verifies because its key was revoked on or before its issue
    date (the school's local date), or None."""
    revoked = ring.revoked_from(key_id)
    if revoked is None or to_local(issued_at).date() < revoked:
        return None
    return _("The school revoked the key that signed it from %(day)s", day=revoked.isoformat())


def _check_link(link: str, state: TranscriptState) -> tuple[bool, str, str]:
    """(genuine, reason, the verifier's code) of a presented link, for this transcript."""
    ring = verification_ring(state.key_id)
    if link == state.link and ring.get(state.key_id) is not None:
        # The very link we issued, signed by key_id, which is still ours: what checking its
        # signature again would find (a revoked key is the status's business, in public_view).
        return True, "", "genuine"
    key = (link, state.digest, state.serial, tuple(k.kid for k in ring.keys), tuple(sorted(ring.revocations.items())))
    cached = _link_verdicts.get(key)
    if cached is None:
        verdict = credentials.verify_link(link, ring.public_keys(), expected_digest=state.digest)
        if verdict.genuine and verdict.serial != state.serial:
            cached = (False, "link names another serial", "wrong_serial")
        else:
            cached = (verdict.genuine, "" if verdict.genuine else verdict.reason, verdict.code)
        _link_verdicts.put(key, cached)
    return cached


def public_view(bind: Session | Engine, serial: str, link: str | None = None, *,
                shared: bool = False) -> PublicView:
    """The verification page's answer; a presented QR link must check out against our keys.

    It reads through Core only, so the fast path can pass the engine and skip the session.
    `shared`: asked through a live share link (services/holder.shared_serial), which shows the
    contents even while the holder has closed the public check.
    """
    state, text = transcript_state(bind, serial)
    view = PublicView(state.status, state.serial, state, _snapshot_of(state, text),
                      open=holder.is_open(state.public, state.public_until), shared=shared)
    ring = verification_ring(state.key_id)
    revoked_key = key_revoked_reason(ring, state.key_id, state.issued_at)
    if revoked_key is not None:
        view.status, view.reason = TranscriptStatus.REVOKED.value, revoked_key
        view.key_problem = "key_revoked"
    elif ring.get(state.key_id) is None:
        view.key_problem = "unknown_key"
    view.issued_in_future = view.snapshot.issued_on > to_local(utcnow()).date()
    if state.withdrawn_count:
        # A revocation that raced the issue (it committed first) left it valid: still amended.
        if view.status == TranscriptStatus.VALID:
            view.status = TranscriptStatus.AMENDED.value
        view.withdrawn = withdrawals(bind, state.id)
    if link is not None:
        view.link_ok, reason, view.link_code = _check_link(link, state)
        if not view.link_ok:
            view.status, view.reason = "not_genuine", reason
    return view


def closed_note() -> str:
    """What a closed check says, in the reader's language (the page says the same)."""
    return _("The holder has closed the public check of this transcript.")
