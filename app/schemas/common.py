"""Fields and schemas every part of the API shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import marshmallow as ma
from marshmallow import fields, validate

from app.timeutil import school_zone, to_local


class SchoolDateTime(fields.DateTime):
    """ISO 8601 with offset; a time without one is read as the school's local time."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=school_zone())
        return moment

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return to_local(value).isoformat()


class Hours(fields.Field):
    """Hours as a JSON number with one decimal; read leniently so the service names the reason."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return float(Decimal(value).quantize(Decimal("0.1")))

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ma.ValidationError("须为数字 Must be a number")
        return value


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.EXCLUDE


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class StatusSchema(Schema):
    status = fields.String()
    id = fields.Integer()


class UserBriefSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


def page_of(items, total: int) -> dict:
    return {"items": items, "total": total}
