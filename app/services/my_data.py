"""My data (PIPL, the right to a copy): everything the record keeps about one student, as one ZIP.

The archive holds, in this order: README.txt (what each file is, in Chinese and English, from the
catalog), profile.json, records.json and records.csv (every participation, with its reasons),
registrations.json, claims.json and each evidence file as `claims/<id>/<n>-<name>`,
appeals.json, notifications.json, transcripts.json and each issued PDF as
`transcripts/<serial>.pdf`. Rows are in id order and every entry carries the export's time, so
the same data exported at the same moment gives the same bytes. Times are ISO 8601 in the
school's time zone, with their offset.

Only the student themself or the admin exports it (`permissions.can_export_student_data`);
anyone else is refused before learning whether the number exists. Each export is audited
(`student.export`, with the archive's SHA-256) — it is the largest disclosure the system makes.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload, undefer

from app import permissions
from app.i18n import BABEL_LOCALES
from app.models import (
    Activity,
    Appeal,
    Claim,
    Membership,
    Notification,
    Participation,
    Registration,
    Role,
    Transcript,
    User,
    club_leader,
)
from app.models.clubs import Club
from app.services import evidence, exports
from app.services.audit import append_event
from app.services.errors import Forbidden, NotFound
from app.services.notifications import text_of
from app.timeutil import to_local, utcnow

ACTION = "student.export"


def _when(moment: datetime | None) -> str | None:
    return to_local(moment).isoformat() if moment else None


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.1f}"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=_plain) + "\n").encode("utf-8")


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def _safe_part(name: str) -> str:
    """An archive member's last part: no folder, no way out of its folder."""
    cleaned = name.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip(". ")
    return cleaned or "file"


# ---- what the record keeps --------------------------------------------------------------------

def _profile(session: Session, student: User) -> dict:
    leads = session.execute(
        select(club_leader.c.term, club_leader.c.appointed_at, club_leader.c.ended_at, Club.name)
        .join(Club, Club.id == club_leader.c.club_id)
        .where(club_leader.c.user_id == student.id).order_by(club_leader.c.id)
    ).all()
    memberships = session.execute(
        select(Membership).where(Membership.user_id == student.id)
        .options(joinedload(Membership.club)).order_by(Membership.id)
    ).scalars()
    school_class = student.school_class
    return {
        "name": student.display_name,
        "student_no": student.student_no,
        "username": student.username,
        "unit": {"code": student.unit.code, "name": student.unit.name} if student.unit else None,
        "class": {"name": school_class.name, "cohort": school_class.cohort} if school_class else None,
        "email": student.email,
        "roles": [{"role": student.role, "label": Role(student.role).label}],
        "club_leader": [{"club": club, "term": term, "appointed_at": appointed, "ended_at": ended}
                        for term, appointed, ended, club in leads],
        "memberships": [{"club": m.club.name, "term": m.term, "role": m.role, "joined_on": m.joined_on,
                         "elected_on": m.elected_on} for m in memberships],
        "active": student.active,
        "locale": student.locale,
        "created_at": student.created_at,
    }


def _participations(session: Session, student: User) -> list[Participation]:
    return list(session.execute(
        select(Participation).where(Participation.student_id == student.id)
        .options(joinedload(Participation.activity).joinedload(Activity.club),
                 joinedload(Participation.certified_by))
        .order_by(Participation.id)
    ).scalars())


def _record(r: Participation) -> dict:
    a = r.activity
    return {
        "id": r.id,
        "activity": {"id": a.id, "title": a.title, "starts_at": a.starts_at, "ends_at": a.ends_at,
                     "term": a.term, "location": a.location},
        "club": a.club.name,
        "module": a.module, "module_label": a.module_label,
        "level": a.level, "level_label": a.level_label,
        "role": r.role, "role_label": r.role_label,
        "hours": r.hours,
        "award": r.award,
        "status": r.status, "status_label": r.status_label,
        "source": r.source, "source_label": r.source_label,
        "recorded_at": r.recorded_at,
        "checked_in_at": r.checked_in_at,
        "checked_out_at": r.checked_out_at,
        "certified_by": _name(r.certified_by),
        "certified_at": r.certified_at,
        "certify_note": r.certify_note,
        "hours_reason": r.hours_reason,
        "late_entry_reason": r.late_entry_reason,
        "rejected_at": r.rejected_at,
        "reject_reason": r.reject_reason,
        "revoked_at": r.revoked_at,
        "revoke_reason": r.revoke_reason,
    }


