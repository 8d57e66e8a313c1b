"""Flask-WTF forms: they turn posted strings into plain values; the services judge them.

Validators here only parse (a date, a whole number, a file was sent). Every rule of the
record (lengths, ranges, lifecycles, who may act) is the services' and comes back as
`Invalid.fields`, which the views put next to the same-named fields.
Labels, hints and messages are English message ids (lazy_gettext: they are read at render
time, in the reader's language).

One module, though long: every form of the site, one small class each, sharing the field
helpers above; views import them by name.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    HiddenField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import DateTimeLocalInput, TextInput

from app.models.clubs import ClubStatus
from app.schemas.common import EARLIEST_YEAR, LATEST_YEAR

REQUIRED = _l("Required")
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def int_or_none(value) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


class LocalDateTimeField(Field):
    """A `datetime-local` input: a naive wall-clock time the view reads in the school's zone."""

    widget = DateTimeLocalInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m-%dT%H:%M") if isinstance(self.data, datetime) else ""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        self.data = None
        for fmt in DATETIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
            except ValueError:
                continue
            # The API's range: year 1 or 9999 cannot even be turned into UTC to be stored.
            if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
                raise ValueError(_("The year must be between %(first)s and %(last)s",
                                   first=EARLIEST_YEAR, last=LATEST_YEAR))
            self.data = moment
            return
        raise ValueError(_("A date and time, e.g. %(example)s", example="2026-10-20 09:00"))


class WholeNumberField(Field):
    """An optional positive whole number typed as text (empty → None)."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_("A positive whole number")) from None


class IdListField(Field):
    """Checkbox values posted under one name, as ids."""

    def process_formdata(self, valuelist):
        ids = []
        for value in valuelist:
            number = int_or_none(value)
            if number is None:
                raise ValueError(_("Not a record number"))
            ids.append(number)
        self.data = ids

    def _value(self):
        return ""


class OnceForm(FlaskForm):
    """A create form carrying a one-time token, so going back and posting again is caught."""

    nonce = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.nonce.data:
            self.nonce.data = secrets.token_urlsafe(16)


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button: only the CSRF token travels."""


class UnitForm(OnceForm):
    code = StringField(_l("Unit code"), render_kw={"maxlength": 32, "placeholder": "CS"})
    name = StringField(_l("Unit name"), render_kw={"maxlength": 200, "placeholder": _l("School of Computer Science")})


class ClassForm(OnceForm):
    unit_id = SelectField(_l("Unit"), coerce=int_or_none, validate_choice=False)
    name = StringField(_l("Class name"), render_kw={"maxlength": 100, "placeholder": _l("Computer Science 2301")})
    cohort = WholeNumberField(_l("Cohort"), render_kw={"inputmode": "numeric", "placeholder": "2023"})


class ClubForm(OnceForm):
    name = StringField(_l("Club name"), render_kw={"maxlength": 200})
    category = StringField(
        _l("Category"),
        render_kw={"maxlength": 64, "placeholder": _l("Academic / Culture and sports / Volunteering")},
    )
    unit_id = SelectField(_l("Unit"), coerce=int_or_none, validate_choice=False)
    advisor_ids = SelectMultipleField(
        _l("Advisors"), coerce=int_or_none, validate_choice=False
    )
    leader_ids = SelectMultipleField(
        _l("Club leaders"), coerce=int_or_none, validate_choice=False
    )
    founded_on = DateField(
        _l("Founded on"), validators=[Optional()],
        format="%Y-%m-%d",
    )
    charter = TextAreaField(_l("Charter"), render_kw={"rows": 3})

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "category": self.category.data,
            "unit_id": self.unit_id.data,
            "advisor_ids": [i for i in self.advisor_ids.data or [] if i is not None],
            "leader_ids": [i for i in self.leader_ids.data or [] if i is not None],
            "founded_on": self.founded_on.data,
            "charter": (self.charter.data or "").strip() or None,
        }


class ClubEditForm(ClubForm):
    status = SelectField(_l("Status"), validate_choice=False)
    # The labels stay lazy: the list is built at import and read in the reader's language.
    STATUS_CHOICES = [(status.value, ClubStatus.__titles__[status.value]) for status in ClubStatus]

    def values(self) -> dict:
        return {**super().values(), "status": self.status.data}


