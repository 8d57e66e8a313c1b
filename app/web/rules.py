"""Credit-rule pages: the office's rules per cohort and its module list, a student's progress, the
requirements report (with its CSV and xlsx), the school dashboard, and the yearly certification."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

from app.extensions import db
from app.models.rules import Grade
from app.services import credit_rules, dashboard, dashboard_charts, modules, progress, requirements, year_end
from app.services.errors import Forbidden, Invalid
from app.services.pages import rules as rule_pages
from app.services.pages.common import Page
from app.web import bp
from app.web.forms import ModuleForm, ModuleRenameForm, RequirementFilterForm, YearEndForm, rules_form
from app.web.scorecards import table_file
from app.web.support import FORM_ERRORS, actor, create_once, show_error, status_of


def _rename_forms(page) -> dict:
    forms = {}
    for m in page.modules:
        form = ModuleRenameForm(prefix=f"m-{m.key}", formdata=None)
        form.name_zh.data, form.name_en.data = m.name_zh, m.name_en
        forms[m.key] = form
    return forms


@bp.route("/admin/rules", methods=["GET", "POST"])
@login_required
def admin_rules():
    """The cohorts and their current rules; the office's module list, renamed or added to here."""
    page = rule_pages.rules_page(db.session, actor())
    form = ModuleForm()
    done = create_once(
        form, lambda: modules.add_module(db.session, actor(), form.values()),
        lambda m: _("Module %(name)s added", name=m.label), lambda _m: url_for("web.admin_rules"),
    )
    if done:
        return done
    status = status_of(form)
    if status != 200:
        page = rule_pages.rules_page(db.session, actor())
    return render_template("web/admin_rules.html", page=page, form=form, renames=_rename_forms(page)), status


@bp.route("/admin/modules/<key>", methods=["POST"])
@login_required
def admin_module_rename(key: str):
    form = ModuleRenameForm(prefix=f"m-{key}")
    if form.validate_on_submit():
        try:
            found = modules.rename_module(db.session, actor(), key, {"name_zh": form.name_zh.data,
                                                                    "name_en": form.name_en.data})
        except FORM_ERRORS as error:
            show_error(None, error)
        else:
            flash(_("Module %(name)s saved", name=found.label), "success")
    return redirect(url_for("web.admin_rules"))


def _fill(form, rule_set) -> None:
    if rule_set is None:
        return
    form.total_min_hours.data = str(rule_set.total_min_hours)
    form.pass_hours.data, form.excellent_hours.data = str(rule_set.pass_hours), str(rule_set.excellent_hours)
    form.years_required.data = str(rule_set.years_required)
    for key, rule in (rule_set.modules or {}).items():
        if f"{key}_min" in form:
            form[f"{key}_min"].data = rule.get("min_hours") or ""
            form[f"{key}_max"].data = rule.get("max_hours") or ""


@bp.route("/admin/rules/<int:cohort>", methods=["GET", "POST"])
@login_required
def admin_rules_edit(cohort: int):
    """One cohort's rules: saving writes a new version; the versions before it are listed."""
    rule_pages.rules_page(db.session, actor())  # the admin's page: anyone else stops here
    keys = modules.module_keys(db.session)
    form = rules_form(keys)()
    if request.method == "GET":
        _fill(form, credit_rules.current_rules(db.session, cohort))
    elif form.validate_on_submit():
        try:
            saved = credit_rules.set_rules(db.session, actor(), cohort, form.values())
        except FORM_ERRORS as error:
            show_error(form, error, form.renames())
        else:
            flash(_("Rules %(name)s in force", name=saved.name), "success")
            return redirect(url_for("web.admin_rules_edit", cohort=cohort))
    history = credit_rules.rule_history(db.session, cohort)
    return render_template("web/rules_edit.html", form=form, cohort=cohort, history=history,
                           modules=modules.module_list(db.session)), status_of(form)


@bp.route("/me/progress")
@login_required
def my_progress():
    """One's own progress (the menu's link): a student's number is their own."""
    me = actor()
    if not me.is_student:
        raise Forbidden(_("This page is for students"))
    return student_progress(me.student_no)


@bp.route("/students/<student_no>/progress")
@login_required
def student_progress(student_no: str):
    found = progress.student_progress(db.session, actor(), student_no)
    return render_template("web/progress.html", p=found, r=found.result, grade_label=lambda g: Grade(g).label)


SORT_LABELS = {"short_by": _l("Furthest from the requirement first"), "student_no": _l("Student no."),
               "name": _l("Full name"), "class": _l("Class"), "counted": _l("Counted hours")}