def _records_csv(records: list[Participation]) -> bytes:
    rows = []
    for r in records:
        a = r.activity
        reasons = "; ".join(text for text in (r.certify_note, r.hours_reason, r.late_entry_reason,
                                              r.reject_reason, r.revoke_reason) if text)
        rows.append([
            r.id, a.title, a.club.name, a.module_label, a.level_label,
            _when(a.starts_at), _when(a.ends_at), r.role_label, _plain(r.hours), r.award,
            r.status_label, _name(r.certified_by), _when(r.certified_at), reasons,
        ])
    headers = [_("Record no."), _("Activity"), _("Club"), _("Module"), _("Level"), _("Starts"), _("Ends"),
               _("Role"), _("Hours"), _("Award"), _("Status"), _("Certified by"), _("Certified at"),
               _("Reasons")]
    return exports.to_csv(exports.Table(_("Participation records"), headers, rows, "records"))


def _registrations(session: Session, student: User) -> list[dict]:
    rows = session.execute(
        select(Registration).where(Registration.student_id == student.id)
        .options(joinedload(Registration.activity).joinedload(Activity.club)).order_by(Registration.id)
    ).scalars()
    return [{
        "id": g.id,
        "activity": {"id": g.activity.id, "title": g.activity.title, "club": g.activity.club.name,
                     "starts_at": g.activity.starts_at},
        "status": g.status, "status_label": g.status_label,
        "created_at": g.created_at, "promoted_at": g.promoted_at, "cancelled_at": g.cancelled_at,
    } for g in rows]


def _claims(session: Session, student: User) -> list[Claim]:
    return list(session.execute(
        select(Claim).where(Claim.student_id == student.id)
        .options(selectinload(Claim.files), joinedload(Claim.reviewed_by)).order_by(Claim.id)
    ).scalars())


def _evidence_path(claim: Claim, stored) -> str:
    return f"claims/{claim.id}/{stored.position}-{_safe_part(stored.name)}"


def _claim(c: Claim, missing: set[str]) -> dict:
    return {
        "id": c.id, "title": c.title,
        "module": c.module, "module_label": c.module_label,
        "level": c.level, "level_label": c.level_label,
        "occurred_on": c.occurred_on, "hours": c.hours, "award": c.award, "description": c.description,
        "status": c.status, "status_label": c.status_label,
        "submitted_at": c.submitted_at, "reviewed_at": c.reviewed_at, "reviewed_by": _name(c.reviewed_by),
        "reason": c.reason, "revoked_at": c.revoked_at, "revoke_reason": c.revoke_reason,
        "files": [{
            "position": f.position, "name": f.name, "media_type": f.media_type, "size": f.size,
            "sha256": f.sha256,
            # None: the stored bytes could not be read (the list still says what was sent).
            "path": None if f.sha256 in missing else _evidence_path(c, f),
        } for f in c.files],
    }


def _appeals(session: Session, student: User) -> list[dict]:
    rows = session.execute(
        select(Appeal).where(Appeal.student_id == student.id)
        .options(joinedload(Appeal.participation).joinedload(Participation.activity), joinedload(Appeal.claim),
                 joinedload(Appeal.activity), joinedload(Appeal.resolved_by))
        .order_by(Appeal.id)
    ).scalars()
    out = []
    for a in rows:
        if a.claim is not None:
            about = {"type": "claim", "id": a.claim_id, "title": a.claim.title}
        elif a.participation is not None:
            about = {"type": "participation", "id": a.participation_id, "title": a.participation.activity.title}
        else:
            about = {"type": "activity", "id": a.activity_id, "title": a.activity.title}
        out.append({
            "id": a.id, "about": about, "reason": a.reason,
            "status": a.status, "status_label": a.status_label,
            "created_at": a.created_at, "resolved_at": a.resolved_at, "resolved_by": _name(a.resolved_by),
            "resolution": a.resolution, "result_participation_id": a.result_participation_id,
        })
    return out


def _notifications(session: Session, student: User) -> list[dict]:
    rows = session.execute(
        select(Notification).where(Notification.user_id == student.id).order_by(Notification.id)
    ).scalars()
    out = []
    for n in rows:
        title, body = text_of(n)
        out.append({"id": n.id, "kind": n.kind, "title": title, "body": body, "params": n.params or {},
                    "link": n.link, "created_at": n.created_at, "read_at": n.read_at, "emailed_at": n.emailed_at})
    return out


def _transcripts(session: Session, student: User) -> list[Transcript]:
    return list(session.execute(
        select(Transcript).where(Transcript.student_id == student.id)
        .options(undefer(Transcript.pdf)).order_by(Transcript.id)
    ).scalars())


