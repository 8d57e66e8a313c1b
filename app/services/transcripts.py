"""Issue, revoke and verify transcripts; `credentials` signs and renders, we store and decide."""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, undefer

import credentials
import credentials.certificate as cert_files
import credentials.vc
from app import i18n, permissions
from app.models import (
    Activity,
    Claim,
    ClaimStatus,
    Club,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    Transcript,
    TranscriptClaim,
    TranscriptRecord,
    TranscriptStatus,
    User,
)
from app.services.accounts import student_by_number
from app.services.audit import append_event
from app.services.claims import certified_claims
from app.services.errors import Conflict, Forbidden, NotFound, checked_reason
from app.services.modules import module_list
from app.services.notifications import notify
from app.services.progress import arithmetic_for
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import to_local, utcnow

# Easy to read aloud and type: no 0/O, 1/I; 18 symbols of 5 bits = 90 bits of randomness.
SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIAL_SYMBOLS = 18
# How long a new transcript's public check stays open (CHSI's online reports' default); services/holder extends it.
PUBLIC_VALIDITY = timedelta(days=180)


def new_serial() -> str:
    symbols = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(SERIAL_SYMBOLS))
    return "-".join(symbols[i : i + 6] for i in range(0, SERIAL_SYMBOLS, 6))


# Random picks of a free status list position before giving up; each is free with probability ≥ ½
# (a list is filled to half at most), so 40 misses in a row are a 1 in 10¹² event.
_STATUS_PICKS = 40