class UserForm(OnceForm):
    username = StringField(
        _l("Username"),
        render_kw={"maxlength": 64, "autocomplete": "off", "autocapitalize": "none"},
    )
    display_name = StringField(_l("Full name"), render_kw={"maxlength": 200})
    role = SelectField(_l("Role"), validate_choice=False)
    student_no = StringField(
        _l("Student number"),
        render_kw={"maxlength": 32, "placeholder": _l("Required for students and leaders")},
    )
    unit_id = SelectField(_l("Unit"), coerce=int_or_none, validate_choice=False)
    class_id = SelectField(_l("Class"), coerce=int_or_none, validate_choice=False)
    email = StringField(_l("Email"), render_kw={"maxlength": 200, "type": "email"})
    password = PasswordField(
        _l("Initial password"), render_kw={"autocomplete": "new-password", "minlength": 10}
    )

    def values(self) -> dict:
        return {
            "username": self.username.data or "",
            "display_name": self.display_name.data or "",
            "role": self.role.data or "",
            "student_no": (self.student_no.data or "").strip() or None,
            "unit_id": self.unit_id.data,
            "class_id": self.class_id.data,
            "email": (self.email.data or "").strip() or None,
            "password": self.password.data or "",
        }


class UserEditForm(FlaskForm):
    """The admin edits a person (app.web.people); the view sends only the fields it showed."""

    display_name = StringField(_l("Full name"), render_kw={"maxlength": 200})
    email = StringField(_l("Email"), render_kw={"maxlength": 200, "type": "email"})
    role = SelectField(_l("Role"), validate_choice=False)
    unit_id = SelectField(_l("Unit"), coerce=int_or_none, validate_choice=False)
    class_id = SelectField(_l("Class"), coerce=int_or_none, validate_choice=False)
    scope_unit_id = SelectField(_l("College overseen"), coerce=int_or_none, validate_choice=False)

    def values(self, *, role: bool, scope: bool) -> dict:
        values = {
            "display_name": self.display_name.data or "",
            "email": (self.email.data or "").strip() or None,
            "unit_id": self.unit_id.data,
            "class_id": self.class_id.data,
        }
        if role:
            values["role"] = self.role.data or ""
        if scope:
            values["scope_unit_id"] = self.scope_unit_id.data
        return values


class PasswordResetForm(FlaskForm):
    """A new password, twice (the one-time link's page)."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password", "minlength": 10, "maxlength": 128},
        description=_l("At least 10 characters; not a common password, your name or number"),
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm(self, field):
        if field.data != self.new_password.data:
            raise ValidationError(_("The two passwords differ"))


class PasswordChangeForm(PasswordResetForm):
    """The signed-in person's change: the current password first."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


class ActivityForm(OnceForm):
    title = StringField(_l("Title"), render_kw={"maxlength": 200})
    module = SelectField(_l("Module"), validate_choice=False)
    level = SelectField(_l("Level"), validate_choice=False)
    starts_at = LocalDateTimeField(_l("Starts at"), validators=[InputRequired(REQUIRED)])
    ends_at = LocalDateTimeField(_l("Ends at"), validators=[InputRequired(REQUIRED)])
    location = StringField(_l("Location"), render_kw={"maxlength": 200})
    hours = StringField(
        _l("Hours"), render_kw={"inputmode": "decimal", "placeholder": _l("e.g. %(example)s", example="2.5")}
    )
    capacity = WholeNumberField(
        _l("Capacity"),
        render_kw={"inputmode": "numeric", "placeholder": _l("Empty: no limit")},
    )
    registration_deadline = LocalDateTimeField(_l("Sign-ups close at"), validators=[Optional()])
    description = TextAreaField(_l("Description"), render_kw={"rows": 3})
    objectives = TextAreaField(_l("Objectives"), render_kw={"rows": 3})
    budget = StringField(_l("Budget (CNY)"), render_kw={"inputmode": "decimal"})
    partners = TextAreaField(
        _l("Partners"), render_kw={"rows": 2, "placeholder": _l("One per line")}
    )

    def values(self, zone) -> dict:
        def aware(moment):
            return moment.replace(tzinfo=zone) if moment is not None else None

        lines = (self.partners.data or "").splitlines()
        partners = [line.strip() for line in lines if line.strip()]
        budget = (self.budget.data or "").strip()
        return {
            "title": self.title.data or "",
            "module": self.module.data,
            "level": self.level.data,
            "starts_at": aware(self.starts_at.data),
            "ends_at": aware(self.ends_at.data),
            "location": self.location.data or "",
            "hours": (self.hours.data or "").strip(),
            "capacity": self.capacity.data,
            "registration_deadline": aware(self.registration_deadline.data),
            "description": self.description.data,
            "objectives": self.objectives.data,
            "budget": budget or None,
            "partners": partners,
        }


