"""Classes (班级 / 团支部) in and out."""

from marshmallow import fields, validate

from app.schemas.common import Id, PageArgsSchema, Schema


class ClassInSchema(Schema):
    unit_id = Id(required=True)
    # Lengths and the cohort's range are the service's rules (it names the field).
    name = fields.String(required=True)
    cohort = fields.Integer(required=True, strict=True)


class ClassSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    name = fields.String()
    cohort = fields.Integer()


class ClassArgsSchema(PageArgsSchema):
    unit_id = Id(query=True, load_default=None)
    cohort = fields.Integer(load_default=None, validate=validate.Range(min=1, max=9999))