def _report_args() -> dict:
    met = {"yes": True, "no": False}.get(request.args.get("met", ""))
    return {"cohort": request.args.get("cohort", type=int), "unit_id": request.args.get("unit_id", type=int),
            "class_id": request.args.get("class_id", type=int), "met": met,
            "sort": request.args.get("sort") or "short_by"}


def _report_form(choices: dict) -> RequirementFilterForm:
    form = RequirementFilterForm(request.args)
    form.cohort.choices = [(str(c), _("Cohort %(cohort)d", cohort=c)) for c in choices["cohorts"]]
    form.unit_id.choices = [("", _("All colleges")), *((str(i), n) for i, n in choices["units"])]
    form.class_id.choices = [("", _("All classes")), *((str(i), n) for i, n in choices["classes"])]
    form.met.choices = [("", _("Everyone")), ("no", _("Short of the requirement")), ("yes", _("Requirement met"))]
    form.sort.choices = [(k, str(v)) for k, v in SORT_LABELS.items()]
    return form


@bp.route("/reports/requirements")
@login_required
def requirements_report():
    """Who of a cohort meets its rules: the admin, organizers for their scope."""
    args = _report_args()
    choices = rule_pages.requirement_choices(db.session, actor(), args["cohort"])
    if args["cohort"] is None and choices["cohorts"]:
        args["cohort"] = choices["cohorts"][0]
        choices = rule_pages.requirement_choices(db.session, actor(), args["cohort"])
    form = _report_form(choices)
    form.cohort.data = str(args["cohort"]) if args["cohort"] else None
    found, problem = None, None
    if args["cohort"] is not None:
        try:
            found = requirements.report(db.session, actor(), page=request.args.get("page", 1, type=int) or 1,
                                        **args)
        except Invalid as error:
            problem = error
    status = 422 if problem else 200
    rows = Page(found.items, found.total, found.page, found.per_page) if found else None
    return render_template("web/requirements.html", form=form, report=found, rows=rows, problem=problem,
                           args=args), status


@bp.route("/reports/requirements.<fmt>")
@login_required
def requirements_file(fmt: str):
    found = requirements.report(db.session, actor(), per_page=None, **_report_args())
    return table_file(requirements.report_table(found), fmt)


@bp.route("/reports/dashboard")
@login_required
def school_dashboard():
    """The school dashboard for a term (?term=, default the current one): the office's."""
    try:
        found = dashboard.school_dashboard(db.session, actor(), request.args.get("term"))
    except Invalid as error:
        return render_template("web/dashboard.html", d=None, problem=error, charts={}), 422
    # The charts are SVG the service escaped itself; Markup keeps Jinja from escaping it again.
    charts = {"distribution": Markup(dashboard_charts.distribution_svg(found.hours_bins)),
              "trend": Markup(dashboard_charts.trend_svg(found.trend)),
              "attainment": Markup(dashboard_charts.attainment_svg(found.cohorts))}
    return render_template("web/dashboard.html", d=found, problem=None, charts=charts)


@bp.route("/admin/year-end", methods=["GET", "POST"])
@login_required
def year_end_page():
    """Run the yearly certification for a year; the grades it wrote, by grade."""
    form = YearEndForm()
    years = year_end.recent_years()
    form.academic_year.choices = [(y, y) for y in years]
    form.cohort.choices = [("", _("Every cohort with rules")),
                           *((str(c), _("Cohort %(cohort)d", cohort=c))
                             for c in sorted(credit_rules.rules_by_cohort(db.session), reverse=True))]
    if form.validate_on_submit():
        try:
            cohort = int(form.cohort.data) if form.cohort.data else None
            result = year_end.run_year_end(db.session, actor(), form.academic_year.data, cohort)
        except (ValueError, *FORM_ERRORS) as error:
            if isinstance(error, ValueError):
                error = Invalid({"cohort": [_("Choose from the list")]})
            show_error(form, error)
        else:
            flash(_("%(year)s: %(graded)d students graded, %(changed)d grades written",
                    year=result.academic_year, graded=result.graded, changed=result.changed), "success")
            return redirect(url_for("web.year_end_page", year=result.academic_year))
    year = request.args.get("year") or form.academic_year.data or years[1]
    form.academic_year.data = year
    grade = request.args.get("grade") or None
    number = request.args.get("page", 1, type=int) or 1
    grades = year_end.year_grades(db.session, actor(), year, grade=grade, page=number)
    rows = Page(grades.items, grades.total, number, 50)
    return render_template("web/year_end.html", form=form, grades=grades, rows=rows, year=year, grade=grade,
                           grade_labels=Grade), status_of(form)
