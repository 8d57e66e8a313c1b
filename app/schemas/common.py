"""Fields and schemas every part of the API shares."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.timeutil import school_zone, to_local

# Ids are 32-bit integers in both databases; anything larger cannot name a row.
MAX_ID = 2**31 - 1
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


def Id(*, query: bool = False, **kwargs) -> fields.Integer:  # noqa: N802 — reads like a field class
    """A row's id. In a JSON body it must be a JSON integer (1.5 names no row, and neither does
    "3" or true); in a query string (`query=True`) it is text to be read as a whole number."""
    messages = {"invalid": _l("An id (a whole number)"), **kwargs.pop("error_messages", {})}
    return fields.Integer(strict=not query, validate=validate.Range(min=1, max=MAX_ID),
                          error_messages=messages, **kwargs)


def known_module(value: str) -> None:
    """A key of the office's module list (data: read when the request is validated)."""
    from app.extensions import db
    from app.services.modules import module_keys

    keys = module_keys(db.session)
    if value not in keys:
        raise ma.ValidationError(_("One of: %(choices)s", choices=", ".join(keys)))


def WholeNumber(**kwargs) -> fields.Integer:  # noqa: N802 — reads like a field class
    """A JSON integer: 1.5, "1.5", "30" and true are refused, not truncated or cast to 1."""
    messages = {"invalid": _l("A whole number"), **kwargs.pop("error_messages", {})}
    return fields.Integer(strict=True, error_messages=messages, **kwargs)


class SchoolDateTime(fields.DateTime):
    """ISO 8601 with offset; a time without one is read as the school's local time."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=school_zone())
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError:
            raise ma.ValidationError(_("Date out of range")) from None
        if not EARLIEST_YEAR <= in_utc.year <= LATEST_YEAR:
            raise ma.ValidationError(_("The year must be from %(earliest)s to %(latest)s",
                                       earliest=EARLIEST_YEAR, latest=LATEST_YEAR))
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
            raise ma.ValidationError(_("Must be a number"))
        return value


def _nul_fields(value, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _nul_fields(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _nul_fields(v, f"{path}.{i}" if path else str(i))]
    return []


class Schema(ma.Schema):
    class Meta:
        ordered = True
        unknown = ma.EXCLUDE

    @ma.pre_load
    def refuse_nul_characters(self, data, **kwargs):
        """A NUL byte is never text a person typed; PostgreSQL cannot store it either."""
        bad = _nul_fields(data)
        if bad:
            raise ma.ValidationError({f: [_("Contains a NUL character")] for f in bad})
        return data


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ReasonSchema(Schema):
    # Length is the service's to check, after it has checked who is asking.
    reason = fields.String(required=True)


class StatusSchema(Schema):
    status = fields.String()
    id = fields.Integer()


class UserBriefSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


@functools.cache
def page_schema(item: type[ma.Schema]) -> type[ma.Schema]:
    """The document's shape of page_of(...) for `item` (lists dump their items themselves)."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({"items": fields.List(fields.Nested(item), required=True),
                             "total": fields.Integer(required=True)}, name=name)


def page_of(items, total: int) -> dict:
    return {"items": items, "total": total}


def page_of_rows(schema, rows: list, args: dict) -> dict:
    """One page (`page`, `per_page` from PageArgsSchema) of a short list already in memory."""
    start = (args["page"] - 1) * args["per_page"]
    return page_of(schema.dump(rows[start : start + args["per_page"]]), len(rows))
