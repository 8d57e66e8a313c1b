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
    records = fields.List(fields.Nested(VerifiedRecordSchema))
    digest = fields.Function(lambda v: v.transcript.digest)
    key_id = fields.Function(lambda v: v.transcript.key_id)
    superseded_at = SchoolDateTime(attribute="transcript.superseded_at", allow_none=True)
    revoked_at = SchoolDateTime(attribute="transcript.revoked_at", allow_none=True)
    revoke_reason = fields.Function(lambda v: v.transcript.revoke_reason)
    amended_at = SchoolDateTime(attribute="transcript.amended_at", allow_none=True)
    withdrawn = fields.List(fields.Nested(WithdrawnRecordSchema))
    hours_still_certified = fields.Function(lambda v: float(v.hours_still_certified))
    # Only for a transcript issued under credit rules: {rules, met, counted, required,
    # years: [{year, hours, grade}], years_required, years_passed}.
    requirement = fields.Function(lambda v: v.requirement_json, allow_none=True)

    @post_dump
    def _requirement_only_when_present(self, data: dict, **_kwargs) -> dict:
        if data.get("requirement") is None:
            data.pop("requirement", None)
        return data


class UploadVerdictSchema(Schema):
    status = fields.String(allow_none=True)
    serial = fields.String(allow_none=True)
    genuine = fields.Boolean()
    reason = fields.String()


class UploadSchema(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"})