class _PageTokenForm(FlaskForm):
    """Several of these share a page under prefixes; CSRFProtect checks every POST against
    the page's token (rendered from ActionForm), so they carry no token of their own."""

    class Meta:
        csrf = False


class ReasonForm(_PageTokenForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 2000})


class OutcomeForm(_PageTokenForm):
    outcome = TextAreaField(
        _l("Outcome report"),
        render_kw={"rows": 4, "placeholder": _l("What it achieved: awards, reach, impact…")},
    )


class RecordForm(FlaskForm):
    student_no = StringField(
        _l("Student number"),
        render_kw={"maxlength": 32, "autocomplete": "off", "inputmode": "text"},
    )
    role = SelectField(_l("Role"), validate_choice=False)
    hours = StringField(
        _l("Hours"),
        render_kw={"inputmode": "decimal", "placeholder": _l("Empty: the activity's hours")},
    )
    hours_reason = StringField(
        _l("Reason for more hours"),
        render_kw={"maxlength": 500, "placeholder": _l("Only when the hours exceed the activity's")},
    )
    award = StringField(_l("Award"), render_kw={"maxlength": 100, "placeholder": _l("e.g. First prize")})


class CsvUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(_l("Choose a file"))],
        render_kw={"accept": ".csv,text/csv"},
    )


class CsvConfirmForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired(_l("The upload is missing"))])


class CertifyForm(FlaskForm):
    ids = IdListField()
    note = StringField(_l("Note"), render_kw={"maxlength": 500})

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError(_("Select at least one record"))


class CheckInForm(FlaskForm):
    """The phone's confirm button: the code and direction of the scanned link travel with it."""

    c = HiddenField()
    d = HiddenField()


class LateEntryForm(FlaskForm):
    student_no = StringField(_l("Student number"), render_kw={"maxlength": 32, "autocomplete": "off"})
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal", "maxlength": 6},
                        description=_l("Empty: the activity's hours"))
    reason = TextAreaField(_l("Why the scan failed"), render_kw={"rows": 2, "maxlength": 2000})


class CatalogueFilterForm(FlaskForm):
    """The catalogue's filters: a GET form (bookmarkable), so no CSRF token."""

    class Meta:
        csrf = False

    module = SelectField(_l("Module"), validate_choice=False)
    level = SelectField(_l("Level"), validate_choice=False)
    unit_id = SelectField(_l("College"), validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])


class ClaimForm(OnceForm):
    title = StringField(_l("What you achieved"), render_kw={"maxlength": 200,
                                                            "placeholder": _l("e.g. %(example)s", example="CET-6")})
    module = SelectField(_l("Module"), validate_choice=False)
    level = SelectField(_l("Level"), validate_choice=False)
    occurred_on = DateField(_l("Date"), validators=[Optional()])
    hours = StringField(_l("Hours"), render_kw={"inputmode": "decimal"})
    award = StringField(_l("Award (optional)"), render_kw={"maxlength": 100})
    description = TextAreaField(_l("Description (optional)"), render_kw={"rows": 3})
    files = MultipleFileField(_l("Evidence files"), render_kw={
        "accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"})

    def values(self) -> dict:
        return {
            "title": self.title.data or "", "module": self.module.data, "level": self.level.data,
            "occurred_on": self.occurred_on.data, "hours": (self.hours.data or "").strip(),
            "award": self.award.data, "description": self.description.data,
        }