def new_status_index(session: Session) -> int:
    """A free position for a new transcript, at random within the current list.

    Random, as the Bitstring Status List spec advises, so a position says nothing about when the
    transcript was issued. A list takes new transcripts until half of its positions are used, so
    a random pick is free at least half the time. Two issues picking the same position at once
    clash on the unique constraint, which `issue_transcript` answers as "try again".

    How many transcripts there are is read as the highest id: one index probe where a count
    scans the table on every issue, and never below the count, so a list still takes at most
    half its positions (a gap in the ids only moves on to the next list sooner).
    """
    issued = session.execute(select(func.coalesce(func.max(Transcript.id), 0))).scalar_one()
    first = (issued // (credentials.vc.LIST_SIZE // 2)) * credentials.vc.LIST_SIZE
    for _attempt in range(_STATUS_PICKS):
        index = first + secrets.randbelow(credentials.vc.LIST_SIZE)
        taken = session.execute(
            select(Transcript.id).where(Transcript.status_list_index == index)).first()
        if taken is None:
            return index
    raise RuntimeError("no free status list position found")  # pragma: no cover — see _STATUS_PICKS


def normalize_serial(text: str) -> str:
    """What a person types: any case, spaces; O→0 would be wrong so only case and blanks."""
    return "".join(text.split()).upper()


def keyring(create: bool = False) -> credentials.KeyRing:
    directory = current_app.config["SIGNING_KEY_DIR"]
    try:
        return credentials.get_keyring(directory, create=create)
    except (FileNotFoundError, ValueError):
        raise Conflict(_("No signing key: run `%(command)s`", command="flask --app app keys generate")) from None


_certificates: dict[tuple, credentials.SchoolCertificate] = {}


def _file_state(*paths: str) -> tuple:
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            out.append((p, None))
        else:
            out.append((p, st.st_mtime_ns, st.st_size))
    return tuple(out)


def school_certificate() -> credentials.SchoolCertificate:
    """The certificate the transcripts' PDF signature is made with: SIGNING_CERT (a PEM chain with
    SIGNING_CERT_KEY, or PKCS#12 with SIGNING_CERT_PASSWORD), else the self-signed school certificate
    under SIGNING_KEY_DIR (made on first use, as `keys generate` does). Read once per file change."""
    cfg = current_app.config
    path = cfg.get("SIGNING_CERT") or ""
    if path:
        key_path = cfg.get("SIGNING_CERT_KEY") or ""
        state = _file_state(path, key_path) if key_path else _file_state(path)
        found = _certificates.get(state)
        if found is None:
            try:
                found = credentials.load_school_certificate(path, key_path or None,
                                                            cfg.get("SIGNING_CERT_PASSWORD") or None)
            except (OSError, ValueError) as error:
                raise Conflict(_("The signing certificate cannot be used: %(error)s", error=str(error))) from None
            _certificates[state] = found
        return found
    directory = cfg["SIGNING_KEY_DIR"]
    local = os.path.join(directory, cert_files.CERT_SUBDIR)
    state = _file_state(os.path.join(local, cert_files.CHAIN_FILE), os.path.join(local, cert_files.KEY_FILE))
    found = _certificates.get(state)
    if found is None:
        found = credentials.generate_school_certificate(directory, cfg["INSTITUTION_NAME"])
        _certificates[_file_state(*(p for p, *_rest in state))] = found
    return found


def trust_roots() -> tuple:
    """The roots a transcript's PDF signature must chain to: the school certificate's, and the
    self-signed one under SIGNING_KEY_DIR when a bought certificate replaced it (older files)."""
    roots = list(school_certificate().roots)
    local = os.path.join(current_app.config["SIGNING_KEY_DIR"], cert_files.CERT_SUBDIR, cert_files.ROOT_FILE)
    if current_app.config.get("SIGNING_CERT") and os.path.exists(local):
        roots += [r for r in credentials.load_roots(local) if r not in roots]
    return tuple(roots)


@functools.cache
def pdf_translator() -> credentials.Translator:
    """The Chinese of the transcript's labels: the compiled zh_CN catalog, read once."""
    return i18n.catalog("zh_CN").gettext


class CarriedRecord(NamedTuple):
    """What a transcript carries of one certified record: read as plain columns, not as three
    ORM objects per record (a graduation batch reads ~33 records a student, 30,000 students)."""

    id: int
    student_id: int
    starts_at: datetime
    title: str
    club: str
    module: str
    level: str
    role: str
    hours: Decimal
    award: str | None
    certified_by: str | None
    certified_at: datetime | None


def carried_records(session: Session, student_ids: list[int]) -> dict[int, list[CarriedRecord]]:
    """Each student's certified records in the transcript's order (by the activity's start)."""
    certifier = aliased(User)
    rows = session.execute(
        select(Participation.id, Participation.student_id, Activity.starts_at, Activity.title, Club.name,
               Activity.module, Activity.level, Participation.role, Participation.hours, Participation.award,
               certifier.display_name, Participation.certified_at)
        .join(Activity, Activity.id == Participation.activity_id)
        .join(Club, Club.id == Activity.club_id)
        .outerjoin(certifier, certifier.id == Participation.certified_by_id)
        .where(Participation.student_id.in_(student_ids), Participation.status == ParticipationStatus.CERTIFIED)
        .order_by(Activity.starts_at, Participation.id))
    found: dict[int, list[CarriedRecord]] = defaultdict(list)
    for row in rows:
        found[row[1]].append(CarriedRecord(*row))
    return found


def _certified_records(session: Session, student: User) -> list[CarriedRecord]:
    return carried_records(session, [student.id]).get(student.id, [])


def _claim_record(claim: Claim) -> credentials.Record:
    """A certified claim on the transcript: no club; the reviewer certified it."""
    return credentials.Record(
        date=claim.occurred_on, activity=claim.title, club="", module=claim.module, level=claim.level,
        role=ParticipationRole.AWARDEE if claim.award else ParticipationRole.PARTICIPANT,
        hours=Decimal(claim.hours), award=claim.award,
        certified_by=claim.reviewed_by.display_name if claim.reviewed_by else "",
        certified_at=to_local(claim.reviewed_at) if claim.reviewed_at else None, source=credentials.CLAIM,
    )


def snapshot_modules(session: Session) -> tuple[tuple[str, str, str], ...]:
    """The office's module list as the snapshot carries it (key, zh, en), in display order."""
    return tuple((m.key, m.name_zh, m.name_en) for m in module_list(session))


def snapshot_requirement(session: Session, student: User) -> credentials.Requirement | None:
    """The credit rules' verdict at issue time, under the cohort's rules in force; None when the
    student's cohort has no rules. The years are the arithmetic's under those rules, as the
    student's progress page shows them."""
    rules, r = arithmetic_for(session, student)  # the year grades recorded are not on it
    if rules is None:
        return None
    return credentials.Requirement(
        rules=rules.name, met=r.met, counted=r.counted, required=r.required,
        years=tuple((year, hours, grade) for year, (hours, grade) in r.years.items()),
        years_required=r.years_required, years_passed=r.years_passed)


def build_snapshot(student: User, records: list[CarriedRecord], serial: str, issued_at,
                   claims: list[Claim] = (), *,
                   modules: tuple[tuple[str, str, str], ...] = credentials.MODULES,
                   requirement: credentials.Requirement | None = None) -> credentials.Snapshot:
    return credentials.Snapshot(
        institution=current_app.config["INSTITUTION_NAME"],
        serial=serial,
        issued_at=to_local(issued_at),
        student_name=student.display_name,
        student_no=student.student_no,
        unit=student.unit.name if student.unit else "",
        school_class=student.school_class.name if student.school_class else "",
        records=tuple(
            credentials.Record(
                date=to_local(p.starts_at).date(),
                activity=p.title,
                club=p.club,
                module=p.module,
                level=p.level,
                role=p.role,
                hours=Decimal(p.hours),
                award=p.award,
                certified_by=p.certified_by or "",
                certified_at=to_local(p.certified_at),
            )
            for p in records
        ) + tuple(_claim_record(c) for c in claims),
        modules=modules,
        requirement=requirement,
    )


def issue_transcript(session: Session, actor: User | None, student_no: str) -> Transcript:
    """The student's transcript: a new one (superseding the earlier), or, when nothing it would
    carry changed since the current one, that one unchanged (see `issue_or_current`)."""
    return issue_or_current(session, actor, student_no)[0]


def issue_or_current(session: Session, actor: User | None, student_no: str) -> tuple[Transcript, bool]:
    """(transcript, whether it is new). Issuing again when nothing changed — the same records and
    claims, module names, requirement, name, unit, class, institution — returns the current
    transcript as it is: no new serial, nothing superseded, no audit event, so the copy already
    sent stays the valid one. Anything changed issues a new one that supersedes it."""
    # The unit and class go on the snapshot and the class's cohort picks the rules: read with the student.
    student = student_by_number(session, student_no, options=(joinedload(User.unit), joinedload(User.school_class)))
    if not permissions.can_issue_transcript(actor, student):
        raise Forbidden(_("Only the student or the admin issues it"))
    # Lock the student's row so two simultaneous issues queue rather than both stay valid.
    lock_row(session, User, student.id)
    records = _certified_records(session, student)
    claims = certified_claims(session, student.id)
    if not records and not claims:
        raise Conflict(_("No certified record to put on a transcript"))
    ring = keyring()
    issued_at = utcnow().replace(microsecond=0)
    if ring.revoked_from(ring.active.kid) is not None:
        # A compromised key signs nothing more, whatever the revocation's date.
        raise Conflict(_("The signing key is revoked: run `%(command)s` first", command="flask --app app keys rotate"))
    modules, requirement = snapshot_modules(session), snapshot_requirement(session, student)
    # What a new one supersedes, newest first; the current one is the newest valid among them.
    earlier = list(session.execute(
        select(Transcript).where(Transcript.student_id == student.id,
                                 Transcript.status.in_((TranscriptStatus.VALID, TranscriptStatus.AMENDED)))
        .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
    ).scalars())
    current = next((t for t in earlier if t.status == TranscriptStatus.VALID), None)
    if current is not None and ring.revoked_from(current.key_id) is None:
        # The snapshot a new one would carry, under the current one's serial and issue time.
        same = build_snapshot(student, records, current.serial, current.issued_at, claims, modules=modules,
                              requirement=requirement)
        if credentials.canonical_bytes(same).decode("utf-8") == current.snapshot:
            return current, False
    serial = new_serial()
    snapshot = build_snapshot(student, records, serial, issued_at, claims, modules=modules,
                              requirement=requirement)
    digest = credentials.snapshot_digest(snapshot)
    link = credentials.make_link(current_app.config["PUBLIC_BASE_URL"], serial, digest, snapshot.issued_at, ring.active)
    pdf = credentials.render_pdf(snapshot, link, ring.active, zh=pdf_translator(), certificate=school_certificate(),
                                 tsa_url=current_app.config.get("TSA_URL") or None)
    transcript = Transcript(
        serial=serial, student_id=student.id, issued_at=issued_at,
        issued_by_id=actor.id if actor else None,
        snapshot=credentials.canonical_bytes(snapshot).decode("utf-8"), digest=digest,
        key_id=ring.active.kid, link=link, pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        record_count=len(records) + len(claims), total_hours=snapshot.total_hours, status=TranscriptStatus.VALID,
        status_list_index=new_status_index(session),
        # The holder's public check opens for the default validity (services/holder).
        public=True, public_until=to_local(issued_at).date() + PUBLIC_VALIDITY,
    )
    for old in earlier:
        old.status = TranscriptStatus.SUPERSEDED
        old.superseded_at = issued_at
    session.flush()
    # A concurrent issue may take the same serial or status-list position first: a 409 to try
    # again, not a 500, and nothing of this one stays.
    try:
        session.add(transcript)
        session.flush()
        # Which records it carries, so a later withdrawal finds every transcript it must amend.
        session.add_all(TranscriptRecord(transcript_id=transcript.id, participation_id=p.id) for p in records)
        session.add_all(TranscriptClaim(transcript_id=transcript.id, claim_id=c.id) for c in claims)
        for old in earlier:
            old.superseded_by_id = transcript.id
            append_event(session, actor, "transcript.supersede", "transcript", old.serial,
                         {"by": transcript.serial})
        append_event(session, actor, "transcript.issue", "transcript", serial, {
            "student_no": student.student_no, "digest": digest, "key_id": ring.active.kid,
            "pdf_sha256": transcript.pdf_sha256, "records": len(records), "claims": len(claims),
        })
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("Another issue was in progress; try again")) from None
    return transcript, True


