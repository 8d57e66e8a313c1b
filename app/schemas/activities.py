from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.models import ActivityStatus, Level, ParticipationRole
from app.schemas.common import (
    Hours,
    Id,
    PageArgsSchema,
    Schema,
    SchoolDateTime,
    UserBriefSchema,
    WholeNumber,
    known_module,
)
from app.services.participations import record_flags
from app.timeutil import to_local


class ActivityInSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    module = fields.String(required=True, validate=known_module)
    level = fields.String(required=True, validate=validate.OneOf([lv.value for lv in Level]))
    starts_at = SchoolDateTime(required=True)
    ends_at = SchoolDateTime(required=True)
    location = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours = Hours(required=True)
    capacity = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(
        min=1, max=100000, error=_l("A whole number from 1 to 100,000")))
    registration_deadline = SchoolDateTime(load_default=None, allow_none=True)
    description = fields.String(load_default=None, allow_none=True)
    objectives = fields.String(load_default=None, allow_none=True)
    budget = fields.Decimal(load_default=None, allow_none=True, places=2,
                            validate=validate.Range(min=0), metadata={"minimum": 0})  # a number in OpenAPI
    partners = fields.List(fields.String(), load_default=list)


class ActivityPatchSchema(ActivityInSchema):
    """Any subset of the plan's fields; load it with partial=True."""


class CompleteSchema(Schema):
    outcome = fields.String(load_default=None, allow_none=True)


class ActivitySchema(Schema):
    id = fields.Integer()
    club_id = fields.Integer()
    club = fields.Function(lambda a: a.club.name)
    title = fields.String()
    module = fields.String()
    level = fields.String()
    term = fields.String()
    starts_at = SchoolDateTime()
    ends_at = SchoolDateTime()
    location = fields.String()
    hours = Hours()
    capacity = fields.Integer(allow_none=True)
    registration_deadline = SchoolDateTime(allow_none=True)
    description = fields.String(allow_none=True)
    objectives = fields.String(allow_none=True)
    budget = fields.Float(allow_none=True)
    partners = fields.List(fields.String())
    outcome = fields.String(allow_none=True)
    status = fields.String()
    created_at = SchoolDateTime()
    submitted_at = SchoolDateTime(allow_none=True)
    approved_at = SchoolDateTime(allow_none=True)
    approved_by = fields.Nested(UserBriefSchema, allow_none=True)
    completed_at = SchoolDateTime(allow_none=True)
    cancelled_at = SchoolDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    returned_at = SchoolDateTime(allow_none=True)
    return_reason = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class EntrySchema(Schema):
    student_no = fields.String(load_default="")
    role = fields.String(load_default=ParticipationRole.PARTICIPANT.value)
    hours = Hours(load_default=None, allow_none=True)
    award = fields.String(load_default=None, allow_none=True)
    hours_reason = fields.String(load_default=None, allow_none=True)


class EntriesSchema(Schema):
    entries = fields.List(fields.Nested(EntrySchema), required=True)


class CertifySchema(Schema):
    participation_ids = fields.List(Id(), load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ParticipationSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    student_no = fields.Function(lambda p: p.student.student_no)
    student_name = fields.Function(lambda p: p.student.display_name)
    role = fields.String()
    hours = Hours()
    award = fields.String(allow_none=True)
    status = fields.String()
    checked_in_at = SchoolDateTime(allow_none=True)
    checked_out_at = SchoolDateTime(allow_none=True)
    source = fields.String()
    hours_reason = fields.String(allow_none=True)
    late_entry_reason = fields.String(allow_none=True)
    # What the sign-off queue points out (services.participations.FLAG_LABELS).
    flags = fields.Function(lambda p: record_flags(p))
    recorded_at = SchoolDateTime()
    certified_at = SchoolDateTime(allow_none=True)
    certified_by = fields.Function(
        lambda p: p.certified_by.display_name if p.certified_by else None
    )
    reject_reason = fields.String(allow_none=True)
    revoked_at = SchoolDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class CreatedParticipationsSchema(Schema):
    created = fields.Integer()
    items = fields.List(fields.Nested(ParticipationSchema))


class CertifiedSchema(Schema):
    certified = fields.Integer()


class RecordItemSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    activity = fields.Function(lambda p: p.activity.title)
    club = fields.Function(lambda p: p.activity.club.name)
    module = fields.Function(lambda p: p.activity.module)
    level = fields.Function(lambda p: p.activity.level)
    date = fields.Function(lambda p: to_local(p.activity.starts_at).date().isoformat())
    term = fields.Function(lambda p: p.activity.term)
    role = fields.String()
    hours = Hours()
    award = fields.String(allow_none=True)
    status = fields.String()
    certified_by = fields.Function(
        lambda p: p.certified_by.display_name if p.certified_by else None
    )
    certified_at = SchoolDateTime(allow_none=True)


class StudentRecordsSchema(Schema):
    student_no = fields.Function(lambda r: r.student.student_no)
    name = fields.Function(lambda r: r.student.display_name)
    items = fields.List(fields.Nested(RecordItemSchema))
    total = fields.Integer()  # the records in all; `items` is one page of them
    total_certified_hours = Hours()
    hours_by_module = fields.Dict(keys=fields.String(), values=Hours())
    claims = fields.List(fields.Nested("CertifiedClaimSchema"))


class CertifiedClaimSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    module = fields.String()
    level = fields.String()
    occurred_on = fields.Date()
    hours = Hours()
    award = fields.String(allow_none=True)
    reviewed_at = SchoolDateTime()


class CatalogueArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in ActivityStatus]))
    module = fields.String(load_default=None, validate=known_module)
    level = fields.String(load_default=None, validate=validate.OneOf([lv.value for lv in Level]))
    club_id = Id(query=True, load_default=None)
    unit_id = Id(query=True, load_default=None)
    # Dates (the school's calendar days): activities starting on or after `from`, on or before `to`.
    date_from = fields.Date(load_default=None, data_key="from")
    date_to = fields.Date(load_default=None, data_key="to")


class CatalogueItemSchema(Schema):
    id = fields.Integer(attribute="activity.id")
    club_id = fields.Integer(attribute="activity.club_id")
    club = fields.String(attribute="activity.club.name")
    unit_id = fields.Integer(attribute="activity.club.unit_id", allow_none=True)
    title = fields.String(attribute="activity.title")
    module = fields.String(attribute="activity.module")
    level = fields.String(attribute="activity.level")
    status = fields.String(attribute="activity.status")
    starts_at = SchoolDateTime(attribute="activity.starts_at")
    ends_at = SchoolDateTime(attribute="activity.ends_at")
    location = fields.String(attribute="activity.location")
    hours = Hours(attribute="activity.hours")
    capacity = fields.Integer(attribute="activity.capacity", allow_none=True)
    registration_deadline = SchoolDateTime(attribute="activity.registration_deadline", allow_none=True)
    registered = fields.Integer()
    waitlisted = fields.Integer()
    places_left = fields.Integer(allow_none=True)
    my_registration = fields.String(allow_none=True)


class SignUpSchema(Schema):
    status = fields.String()
    position = fields.Integer(allow_none=True)


class RegistrationSchema(Schema):
    id = fields.Integer(attribute="registration.id")
    student_no = fields.String(attribute="registration.student.student_no")
    name = fields.String(attribute="registration.student.display_name")
    status = fields.String(attribute="registration.status")
    position = fields.Integer(allow_none=True)
    registered_at = SchoolDateTime(attribute="registration.created_at")
    promoted_at = SchoolDateTime(attribute="registration.promoted_at", allow_none=True)
    came = fields.Boolean()
    no_shows = fields.Integer()
