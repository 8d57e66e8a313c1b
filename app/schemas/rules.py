"""Credit rules, modules, progress, the requirements report and the yearly certification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from app.schemas.common import Hours, Id, PageArgsSchema, Schema, SchoolDateTime

_NUMBER = {"type": "number"}


class ModuleRuleSchema(Schema):
    min_hours = fields.Raw(metadata=_NUMBER)
    max_hours = fields.Raw(allow_none=True, metadata=_NUMBER)


class AnnualSchema(Schema):
    pass_hours = fields.Raw(metadata=_NUMBER)
    excellent_hours = fields.Raw(metadata=_NUMBER)


class RulesInSchema(Schema):
    """Read leniently: the service checks every number and names the field that is wrong."""

    total_min_hours = fields.Raw(metadata=_NUMBER)
    modules = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict,
                          metadata={"additionalProperties": ModuleRuleSchema})
    annual = fields.Raw(load_default=dict, metadata={"type": "object", "properties": {
        "pass_hours": _NUMBER, "excellent_hours": _NUMBER}})
    years_required = fields.Raw(load_default=0, metadata={"type": "integer"})


class RulesOutSchema(Schema):
    cohort = fields.Integer()
    version = fields.Integer()
    name = fields.String()
    total_min_hours = Hours()
    modules = fields.Function(lambda r: {k: {"min_hours": float(v.get("min_hours", "0")),
                                             "max_hours": float(v["max_hours"]) if "max_hours" in v else None}
                                         for k, v in (r.modules or {}).items()})
    annual = fields.Function(lambda r: {"pass_hours": float(r.pass_hours), "excellent_hours": float(r.excellent_hours)})
    years_required = fields.Integer()
    created_at = SchoolDateTime()


class ModuleInSchema(Schema):
    key = fields.String(load_default=None)
    name_zh = fields.String(load_default=None)
    name_en = fields.String(load_default=None)


class ModuleOutSchema(Schema):
    key = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    national = fields.Boolean()


class ModuleListSchema(Schema):
    items = fields.List(fields.Nested(ModuleOutSchema))


class ModuleProgressSchema(Schema):
    name = fields.String()
    certified = Hours()
    counted = Hours()
    required = Hours()
    max_hours = Hours(allow_none=True)
    met = fields.Boolean()


class TotalProgressSchema(Schema):
    counted = Hours()
    required = Hours()
    met = fields.Boolean()


class YearProgressSchema(Schema):
    year = fields.String()
    hours = Hours()
    grade = fields.String()
    recorded_grade = fields.String(allow_none=True,
                                   metadata={"description": "the grade the year-end run wrote, if it ran"})


class ProgressSchema(Schema):
    student_no = fields.String()
    rules_version = fields.String(allow_none=True)
    met = fields.Boolean()
    short_by = Hours()
    total = fields.Nested(TotalProgressSchema)
    modules = fields.Dict(keys=fields.String(), values=fields.Nested(ModuleProgressSchema))
    years = fields.List(fields.Nested(YearProgressSchema))
    years_required = fields.Integer()
    years_passed = fields.Integer()


class RequirementArgsSchema(PageArgsSchema):
    cohort = fields.Integer(required=True, validate=validate.Range(min=1990, max=2100))
    unit_id = Id(query=True, load_default=None)
    class_id = Id(query=True, load_default=None)
    met = fields.Boolean(load_default=None)
    sort = fields.String(load_default="short_by")
    desc = fields.Boolean(load_default=False)
    format = fields.String(load_default=None, validate=validate.OneOf(
        ["csv", "xlsx"], error=_l("One of: csv, xlsx")))


class RequirementRowSchema(Schema):
    student_no = fields.String()
    name = fields.String()
    unit = fields.String()
    class_ = fields.String(data_key="class", attribute="class_name")
    counted = Hours()
    required = Hours()
    met = fields.Boolean()
    short_by = Hours()


class RequirementReportSchema(Schema):
    cohort = fields.Integer()
    rules_version = fields.String(allow_none=True)
    items = fields.List(fields.Nested(RequirementRowSchema))
    total = fields.Integer()
    students = fields.Integer()
    met_count = fields.Integer()


class YearEndInSchema(Schema):
    academic_year = fields.String(required=True)
    cohort = fields.Integer(load_default=None, validate=validate.Range(min=1990, max=2100))


class YearEndOutSchema(Schema):
    academic_year = fields.String()
    graded = fields.Integer()
    changed = fields.Integer()
    without_rules = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class YearGradeArgsSchema(PageArgsSchema):
    cohort = fields.Integer(load_default=None, validate=validate.Range(min=1990, max=2100))
    grade = fields.String(load_default=None)


class YearGradeSchema(Schema):
    student_no = fields.String(attribute="student.student_no")
    name = fields.String(attribute="student.display_name")
    hours = Hours()
    grade = fields.String()
    rules_version = fields.String(attribute="rule_set.name")
    graded_at = SchoolDateTime()


class YearGradePageSchema(Schema):
    academic_year = fields.String()
    items = fields.List(fields.Nested(YearGradeSchema))
    total = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class DashboardArgsSchema(Schema):
    term = fields.String(load_default=None, metadata={"description": "YYYY-YYYY-N; default: the current term"})


class DashboardModuleSchema(Schema):
    key = fields.String()
    name = fields.String(attribute="label")


_RATES = {"type": "object", "additionalProperties": {"type": "object", "properties": {
    "participants": {"type": "integer"}, "rate": {"type": "number", "description": "percent"}}}}


class CollegeParticipationSchema(Schema):
    unit_id = fields.Integer()
    college = fields.String(attribute="name")
    students = fields.Integer(metadata={"description": "active students of the college"})
    modules = fields.Function(lambda c: {key: {"participants": n, "rate": c.rate(key)}
                                         for key, n in c.participants.items()}, metadata=_RATES)


class HoursBinSchema(Schema):
    low = fields.Integer()
    high = fields.Integer(allow_none=True, metadata={
        "description": "low <= hours < high; null: no upper bound; 0 and 0: no hours at all"})
    label = fields.String()
    students = fields.Integer()
    share = fields.Float(allow_none=True, metadata={"description": "percent of the active students"})


class TermFiguresSchema(Schema):
    term = fields.String()
    hours = Hours()
    students = fields.Integer(metadata={"description": "students with a certified record or claim in the term"})


class CohortAttainmentSchema(Schema):
    cohort = fields.Integer()
    students = fields.Integer()
    met = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "percent"})


class DashboardSchema(Schema):
    term = fields.String()
    terms = fields.List(fields.String(), metadata={"description": "the trend's terms, oldest first"})
    modules = fields.List(fields.Nested(DashboardModuleSchema))
    students = fields.Integer(metadata={"description": "active students in the school"})
    participation = fields.List(fields.Nested(CollegeParticipationSchema), attribute="colleges")
    hours_distribution = fields.List(fields.Nested(HoursBinSchema), attribute="hours_bins")
    trend = fields.List(fields.Nested(TermFiguresSchema))
    attainment = fields.List(fields.Nested(CohortAttainmentSchema), attribute="cohorts")