def get_transcript(session: Session, serial: str, *, with_pdf: bool = False) -> Transcript:
    query = select(Transcript).where(Transcript.serial == normalize_serial(serial))
    if with_pdf:
        query = query.options(undefer(Transcript.pdf))
    transcript = session.execute(query).scalar_one_or_none()
    if transcript is None:
        raise NotFound(_("No transcript with this serial"))
    return transcript


def transcript_pdf(session: Session, actor: User | None, serial: str) -> Transcript:
    transcript = get_transcript(session, serial, with_pdf=True)
    if not permissions.can_issue_transcript(actor, transcript.student):
        raise Forbidden(_("Only the student or the admin downloads it"))
    return transcript


def list_transcripts(session: Session, actor: User | None, student_no: str) -> list[Transcript]:
    # The unit and class go on the snapshot and the class's cohort picks the rules: read with the student.
    student = student_by_number(session, student_no, options=(joinedload(User.unit), joinedload(User.school_class)))
    if not permissions.can_issue_transcript(actor, student):
        raise Forbidden(_("You may not see these transcripts"))
    return list(session.execute(
        select(Transcript).where(Transcript.student_id == student.id)
        .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
    ).scalars())


def amend_for_withdrawal(session: Session, actor: User | None, record: Participation) -> list[Transcript]:
    """A certified record was revoked: every valid transcript carrying it becomes amended.

    Superseded and revoked ones keep their status; their verification lists the withdrawal
    anyway (see `withdrawals`). Called by `participations.revoke` inside the same flush.
    """
    carrying = list(session.execute(
        select(Transcript).join(TranscriptRecord, TranscriptRecord.transcript_id == Transcript.id)
        .where(TranscriptRecord.participation_id == record.id,
               Transcript.status == TranscriptStatus.VALID)
    ).scalars())
    actor = acting(session, actor)
    for transcript in carrying:
        transcript.status = TranscriptStatus.AMENDED
        transcript.amended_at = transcript.amended_at or record.revoked_at or utcnow()
        append_event(session, actor, "transcript.amend", "transcript", transcript.serial, {
            "participation_id": record.id, "hours": str(record.hours), "reason": record.revoke_reason,
        })
        notify(session, transcript.student_id, "transcript.amended", link="/me", serial=transcript.serial)
    session.flush()
    return carrying