def _transcript(t: Transcript) -> dict:
    return {
        "serial": t.serial, "status": t.status, "issued_at": t.issued_at,
        "record_count": t.record_count, "total_hours": t.total_hours,
        "digest": t.digest, "pdf_sha256": t.pdf_sha256, "link": t.link,
        "superseded_at": t.superseded_at, "amended_at": t.amended_at,
        "revoked_at": t.revoked_at, "revoke_reason": t.revoke_reason,
        "path": f"transcripts/{_safe_part(t.serial)}.pdf",
    }


def _readme_in_language(student: User, exported_at: datetime) -> str:
    lines = [
        _("Second Transcript: all the data kept about %(name)s (student no. %(student_no)s), exported %(at)s.",
          name=student.display_name, student_no=student.student_no, at=_when(exported_at)),
        "",
        _("profile.json: your account: name, student number, unit, class, e-mail, role, club posts and "
          "memberships, when the account was created."),
        _("records.json, records.csv: every participation record: activity, club, module, level, dates, role, "
          "hours, award, status, who certified it and when, and every reason given (the CSV opens in Excel)."),
        _("registrations.json: your sign-ups for activities, with the waiting list and withdrawals."),
        _("claims.json: your achievement claims and their review; claims/<id>/ holds the evidence files you sent."),
        _("appeals.json: your appeals and how they were resolved."),
        _("notifications.json: the notifications sent to you."),
        _("transcripts.json: every transcript issued to you and its status; transcripts/ holds their PDF files."),
        "",
        _("Times are ISO 8601 in the school's time zone. Codes such as module or status come with their label."),
        _("Something wrong? Appeal it from your records page, or ask the Youth League office."),
    ]
    return "\n".join(lines)


def _readme(student: User, exported_at: datetime) -> bytes:
    parts = []
    for language in ("zh_CN", "en"):
        with force_locale(BABEL_LOCALES[language]):
            parts.append(_readme_in_language(student, exported_at))
    return ("\n\n----\n\n".join(parts) + "\n").encode("utf-8")


# ---- the archive ------------------------------------------------------------------------------

def _student(session: Session, actor: User | None, student_no: str) -> User:
    """The student, if the actor may export their data; others learn nothing of the number."""
    student = session.execute(select(User).where(User.student_no == student_no)).scalar_one_or_none()
    if student is None or not student.is_student:
        if permissions.is_admin(actor):
            raise NotFound(_("No student with number %(no)s", no=student_no))
        student = None
    if student is None or not permissions.can_export_student_data(actor, student):
        raise Forbidden(_("Only the student or the admin downloads a student's data"))
    return student


def export_archive(session: Session, actor: User | None, student_no: str) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of everything kept about the student; audited, flushed."""
    student = _student(session, actor, student_no)
    now = utcnow()
    stamp = to_local(now).replace(tzinfo=None).timetuple()[:6]
    records = _participations(session, student)
    claims = _claims(session, student)
    transcripts = _transcripts(session, student)
    evidence_files: list[tuple[str, bytes]] = []
    missing: set[str] = set()
    for claim in claims:
        for stored in claim.files:
            try:
                evidence_files.append((_evidence_path(claim, stored), evidence.read(stored.sha256)))
            except OSError:
                missing.add(stored.sha256)
    members: list[tuple[str, bytes]] = [
        ("README.txt", _readme(student, now)),
        ("profile.json", _json(_profile(session, student))),
        ("records.json", _json([_record(r) for r in records])),
        ("records.csv", _records_csv(records)),
        ("registrations.json", _json(_registrations(session, student))),
        ("claims.json", _json([_claim(c, missing) for c in claims])),
        *evidence_files,
        ("appeals.json", _json(_appeals(session, student))),
        ("notifications.json", _json(_notifications(session, student))),
        ("transcripts.json", _json([_transcript(t) for t in transcripts])),
        *((f"transcripts/{_safe_part(t.serial)}.pdf", t.pdf) for t in transcripts),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = 0o640 << 16
            # Photos and PDFs are compressed already: stored as they are; the text is deflated.
            info.compress_type = zipfile.ZIP_STORED if name.startswith(("claims/", "transcripts/")) \
                else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = buffer.getvalue()
    append_event(session, actor, ACTION, "user", student.id, {
        "student_no": student.student_no, "files": len(members), "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "missing_evidence": sorted(missing),
    })
    session.flush()
    filename = f"my-data-{student.student_no}-{to_local(now):%Y%m%d}.zip"
    return filename, data


def export_own_archive(session: Session, actor: User | None) -> tuple[str, bytes]:
    """The signed-in student's own archive (the page's /me/data.zip)."""
    if actor is None or not actor.is_student:
        raise Forbidden(_("This page is for students"))
    return export_archive(session, actor, actor.student_no)
