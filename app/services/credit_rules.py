"""Each cohort's credit rules (认定规则), versioned: setting them writes a new version, so a transcript
that named version 2 keeps meaning what version 2 said. The arithmetic is credit_arithmetic's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import SchoolClass, User
from app.models.people import STUDENT_ROLES
from app.models.rules import RuleSet
from app.services import credit_arithmetic as arithmetic
from app.services.audit import append_event
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.modules import module_keys
from app.services.transactions import lock_row

# Beyond this a number is a typo, not a rule (four years of a generous programme is a few hundred).
MAX_RULE_HOURS = Decimal("2000")
MAX_YEARS = 8
_STEP = Decimal("0.1")


def current_rules(session: Session, cohort: int | None) -> RuleSet | None:
    """The cohort's latest version, or None when the office set none."""
    if cohort is None:
        return None
    return session.execute(
        select(RuleSet).where(RuleSet.cohort == cohort).order_by(RuleSet.version.desc()).limit(1)
    ).scalar()


def rules_in_force(session: Session, cohort: int) -> RuleSet:
    found = current_rules(session, cohort)
    if found is None:
        raise NotFound(_("Cohort %(cohort)d has no credit rules", cohort=cohort))
    return found


def rules_by_cohort(session: Session) -> dict[int, RuleSet]:
    """Every cohort's latest version (the office's list and the reports)."""
    latest = (select(RuleSet.cohort, func.max(RuleSet.version).label("v")).group_by(RuleSet.cohort).subquery())
    rows = session.execute(select(RuleSet).join(
        latest, (RuleSet.cohort == latest.c.cohort) & (RuleSet.version == latest.c.v))).scalars()
    return {r.cohort: r for r in rows}


def rule_history(session: Session, cohort: int) -> list[RuleSet]:
    return list(session.execute(
        select(RuleSet).where(RuleSet.cohort == cohort).order_by(RuleSet.version.desc())).scalars())


def get_version(session: Session, cohort: int, version: int) -> RuleSet:
    found = session.execute(select(RuleSet).where(RuleSet.cohort == cohort, RuleSet.version == version)).scalar()
    if found is None:
        raise NotFound(_("No such version of the rules"))
    return found


def arithmetic_rules(rule_set: RuleSet | None) -> arithmetic.Rules:
    """The rule set as the pure arithmetic reads it; no rule set: nothing required."""
    if rule_set is None:
        return arithmetic.Rules()
    return arithmetic.Rules(
        total_min_hours=Decimal(rule_set.total_min_hours),
        modules={key: arithmetic.ModuleRule(
            Decimal(m.get("min_hours") or "0"),
            Decimal(m["max_hours"]) if m.get("max_hours") is not None else None,
        ) for key, m in (rule_set.modules or {}).items()},
        pass_hours=Decimal(rule_set.pass_hours),
        excellent_hours=Decimal(rule_set.excellent_hours),
        years_required=rule_set.years_required,
    )


def cohort_students(session: Session, cohort: int) -> int:
    return session.execute(
        select(func.count(User.id)).join(SchoolClass, SchoolClass.id == User.class_id)
        .where(SchoolClass.cohort == cohort, User.role.in_(STUDENT_ROLES))
    ).scalar_one()


def _hours(raw, field: str, errors: dict[str, list[str]], *, required: bool) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors[field] = [_("Required")]
        return None
    if isinstance(raw, bool):
        errors[field] = [_("A number of hours from 0 to %(max)s", max=MAX_RULE_HOURS)]
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors[field] = [_("A number of hours from 0 to %(max)s", max=MAX_RULE_HOURS)]
        return None
    if not value.is_finite() or value < 0 or value > MAX_RULE_HOURS:
        errors[field] = [_("A number of hours from 0 to %(max)s", max=MAX_RULE_HOURS)]
        return None
    if value != value.quantize(_STEP):
        errors[field] = [_("At most one decimal place")]
        return None
    return value.quantize(_STEP)


