"""Credit rules (the office's module list, each cohort's versioned rules), a student's progress,
the requirements report (JSON, CSV or xlsx), the school dashboard and the yearly certification."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.rules import (
    DashboardArgsSchema,
    DashboardSchema,
    ModuleInSchema,
    ModuleListSchema,
    ModuleOutSchema,
    ProgressSchema,
    RequirementArgsSchema,
    RequirementReportSchema,
    RulesInSchema,
    RulesOutSchema,
    YearEndInSchema,
    YearEndOutSchema,
    YearGradeArgsSchema,
    YearGradePageSchema,
)
from app.services import credit_rules, dashboard, modules, progress, requirements, year_end
from app.web.scorecards import table_file

blp = Blueprint("rules", __name__, url_prefix=PREFIX, description="Credit rules and progress")


@blp.route("/modules", methods=["GET"])
@token_required
@blp.response(200, ModuleListSchema)
def list_modules():
    """The office's modules in order: the national seven (as named by the office) and any it added."""
    return {"items": modules.module_list(db.session)}


@blp.route("/modules", methods=["POST"])
@token_required
@blp.arguments(ModuleInSchema)
@blp.response(201, ModuleOutSchema)
def add_module(values):
    """Add a module to the office's list (admin); its key is what records carry."""
    return modules.add_module(db.session, current_actor(), values)


@blp.route("/modules/<key>", methods=["PATCH"])
@token_required
@blp.arguments(ModuleInSchema)
@blp.response(200, ModuleOutSchema)
def rename_module(values, key):
    """Rename a module (admin); issued transcripts keep the names printed on them."""
    return modules.rename_module(db.session, current_actor(), key, values)


@blp.route("/rules/<int:cohort>", methods=["GET"])
@token_required
@blp.response(200, RulesOutSchema)
def get_rules(cohort):
    """A cohort's current rules (a school's rules are no secret to anyone signed in)."""
    return credit_rules.rules_in_force(db.session, cohort)


@blp.route("/rules/<int:cohort>", methods=["PUT"])
@token_required
@blp.arguments(RulesInSchema)
@blp.response(200, RulesOutSchema)
def set_rules(values, cohort):
    """Set a cohort's rules (admin): every change is a new version; the same rules again change nothing."""
    return credit_rules.set_rules(db.session, current_actor(), cohort, values)


def progress_body(found: progress.StudentProgress) -> dict:
    result = found.result
    caps = credit_rules.arithmetic_rules(found.rules).modules
    names = {m.key: m.label for m in found.modules}
    return {
        "student_no": found.student.student_no, "rules_version": found.rules_version,
        "met": result.met, "short_by": result.short_by,
        "total": {"counted": result.counted, "required": result.required, "met": result.total_met},
        "modules": {key: {"name": names.get(key, key), "certified": m.certified, "counted": m.counted,
                          "required": m.required, "met": m.met,
                          "max_hours": caps[key].max_hours if key in caps else None}
                    for key, m in result.modules.items()},
        "years": [{"year": year, "hours": hours, "grade": grade,
                   "recorded_grade": found.recorded[year].grade if year in found.recorded else None}
                  for year, (hours, grade) in result.years.items()],
        "years_required": result.years_required, "years_passed": result.years_passed,
    }


@blp.route("/students/<student_no>/progress", methods=["GET"])
@token_required
@blp.response(200, ProgressSchema)
def student_progress(student_no):
    """A student's progress under their cohort's current rules: the student, organizers in scope, admin."""
    return progress_body(progress.student_progress(db.session, current_actor(), student_no))


@blp.route("/reports/requirements", methods=["GET"])
@token_required
@blp.arguments(RequirementArgsSchema, location="query")
@blp.response(200, RequirementReportSchema)
@blp.alt_response(200, content_type="text/csv", description="`?format=csv`: every row, UTF-8 with a BOM")
def requirements_report(args):
    """Who of a cohort meets its rules and who is short by how much: admin, organizers (their scope)."""
    fmt = args.pop("format")
    args["descending"] = args.pop("desc")
    if fmt is not None:
        args.pop("page"), args.pop("per_page")
        found = requirements.report(db.session, current_actor(), per_page=None, **args)
        return table_file(requirements.report_table(found), fmt)
    return requirements.report(db.session, current_actor(), **args)


@blp.route("/reports/dashboard", methods=["GET"])
@token_required
@blp.arguments(DashboardArgsSchema, location="query")
@blp.response(200, DashboardSchema)
def school_dashboard(args):
    """The school dashboard's figures for a term (admin): participation, hours, trend, attainment."""
    return dashboard.school_dashboard(db.session, current_actor(), args["term"])


@blp.route("/year-end", methods=["POST"])
@token_required
@blp.arguments(YearEndInSchema)
@blp.response(200, YearEndOutSchema)
def run_year_end(values):
    """Run the yearly certification for an academic year (admin): each student's grade, audited."""
    result = year_end.run_year_end(db.session, current_actor(), values["academic_year"], values["cohort"])
    return {**result.__dict__, "counts": dict(result.counts)}


@blp.route("/year-end/<academic_year>", methods=["GET"])
@token_required
@blp.arguments(YearGradeArgsSchema, location="query")
@blp.response(200, YearGradePageSchema)
def year_grades(args, academic_year):
    """The grades the yearly certification wrote for a year (admin), with the count of each."""
    return year_end.year_grades(db.session, current_actor(), academic_year, **args)
