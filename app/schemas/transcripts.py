from decimal import Decimal

from marshmallow import fields, post_dump

from app.schemas.common import Hours, Schema, SchoolDateTime


class TranscriptSchema(Schema):
    serial = fields.String()
    issued_at = SchoolDateTime()
    status = fields.String()
    verify_url = fields.String(attribute="link")
    pdf_url = fields.Method("_pdf_url")
    total_hours = Hours()
    record_count = fields.Integer()
    digest = fields.String()
    key_id = fields.String()
    pdf_sha256 = fields.String()
    superseded_at = SchoolDateTime(allow_none=True)
    revoked_at = SchoolDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)
    amended_at = SchoolDateTime(allow_none=True)
    # The holder's public check (services/holder): switched on, and its last open school day.
    public = fields.Boolean()
    public_until = fields.Date()

    def _pdf_url(self, transcript) -> str:
        from flask import current_app

        return f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/transcripts/{transcript.serial}/pdf"


class VerifiedRecordSchema(Schema):
    date = fields.Date()
    activity = fields.String()
    club = fields.String()
    module = fields.String()
    level = fields.String()
    role = fields.String()
    hours = Hours()
    award = fields.String(allow_none=True)
    certified_by = fields.String()
    # "activity" (a club's activity) or "claim" (the student's achievement claim, certified)
    source = fields.String()


_TENTH = Decimal("0.1")


def record_json(r) -> dict:
    """One record as VerifiedRecordSchema dumps it (tests/test_verify_json.py holds them equal)."""
    return {"date": r.date.isoformat(), "activity": r.activity, "club": r.club, "module": r.module,
            "level": r.level, "role": r.role, "hours": float(Decimal(r.hours).quantize(_TENTH)),
            "award": r.award, "certified_by": r.certified_by, "source": r.source}


class RecordList(fields.List):
    """A list of VerifiedRecordSchema (so the OpenAPI document describes each record), dumped
    without a nested schema per record: the public verify answer is asked for every employer's
    scan of a different transcript, and those nested dumps were most of its time."""

    def __init__(self, **kwargs) -> None:
        super().__init__(fields.Nested(VerifiedRecordSchema), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else [record_json(r) for r in value]


class WithdrawnRecordSchema(Schema):
    """A record the transcript carries that the school withdrew after its issue."""

    activity = fields.String()
    hours = Hours()
    revoked_at = SchoolDateTime()
    reason = fields.String()


class VerificationSchema(Schema):
    """GET /verify/{serial}: what the public may see of a transcript asked for by its serial."""

    status = fields.String()
    serial = fields.String()
    issued_at = SchoolDateTime(attribute="snapshot.issued_at")
    institution = fields.Function(lambda v: v.snapshot.institution)
    student = fields.Function(lambda v: {"name": v.snapshot.student_name,
                                         "student_no_masked": v.student_no_masked})
    unit = fields.Function(lambda v: v.snapshot.unit)
    total_hours = fields.Function(lambda v: float(v.snapshot.total_hours))
    hours_by_module = fields.Function(
        lambda v: {k: float(h) for k, h in v.snapshot.hours_by_module.items()})
    record_count = fields.Function(lambda v: len(v.snapshot.records))
    records = RecordList()
    digest = fields.Function(lambda v: v.transcript.digest)
    key_id = fields.Function(lambda v: v.transcript.key_id)
    superseded_at = SchoolDateTime(attribute="transcript.superseded_at", allow_none=True)
    revoked_at = SchoolDateTime(attribute="transcript.revoked_at", allow_none=True)
    # A transcript whose signing key was revoked (on or before its issue date) has no revoke stamp
    # of its own: the reason says so.
    revoke_reason = fields.Function(
        lambda v: v.transcript.revoke_reason or (v.reason if v.status == "revoked" else None))
    amended_at = SchoolDateTime(attribute="transcript.amended_at", allow_none=True)
    withdrawn = fields.List(fields.Nested(WithdrawnRecordSchema))
    hours_still_certified = fields.Function(lambda v: float(v.hours_still_certified))
    # Only for a transcript issued under credit rules: {rules, met, counted, required,
    # years: [{year, hours, grade}], years_required, years_passed}.
    requirement = fields.Function(lambda v: v.requirement_json, allow_none=True)
    # The holder's choice: true while the public check is open (then `public_until`, the last
    # school day it is); a closed or lapsed check answers {status, serial, public: false} only.
    public = fields.Function(lambda v: not v.closed)
    public_until = fields.Date(allow_none=True)
    # The checks made, in order: [{name, label, ok, detail}], `name` one of format, signature,
    # issuer_key, status, validity; `ok` true passed, false failed, null not checked; `label` and
    # `detail` in the reader's language.
    steps = fields.Function(lambda v: [step.as_json() for step in v.steps])

    @post_dump(pass_original=True)
    def _as_the_holder_allows(self, data: dict, view, **_kwargs) -> dict:
        if view.closed:
            # Nothing personal, not even the institution's facts about the student (API.md).
            return {"status": data["status"], "serial": data["serial"], "public": False}
        if view.status == "not_genuine":
            # A link whose signature fails proves nothing: no record data, only why.
            failed = next((step["detail"] for step in data["steps"] if step["ok"] is False), view.reason)
            return {"status": data["status"], "serial": data["serial"], "steps": data["steps"], "reason": failed}
        if data.get("requirement") is None:
            data.pop("requirement", None)
        return data


class JSONBoolean(fields.Boolean):
    """Only JSON's true and false: "yes", 1 or "on" are a client's bug, not a choice."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class PublicCheckSchema(Schema):
    """PATCH /transcripts/{serial}: the holder's public check; either field may be left out."""

    public = JSONBoolean()
    public_until = fields.Date()


class PublicCheckStateSchema(Schema):
    serial = fields.String()
    public = fields.Boolean()
    public_until = fields.Date()


class ShareInSchema(Schema):
    """POST /transcripts/{serial}/shares: for whom (a label the student reads) and until when."""

    label = fields.String(load_default="")
    expires_on = fields.Date(load_default=None)


class ShareSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    expires_on = fields.Date()
    created_at = SchoolDateTime()
    withdrawn_at = SchoolDateTime(allow_none=True)
    live = fields.Function(lambda s: _live(s))


class NewShareSchema(ShareSchema):
    """A share link just made: its URL carries the token, shown this once (only its hash is kept)."""

    url = fields.String()


def _live(share) -> bool:
    from app.services.holder import share_is_live

    return share_is_live(share)


class UploadVerdictSchema(Schema):
    status = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    genuine = fields.Boolean()
    reason = fields.String()
    copy_of = fields.String(metadata={
        "description": "Present when the file is a copy of this serial's transcript that is not the signed "
                       "file (saved again by another program): `genuine` stays false; check the serial's "
                       "page for the signed original."})

    @post_dump
    def _copy_of_only_for_a_copy(self, data, **_kwargs):
        if data.get("copy_of") is None:
            data.pop("copy_of", None)
        return data


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"})
