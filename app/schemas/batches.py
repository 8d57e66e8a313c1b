"""The graduation batch in and out (API.md: POST /batches/transcripts, GET /batches/{id})."""

from marshmallow import fields

from app.schemas.common import Id, PageArgsSchema, Schema, SchoolDateTime, WholeNumber


class BatchInSchema(Schema):
    # One of the three (the service names the fields when none or several are given).
    unit_id = Id(load_default=None, allow_none=True)
    class_id = Id(load_default=None, allow_none=True)
    cohort = WholeNumber(load_default=None, allow_none=True)


class BatchStartedSchema(Schema):
    id = fields.Integer(required=True)
    total = fields.Integer(required=True)
    status = fields.String(required=True)


class BatchSchema(Schema):
    """A batch's progress: counted from its students at the moment of the request."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": ["queued", "running", "done", "cancelled", "failed"]})
    scope = fields.String(required=True, metadata={"enum": ["unit", "class", "cohort"]})
    scope_name = fields.String()
    total = fields.Integer(required=True)
    done = fields.Integer(required=True, metadata={"description": "issued + already current"})
    issued = fields.Integer()
    skipped = fields.Integer(metadata={"description": "the current transcript already carried everything"})
    failed = fields.Integer(required=True)
    pending = fields.Integer()
    rate = fields.Float(metadata={"description": "students finished per second, over the last 20 s"})
    seconds_left = fields.Integer(allow_none=True)
    created_at = SchoolDateTime()
    started_at = SchoolDateTime(allow_none=True)
    finished_at = SchoolDateTime(allow_none=True)
    created_by = fields.String()


class BatchRowSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    scope = fields.String(required=True)
    scope_name = fields.String()
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    created_at = SchoolDateTime()
    finished_at = SchoolDateTime(allow_none=True)


class BatchListArgsSchema(PageArgsSchema):
    pass


class BatchZipArgsSchema(Schema):
    class_id = Id(query=True, load_default=None)