class NoteForm(_PageTokenForm):
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2, "maxlength": 2000})


class AppealForm(OnceForm):
    reason = TextAreaField(_l("Why the record should be certified"), render_kw={"rows": 4, "maxlength": 2000})


class ResolveForm(_PageTokenForm):
    decision = RadioField(_l("Decision"), validate_choice=False, choices=[
        SelectChoice("upheld", _l("Uphold: certify the record")),
        SelectChoice("dismissed", _l("Dismiss: the record stays as it is")),
    ])
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 2000})


class ModuleForm(OnceForm):
    key = StringField(_l("Module key"), render_kw={"maxlength": 20, "placeholder": "labour", "autocapitalize": "none"})
    name_zh = StringField(_l("Chinese name"), render_kw={"maxlength": 40})
    name_en = StringField(_l("English name"), render_kw={"maxlength": 80})

    def values(self) -> dict:
        return {"key": (self.key.data or "").strip(), "name_zh": self.name_zh.data, "name_en": self.name_en.data}


class ModuleRenameForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), render_kw={"maxlength": 40})
    name_en = StringField(_l("English name"), render_kw={"maxlength": 80})


_HOURS = {"inputmode": "decimal", "maxlength": 7}


def rules_form(module_keys) -> type[FlaskForm]:
    """The rule set's form: the fixed fields and a minimum and a cap per module of the office's list
    (the list is data, so the form is made for it)."""

    class RulesForm(FlaskForm):
        total_min_hours = StringField(_l("Total hours to graduate"), render_kw=_HOURS)
        pass_hours = StringField(_l("Hours a year for a pass"), render_kw=_HOURS)
        excellent_hours = StringField(_l("Hours a year for excellent"), render_kw=_HOURS)
        years_required = StringField(_l("Years that must pass"), render_kw={"inputmode": "numeric", "maxlength": 2})

        def values(self) -> dict:
            return {
                "total_min_hours": self.total_min_hours.data,
                "annual": {"pass_hours": self.pass_hours.data, "excellent_hours": self.excellent_hours.data},
                "years_required": (self.years_required.data or "0").strip(),
                "modules": {key: {"min_hours": self[f"{key}_min"].data or None,
                                  "max_hours": self[f"{key}_max"].data or None} for key in module_keys},
            }

        @staticmethod
        def renames() -> dict[str, str]:
            """The service's dotted field names → this form's fields."""
            out = {"annual.pass_hours": "pass_hours", "annual.excellent_hours": "excellent_hours"}
            for key in module_keys:
                out |= {f"modules.{key}.min_hours": f"{key}_min", f"modules.{key}.max_hours": f"{key}_max",
                        f"modules.{key}": f"{key}_min"}
            return out

    for key in module_keys:
        setattr(RulesForm, f"{key}_min", StringField(_l("Minimum"), render_kw=_HOURS))
        setattr(RulesForm, f"{key}_max", StringField(_l("Cap"), render_kw=_HOURS))
    return RulesForm


class YearEndForm(FlaskForm):
    academic_year = SelectField(_l("Academic year"), validate_choice=False)
    cohort = SelectField(_l("Cohort"), validate_choice=False)


class RequirementFilterForm(FlaskForm):
    """The report's filters: a GET form (bookmarkable), so no CSRF token."""

    class Meta:
        csrf = False

    cohort = SelectField(_l("Cohort"), validate_choice=False)
    unit_id = SelectField(_l("College"), validate_choice=False)
    class_id = SelectField(_l("Class"), validate_choice=False)
    met = SelectField(_l("Requirement"), validate_choice=False)
    sort = SelectField(_l("Sort by"), validate_choice=False)


class PublicCheckForm(FlaskForm):
    """The holder's public check: a last day it is open; the buttons say what to do with it."""

    public_until = DateField(_l("Open until"), validators=[Optional()], format="%Y-%m-%d")


class ShareForm(OnceForm):
    """A share link for one recipient: whom it is for (the student's note) and until when."""

    label = StringField(_l("For whom (optional)"), render_kw={"maxlength": 120})
    expires_on = DateField(_l("Valid until"), validators=[Optional()], format="%Y-%m-%d")
