"""The five-izations scorecard in the API (API.md, "Five-izations scorecard")."""

from __future__ import annotations

from marshmallow import fields, validate

from app.schemas.common import Schema
from app.services.scorecard import DIMENSION_KEYS


class ScorecardArgsSchema(Schema):
    term = fields.String(load_default=None, metadata={"description": "YYYY-YYYY-N; default: now"})


class OverviewArgsSchema(ScorecardArgsSchema):
    unit = fields.Integer(load_default=None, metadata={"description": "unit id"})
    category = fields.String(load_default=None, validate=validate.Length(max=64))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=200, validate=validate.Range(min=1, max=200))


class IndicatorSchema(Schema):
    key = fields.String()
    label = fields.String(metadata={"description": "in the reader's language (Accept-Language)"})
    label_zh = fields.String(metadata={"description": "the name in Chinese"})
    label_en = fields.String(metadata={"description": "the name in English"})
    value = fields.Raw(allow_none=True, metadata={"description": "the raw measure (share, count, "
                                                                  "days, hours); null: no data"})
    score = fields.Float(allow_none=True, metadata={"description": "0–100; null: no data"})
    detail = fields.String(metadata={"description": "the raw figures, in the reader's language"})
    detail_zh = fields.String(metadata={"description": "the raw figures in Chinese"})
    detail_en = fields.String(metadata={"description": "the raw figures in English"})
    figures = fields.Dict(keys=fields.String())
    weak = fields.Boolean()
    hint = fields.String(allow_none=True, metadata={"description": "how to improve a weak indicator, "
                                                                 "in the reader's language"})


class DimensionSchema(Schema):
    score = fields.Float(allow_none=True)
    label = fields.String(metadata={"description": "in the reader's language"})
    indicators = fields.List(fields.Nested(IndicatorSchema))


DimensionsSchema = Schema.from_dict(
    {key: fields.Nested(DimensionSchema) for key in DIMENSION_KEYS}, name="DimensionsSchema"
)
DimensionScoresSchema = Schema.from_dict(
    {key: fields.Float(allow_none=True) for key in DIMENSION_KEYS}, name="DimensionScoresSchema"
)


class ScorecardSchema(Schema):
    club_id = fields.Integer()
    club = fields.Function(lambda c: c.club.name)
    unit = fields.Function(lambda c: {"id": c.club.unit_id, "name": c.club.unit_name})
    category = fields.Function(lambda c: c.club.category)
    term = fields.String()
    overall = fields.Float(allow_none=True)
    no_data = fields.Boolean()
    dimensions = fields.Nested(DimensionsSchema)


class OverviewItemSchema(Schema):
    rank = fields.Integer(allow_none=True)
    club_id = fields.Function(lambda r: r.card.club.id)
    club = fields.Function(lambda r: r.card.club.name)
    unit = fields.Function(lambda r: {"id": r.card.club.unit_id, "name": r.card.club.unit_name})
    category = fields.Function(lambda r: r.card.club.category)
    overall = fields.Function(lambda r: r.card.overall)
    no_data = fields.Function(lambda r: r.card.no_data)
    dimensions = fields.Function(lambda r: DimensionScoresSchema().dump(r.card.scores()))


class OverviewSchema(Schema):
    term = fields.String()
    items = fields.List(fields.Nested(OverviewItemSchema))
    total = fields.Integer()
