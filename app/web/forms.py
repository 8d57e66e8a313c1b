"""Flask-WTF forms: they turn posted strings into plain values; the services judge them.

Validators here only parse (a date, a whole number, a file was sent). Every rule of the
record (lengths, ranges, lifecycles, who may act) is the services' and comes back as
`Invalid.fields`, which the views put next to the same-named fields.
Labels are "中文 English": the field macro shows the English part smaller.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import DateTimeLocalInput, TextInput

from app.schemas.common import EARLIEST_YEAR, LATEST_YEAR

REQUIRED = "必填 Required"
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
                raise ValueError(f"须在 {EARLIEST_YEAR}–{LATEST_YEAR} 年之间 Year out of range")
            self.data = moment
            return
        raise ValueError(
            "须为日期和时间，如 2026-10-20 09:00 A date and time, e.g. 2026-10-20 09:00"
        )


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
            raise ValueError("须为正整数 A positive whole number") from None


class IdListField(Field):
    """Checkbox values posted under one name, as ids."""

    def process_formdata(self, valuelist):
        ids = []
        for value in valuelist:
            number = int_or_none(value)
            if number is None:
                raise ValueError("编号有误 Not a record number")
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
        "用户名 Username", validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "autofocus": True},
    )
    password = PasswordField(
        "密码 Password", validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class ActionForm(FlaskForm):
    """A button: only the CSRF token travels."""


class UnitForm(OnceForm):
    code = StringField("院系代码 Code", render_kw={"maxlength": 32, "placeholder": "CS"})
    name = StringField("院系名称 Name", render_kw={"maxlength": 200, "placeholder": "计算机学院"})


class ClassForm(OnceForm):
    unit_id = SelectField("所属院系 Unit", coerce=int_or_none, validate_choice=False)
    name = StringField("班级名称 Name", render_kw={"maxlength": 100, "placeholder": "计算机2301"})
    cohort = WholeNumberField("入学年级 Cohort", render_kw={"inputmode": "numeric", "placeholder": "2023"})


class ClubForm(OnceForm):
    name = StringField("社团名称 Name", render_kw={"maxlength": 200})
    category = StringField(
        "类别 Category",
        render_kw={"maxlength": 64, "placeholder": "学术科技 / 文化体育 / 志愿公益"},
    )
    unit_id = SelectField("所属院系 Unit", coerce=int_or_none, validate_choice=False)
    advisor_ids = SelectMultipleField(
        "指导老师 Advisors", coerce=int_or_none, validate_choice=False
    )
    leader_ids = SelectMultipleField(
        "社团负责人 Leaders", coerce=int_or_none, validate_choice=False
    )
    founded_on = DateField(
        "成立日期 Founded on", validators=[Optional()],
        format="%Y-%m-%d",
    )
    charter = TextAreaField("章程 Charter", render_kw={"rows": 3})

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
    status = SelectField("状态 Status", validate_choice=False)
    STATUS_CHOICES = [("active", "正常 Active"), ("suspended", "暂停 Suspended"), ("dissolved", "已解散 Dissolved")]

    def values(self) -> dict:
        return {**super().values(), "status": self.status.data}


class UserForm(OnceForm):
    username = StringField(
        "用户名 Username",
        render_kw={"maxlength": 64, "autocomplete": "off", "autocapitalize": "none"},
    )
    display_name = StringField("姓名 Name", render_kw={"maxlength": 200})
    role = SelectField("角色 Role", validate_choice=False)
    student_no = StringField(
        "学号 Student number", render_kw={"maxlength": 32, "placeholder": "学生与社团负责人必填"}
    )
    unit_id = SelectField("院系 Unit", coerce=int_or_none, validate_choice=False)
    class_id = SelectField("班级 Class", coerce=int_or_none, validate_choice=False)
    email = StringField("邮箱 Email", render_kw={"maxlength": 200, "type": "email"})
    password = PasswordField(
        "初始密码 Initial password", render_kw={"autocomplete": "new-password", "minlength": 10}
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

    display_name = StringField("姓名 Name", render_kw={"maxlength": 200})
    email = StringField("邮箱 Email", render_kw={"maxlength": 200, "type": "email"})
    role = SelectField("角色 Role", validate_choice=False)
    unit_id = SelectField("院系 Unit", coerce=int_or_none, validate_choice=False)
    class_id = SelectField("班级 Class", coerce=int_or_none, validate_choice=False)
    scope_unit_id = SelectField("院团委负责学院 College overseen", coerce=int_or_none, validate_choice=False)

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
        "新密码 New password", validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password", "minlength": 10, "maxlength": 128},
        description="至少 10 个字符，不要用常见密码或自己的姓名、学号 "
                    "At least 10 characters; not a common password, your name or number",
    )
    confirm = PasswordField(
        "再输入一次 Repeat the new password", validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_confirm(self, field):
        if field.data != self.new_password.data:
            raise ValidationError("两次输入的密码不一致 The two passwords differ")


class PasswordChangeForm(PasswordResetForm):
    """The signed-in person's change: the current password first."""

    current_password = PasswordField(
        "当前密码 Current password", validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


class ActivityForm(OnceForm):
    title = StringField("活动名称 Title", render_kw={"maxlength": 200})
    module = SelectField("模块 Module", validate_choice=False)
    level = SelectField("级别 Level", validate_choice=False)
    starts_at = LocalDateTimeField("开始时间 Starts at", validators=[InputRequired(REQUIRED)])
    ends_at = LocalDateTimeField("结束时间 Ends at", validators=[InputRequired(REQUIRED)])
    location = StringField("地点 Location", render_kw={"maxlength": 200})
    hours = StringField(
        "学时 Hours", render_kw={"inputmode": "decimal", "placeholder": "例如 Eg. 2.5"}
    )
    capacity = WholeNumberField(
        "名额 Capacity",
        render_kw={"inputmode": "numeric", "placeholder": "不限可留空 Empty: no limit"},
    )
    description = TextAreaField("活动简介 Description", render_kw={"rows": 3})
    objectives = TextAreaField("活动目标 Objectives", render_kw={"rows": 3})
    budget = StringField("预算（元）Budget (CNY)", render_kw={"inputmode": "decimal"})
    partners = TextAreaField(
        "合作单位 Partners", render_kw={"rows": 2, "placeholder": "每行一个 One per line"}
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
    reason = TextAreaField("原因 Reason", render_kw={"rows": 2, "maxlength": 2000})


class OutcomeForm(_PageTokenForm):
    outcome = TextAreaField(
        "成果报告 Outcome report", render_kw={"rows": 4, "placeholder": "活动成效、获奖、影响…"}
    )


class RecordForm(FlaskForm):
    student_no = StringField(
        "学号 Student number",
        render_kw={"maxlength": 32, "autocomplete": "off", "inputmode": "text"},
    )
    role = SelectField("角色 Role", validate_choice=False)
    hours = StringField(
        "学时 Hours",
        render_kw={"inputmode": "decimal", "placeholder": "留空按活动学时 Empty: activity's"},
    )
    award = StringField("奖项 Award", render_kw={"maxlength": 100, "placeholder": "如 一等奖"})


class CsvUploadForm(FlaskForm):
    file = FileField(
        "名单文件 CSV file",
        validators=[FileRequired("请选择文件 Choose a file")],
        render_kw={"accept": ".csv,text/csv"},
    )


class CsvConfirmForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired("上传已失效 The upload is missing")])


class CertifyForm(FlaskForm):
    ids = IdListField()
    note = StringField("认证备注 Note", render_kw={"maxlength": 500})

    def validate_ids(self, field):
        if not field.data:
            raise ValidationError("请至少选择一条记录 Select at least one record")