def revoke_transcript(session: Session, actor: User | None, serial: str, reason: str) -> Transcript:
    if not permissions.can_revoke_transcript(actor):
        raise Forbidden(_("Only the admin revokes transcripts"))
    reason = checked_reason(reason)
    transcript = get_transcript(session, serial)
    lock_row(session, Transcript, transcript.id)
    session.refresh(transcript)
    if transcript.status == TranscriptStatus.REVOKED:
        raise Conflict(_("Already revoked"))
    transcript.status = TranscriptStatus.REVOKED
    transcript.revoked_at = utcnow()
    transcript.revoked_by_id = actor.id if actor else None
    transcript.revoke_reason = reason
    append_event(session, actor, "transcript.revoke", "transcript", transcript.serial, {"reason": reason})
    session.flush()
    return transcript


# ---- public verification ------------------------------------------------------------------

def students_to_issue(session: Session, unit_code: str | None, term: str | None) -> list[str]:
    """Student numbers with certified records (in the term, if given) for a batch issue."""
    from app.models import Unit

    query = (
        select(User.student_no).distinct()
        .join(Participation, Participation.student_id == User.id)
        .join(Activity, Activity.id == Participation.activity_id)
        .where(Participation.status == ParticipationStatus.CERTIFIED)
    )
    if unit_code:
        query = query.join(Unit, Unit.id == User.unit_id).where(Unit.code == unit_code)
    if term:
        query = query.where(Activity.term == term)
    numbers = set(session.execute(query).scalars())
    if not term:  # a claim belongs to no term of the club calendar; the whole-school batch takes it
        claimed = select(User.student_no).join(Claim, Claim.student_id == User.id).where(
            Claim.status == ClaimStatus.CERTIFIED)
        if unit_code:
            claimed = claimed.join(Unit, Unit.id == User.unit_id).where(Unit.code == unit_code)
        numbers |= set(session.execute(claimed).scalars())
    return sorted(numbers)
