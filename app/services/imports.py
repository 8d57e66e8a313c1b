"""CSV imports: a roster of students and an activity's participants, all or nothing.

Schools export CSV from Excel as UTF-8 with a BOM or as GBK; both are read. A file with one
bad row imports nothing, and every bad row is reported with its line number.

The roster is built for a whole school (30,000 students in seconds): the file is checked in
memory against a handful of set queries (the units, their classes, the numbers and usernames
already taken), inserted in one bulk statement and audited as one event. Imported accounts
have no password (`password_hash` None): their owners activate them by a one-time link or
sign in by single sign-on. A roster never carries passwords.

Somewhat over 400 lines on purpose: both imports share the reading (encodings, headers, line
numbers) and the preview → confirm shape, and read best side by side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import permissions
from app.models import Participation, ParticipationSource, Role, SchoolClass, Unit, User
from app.services import participations
from app.services.accounts import STUDENT_NO_RE, USERNAME_RE
from app.services.activities import get_activity
from app.services.audit import append_event
from app.services.classes import cohort_problem
from app.services.csv_headers import COHORT_SUFFIX, HEADERS, ROLE_NAMES
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.sql_lists import one_of
from app.timeutil import utcnow

MAX_ROWS = 20_000  # an activity's participants (a school-wide event: the whole intake)
ROSTER_MAX_ROWS = 50_000  # a school's students

@dataclass
class RowError:
    line: int
    field: str
    message: str


@dataclass
class Preview:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    entries: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_fields(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(f"line {error.line}", []).append(f"{error.field}: {error.message}")
        return out


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) first; GB18030 (a superset of GBK) for Excel's Chinese default."""
    if b"\x00" in data[:4096]:
        raise Invalid({"file": [_("Not a CSV text file")]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid({"file": [_("Unknown encoding: save as UTF-8 or GBK")]}) from None


def read_rows(data: bytes, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, row) pairs with headers mapped to field names; line 1 is the header."""
    return read_table(data, required)


def read_table(
    data: bytes, required: tuple[str, ...], max_rows: int = MAX_ROWS,
    refused: dict[str, str] | None = None,
) -> list[tuple[int, dict]]:
    """`read_rows` with a row limit, and columns whose mere presence refuses the file."""
    text = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise Invalid({"file": [_("The file is empty")]}) from None
    names = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for h in header]
    for name, message in (refused or {}).items():
        if name in names:
            raise Invalid({"file": [message]})
    missing = [r for r in required if r not in names]
    if missing:
        raise Invalid({"file": [_("Missing column(s): %(columns)s", columns=", ".join(missing))]})
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= max_rows:
                raise Invalid({"file": [_("At most %(n)s rows", n=format(max_rows, ","))]})
            row = {n: v.strip() for n, v in zip(names, values, strict=False) if n}
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise Invalid({"file": [_("Line %(line)s is malformed: %(error)s", line=reader.line_num, error=exc)]}) from None
    if not rows:
        raise Invalid({"file": [_("No data rows")]})
    return rows


def preview_participations(session: Session, actor: User | None, activity_id: int, data: bytes) -> Preview:
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(_("Only a leader of this club imports records"))
    participations.require_recordable(activity)
    rows = read_rows(data, ("student_no",))
    entries = [
        participations.Entry(
            student_no=row.get("student_no", ""),
            role=ROLE_NAMES.get(row.get("role", ""), row.get("role") or "participant"),
            hours=row.get("hours") or None,
            award=row.get("award") or None,
            hours_reason=row.get("hours_reason") or None,
        )
        for _line, row in rows
    ]
    _good, bad = participations.check_entries(session, activity, entries)
    left = participations.places_left(session, activity)
    if left is not None:
        # The rows past the last free place are the bad ones: the leader sees which to drop.
        fine = [i for i in range(len(entries)) if i not in bad]
        for index in fine[left:]:
            bad[index] = {"student_no": [participations.full_message(activity, left)]}
    names = dict(session.execute(
        select(User.student_no, User.display_name).where(
            User.student_no.in_({e.student_no for e in entries})
        )
    ).all())
    preview = Preview()
    for index, ((line, _row), entry) in enumerate(zip(rows, entries, strict=True)):
        preview.rows.append({
            "line": line, "student_no": entry.student_no, "name": names.get(entry.student_no, ""),
            "role": entry.role, "hours": entry.hours or str(activity.hours), "award": entry.award,
            "hours_reason": entry.hours_reason, "ok": index not in bad,
        })
        for fname, reasons in bad.get(index, {}).items():
            preview.errors.extend(RowError(line, fname, r) for r in reasons)
    preview.entries = entries
    return preview


def import_participations(session: Session, actor: User | None, activity_id: int, data: bytes) -> list[Participation]:
    preview = preview_participations(session, actor, activity_id, data)
    if not preview.ok:
        raise Invalid(preview.as_fields(), _("%(n)s bad rows; nothing was imported",
                                                  n=len({e.line for e in preview.errors})))
    try:
        return participations.record_participations(session, actor, activity_id, preview.entries,
                                                     source=ParticipationSource.IMPORT)
    except Invalid as exc:  # a concurrent writer got in between preview and import
        raise Invalid(exc.fields, _("Nothing was imported")) from None


# --------------------------------------------------------------------------- the roster

PASSWORD_REFUSED = _l("A roster never carries passwords: remove the password column. Students "
                      "activate their accounts by a one-time link or sign in by single sign-on.")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 200
MAX_EMAIL = 200


@dataclass
class RosterRow:
    line: int
    student_no: str
    name: str
    unit: str  # the code (or name) as written in the file
    unit_name: str
    class_name: str
    cohort: str
    username: str
    email: str
    unit_code: str = ""  # the unit it was matched to
    named: bool = False  # a username of its own (else the number)
    ok: bool = True


@dataclass
class RosterPreview(Preview):
    """Every row of the file as it would be imported, with every problem by line and field."""

    values: list[dict] = field(default_factory=list)  # the users to insert, when all is well
    digest: str = ""  # SHA-256 of the file

    @property
    def bad_rows(self) -> int:
        return len({e.line for e in self.errors})

    def breakdown(self) -> tuple[dict[str, int], dict[str, int]]:
        """Students per unit code and per "unit code / class name" (no class: the unit alone)."""
        units: Counter[str] = Counter()
        classes: Counter[str] = Counter()
        for row in self.rows:
            units[row.unit_code or "—"] += 1
            if row.class_name:
                classes[f"{row.unit_code} / {row.class_name}"] += 1
        return dict(units), dict(classes)


@dataclass
class RosterImport:
    count: int
    student_nos: list[str]
    units: dict[str, int]
    classes: dict[str, int]


def _taken(session: Session, column, values: set[str]) -> set[str]:
    """Which of these values the column already holds: one statement, however many values."""
    if not values:
        return set()
    return set(session.execute(select(column).where(one_of(session, column, values))).scalars())


def _same_as(lines: list[int], line: int) -> str:
    # The separator of a list of line numbers is a message too: "、" in Chinese.
    others = _(", ").join(str(n) for n in lines if n != line)
    return _("Same as line %(lines)s", lines=others)


def _cohort_of(text: str) -> int | None:
    text = text.removesuffix(COHORT_SUFFIX).strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


@dataclass
class _Known:
    """The units and classes a roster is matched against, loaded once per file."""

    by_code: dict
    by_name: dict  # a unit's name, when no other unit has it
    classes: dict  # (unit id, class name) -> class row

    @classmethod
    def load(cls, session: Session) -> _Known:
        units = session.execute(select(Unit.id, Unit.code, Unit.name)).all()
        names = Counter(u.name for u in units)
        classes = session.execute(
            select(SchoolClass.id, SchoolClass.unit_id, SchoolClass.name, SchoolClass.cohort)
        ).all()
        return cls(
            by_code={u.code: u for u in units},
            by_name={u.name: u for u in units if names[u.name] == 1},
            classes={(c.unit_id, c.name): c for c in classes},
        )


def _check_row(line: int, raw: dict, known: _Known) -> tuple[RosterRow, dict, list[RowError]]:
    """One row on its own (the file and the database are checked by the caller)."""
    number = raw.get("student_no", "")
    row = RosterRow(
        line=line, student_no=number, name=raw.get("name", ""), unit=raw.get("unit", ""),
        unit_name="", class_name=raw.get("class", ""), cohort=raw.get("cohort", ""),
        username=raw.get("username", "") or number, email=raw.get("email", ""),
        named=bool(raw.get("username")),
    )
    bad: list[RowError] = []

    def problem(fname: str, message: str) -> None:
        bad.append(RowError(line, fname, message))

    for fname in ("student_no", "name", "unit", "class", "cohort", "username", "email"):
        if "\x00" in raw.get(fname, ""):
            problem(fname, _("Contains a NUL character"))
    number_ok = bool(STUDENT_NO_RE.match(number))
    if not number_ok:
        problem("student_no", _("The student number must be 4–32 letters, digits or -") if number
                else _("A student needs a student number"))
    if not row.name or len(row.name) > MAX_NAME:
        problem("name", _("The name must be 1–%(n)s characters", n=MAX_NAME))
    # A username taken from a malformed number: the number's reason says it already.
    if (row.named or number_ok) and not USERNAME_RE.match(row.username):
        problem("username", _("3–64 letters, digits or . _ @ -"))
    if row.email and (len(row.email) > MAX_EMAIL or not EMAIL_RE.match(row.email)):
        problem("email", _("Not an e-mail address"))
    unit = (known.by_code.get(row.unit) or known.by_name.get(row.unit)) if row.unit else None
    if unit is not None:
        row.unit_name, row.unit_code = unit.name, unit.code
    elif row.unit:
        problem("unit", _("No unit code %(code)s", code=row.unit))
    school_class = None
    if row.class_name:
        if not row.unit:
            problem("unit", _("A class needs the row's unit"))
        elif unit is not None:
            school_class = known.classes.get((unit.id, row.class_name))
            if school_class is None:
                problem("class", _("%(unit)s has no class named %(name)s", unit=unit.name, name=row.class_name))
    if row.cohort:
        cohort = _cohort_of(row.cohort)
        if cohort is None or cohort_problem(cohort):
            problem("cohort", cohort_problem(None))
        elif not row.class_name:
            problem("class", _("A cohort goes with a class"))
        elif school_class is not None and school_class.cohort != cohort:
            problem("cohort", _("Class %(name)s is of the cohort %(cohort)s",
                                       name=row.class_name, cohort=school_class.cohort))
    values = {
        "username": row.username, "password_hash": None, "display_name": row.name,
        "role": Role.STUDENT.value, "student_no": number,
        "unit_id": unit.id if unit is not None else None,
        "class_id": school_class.id if school_class is not None else None,
        "email": row.email or None, "active": True,
    }
    return row, values, bad


def roster_import_info(session: Session, actor: User | None) -> dict[str, int]:
    """What the import page shows before a file is chosen (and who may open it)."""
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin imports the roster"))
    return {
        "units": session.execute(select(func.count()).select_from(Unit)).scalar_one(),
        "classes": session.execute(select(func.count()).select_from(SchoolClass)).scalar_one(),
        "max_rows": ROSTER_MAX_ROWS,
    }


def preview_students(session: Session, actor: User | None, data: bytes) -> RosterPreview:
    """Check a roster file without writing anything: every row, every problem.

    Columns: 学号, 姓名, and optionally 院系代码, 班级 (matched by name within the row's
    unit), 入学年级 (must be the class's cohort), 用户名 (default: the student number), 邮箱.
    """
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin imports the roster"))
    rows = read_table(data, ("student_no", "name"), ROSTER_MAX_ROWS, refused={"password": str(PASSWORD_REFUSED)})
    preview = RosterPreview(digest=hashlib.sha256(data).hexdigest())
    errors = preview.errors

    known = _Known.load(session)
    numbers: dict[str, list[int]] = {}
    usernames: dict[str, list[int]] = {}
    number_of_line: dict[int, str] = {}
    values: list[dict] = []
    for line, raw in rows:
        row, row_values, bad = _check_row(line, raw, known)
        numbers.setdefault(row.student_no, []).append(line)
        usernames.setdefault(row.username, []).append(line)
        number_of_line[line] = row.student_no
        errors.extend(bad)
        preview.rows.append(row)
        values.append(row_values)

    # Within the file: both (every) lines of a duplicate are named.
    for number, lines in numbers.items():
        if number and len(lines) > 1:
            errors.extend(RowError(line, "student_no", _same_as(lines, line)) for line in lines)
    for lines in usernames.values():
        if len(lines) > 1:
            for line in lines:
                # A repeated number already says it (the username defaults to the number).
                clash = [n for n in lines if n == line or number_of_line[n] != number_of_line[line]]
                if len(clash) > 1:
                    errors.append(RowError(line, "username", _same_as(clash, line)))
    # Against the database: two set queries, whatever the size of the file.
    taken_numbers = _taken(session, User.student_no, {n for n in numbers if n and "\x00" not in n})
    taken_names = _taken(session, User.username, {u for u in usernames if u and "\x00" not in u})
    for row in preview.rows:
        if row.student_no in taken_numbers:
            errors.append(RowError(row.line, "student_no", _("Student number taken")))
        # A username that is the (taken) number: the number's reason says it already.
        if row.username in taken_names and (row.named or row.student_no not in taken_numbers):
            errors.append(RowError(row.line, "username", _("Username taken")))

    errors.sort(key=lambda e: e.line)
    bad_lines = {e.line for e in errors}
    for row in preview.rows:
        row.ok = row.line not in bad_lines
    if not errors:
        preview.values = values
    return preview


def import_students(session: Session, actor: User | None, data: bytes) -> RosterImport:
    """Create a roster of students without passwords; every row valid or none created.

    One bulk INSERT and one audit event (`user.import`) with the count, the breakdown by
    unit and class, and the student numbers.
    """
    preview = preview_students(session, actor, data)
    if not preview.ok:
        raise Invalid(preview.as_fields(), _("%(n)s bad rows; nobody was imported", n=preview.bad_rows))
    now = utcnow()
    values = [{**v, "created_at": now} for v in preview.values]
    units, classes = preview.breakdown()
    numbers = [v["student_no"] for v in values]
    try:
        session.execute(insert(User.__table__), values)  # Core executemany: one statement
        append_event(session, actor, "user.import", "roster", preview.digest[:16], {
            "count": len(values), "units": units, "classes": classes, "student_nos": numbers,
        })
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(_("A number or username was taken meanwhile; nobody was imported")) from None
    return RosterImport(count=len(values), student_nos=numbers, units=units, classes=classes)