def check_rules(session: Session, values: dict) -> dict:
    """The rule set's values, checked field by field (dotted names, like the API's)."""
    errors: dict[str, list[str]] = {}
    total = _hours(values.get("total_min_hours"), "total_min_hours", errors, required=True)
    annual = values.get("annual") or {}
    if not isinstance(annual, dict):
        errors["annual"] = [_("An object with pass_hours and excellent_hours")]
        annual = {}
    pass_hours = _hours(annual.get("pass_hours"), "annual.pass_hours", errors, required=True)
    excellent = _hours(annual.get("excellent_hours"), "annual.excellent_hours", errors, required=True)
    if pass_hours is not None and excellent is not None and excellent < pass_hours:
        errors["annual.excellent_hours"] = [_("At least the pass threshold (%(hours)s h)", hours=pass_hours)]
    years = values.get("years_required", 0)
    if years is None or years == "":
        years = 0
    try:
        years = int(str(years).strip())
        if not 0 <= years <= MAX_YEARS or isinstance(values.get("years_required"), bool | float):
            raise ValueError
    except ValueError:
        errors["years_required"] = [_("A whole number from 0 to %(max)d", max=MAX_YEARS)]
    modules_in = values.get("modules") or {}
    if not isinstance(modules_in, dict):
        errors["modules"] = [_("An object keyed by module")]
        modules_in = {}
    known = module_keys(session)
    modules: dict[str, dict[str, str]] = {}
    for key, rule in modules_in.items():
        if key not in known:
            errors[f"modules.{key}"] = [_("Unknown module; one of: %(choices)s", choices=", ".join(known))]
            continue
        if rule is None:
            rule = {}
        if not isinstance(rule, dict) or set(rule) - {"min_hours", "max_hours"}:
            errors[f"modules.{key}"] = [_("An object with min_hours and max_hours")]
            continue
        low = _hours(rule.get("min_hours"), f"modules.{key}.min_hours", errors, required=False)
        cap = _hours(rule.get("max_hours"), f"modules.{key}.max_hours", errors, required=False)
        if low is not None and cap is not None and low > cap:
            errors[f"modules.{key}.min_hours"] = [_("Above the module's cap (%(hours)s h)", hours=cap)]
            continue
        entry = {}
        if low:
            entry["min_hours"] = str(low)
        if cap is not None:
            entry["max_hours"] = str(cap)
        if entry:
            modules[key] = entry
    if total is not None and not errors:
        # The total must be reachable: with every module capped, the caps bound what can count.
        capped = [Decimal(m["max_hours"]) for m in modules.values() if "max_hours" in m]
        if len(capped) == len(known) and total > sum(capped):
            errors["total_min_hours"] = [_("Above what the module caps allow (%(hours)s h)", hours=sum(capped))]
    if errors:
        raise Invalid(errors, _("Check the rules"))
    return {"total_min_hours": total, "modules": {k: modules[k] for k in known if k in modules},
            "pass_hours": pass_hours, "excellent_hours": excellent, "years_required": years}


def _same(rule_set: RuleSet, checked: dict) -> bool:
    return (Decimal(rule_set.total_min_hours) == checked["total_min_hours"]
            and (rule_set.modules or {}) == checked["modules"]
            and Decimal(rule_set.pass_hours) == checked["pass_hours"]
            and Decimal(rule_set.excellent_hours) == checked["excellent_hours"]
            and rule_set.years_required == checked["years_required"])


def set_rules(session: Session, actor: User | None, cohort: int, values: dict) -> RuleSet:
    """A new version of the cohort's rules (the same values again: the current version, unchanged)."""
    if not permissions.can_set_rules(actor):
        raise Forbidden(_("Only the admin sets the credit rules"))
    if not isinstance(cohort, int) or not 1990 <= cohort <= 2100:
        raise Invalid({"cohort": [_("A year of entry, e.g. 2023")]}, _("Check the cohort"))
    if cohort_students(session, cohort) == 0:
        raise Invalid({"cohort": [_("No student of cohort %(cohort)d", cohort=cohort)]}, _("Check the cohort"))
    checked = check_rules(session, values)
    current = current_rules(session, cohort)
    if current is not None:
        # Two admins saving at once queue here, so each version number is taken once.
        lock_row(session, RuleSet, current.id)
        session.refresh(current)
        if _same(current, checked):
            return current
    rule_set = RuleSet(cohort=cohort, version=(current.version + 1) if current else 1,
                       created_by_id=actor.id if actor else None, **checked)
    session.add(rule_set)
    session.flush()
    append_event(session, actor, "rules.set", "rules", rule_set.name, {
        "cohort": cohort, "version": rule_set.version, "total_min_hours": str(checked["total_min_hours"]),
        "modules": checked["modules"], "pass_hours": str(checked["pass_hours"]),
        "excellent_hours": str(checked["excellent_hours"]), "years_required": checked["years_required"],
    })
    session.flush()
    return rule_set
