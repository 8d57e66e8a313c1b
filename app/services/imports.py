"""CSV imports: a roster of students and an activity's participants, all or nothing.

Schools export CSV from Excel as UTF-8 with a BOM or as GBK; both are read. A file with one
bad row imports nothing, and every bad row is reported with its line number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import permissions
from app.models import Participation, Role, Unit, User
from app.services import participations
from app.services.accounts import check_user_values
from app.services.activities import get_activity
from app.services.errors import Conflict, DomainError, Forbidden, Invalid

MAX_ROWS = 5000

# Header names schools use, in Chinese or English, mapped to our field names.
HEADERS = {
    "学号": "student_no", "student_no": "student_no", "student number": "student_no",
    "姓名": "name", "name": "name", "display_name": "name",
    "角色": "role", "role": "role",
    "学时": "hours", "时长": "hours", "hours": "hours",
    "奖项": "award", "获奖": "award", "award": "award",
    "用户名": "username", "username": "username",
    "密码": "password", "password": "password",
    "院系代码": "unit", "院系": "unit", "unit": "unit", "unit_code": "unit",
    "邮箱": "email", "email": "email",
}

ROLE_NAMES = {
    "参与者": "participant", "组织者": "organizer", "志愿者": "volunteer",
    "负责人": "leader", "获奖者": "awardee",
}


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
        raise Invalid({"file": ["不是 CSV 文本文件 Not a CSV text file"]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid({"file": ["无法识别的编码，请存为 UTF-8 或 GBK Save as UTF-8 or GBK"]}) from None


def read_rows(data: bytes, required: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(line number, row) pairs with headers mapped to field names; line 1 is the header."""
    text = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise Invalid({"file": ["文件为空 The file is empty"]}) from None
    names = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip())) for h in header]
    missing = [r for r in required if r not in names]
    if missing:
        raise Invalid({"file": [f"缺少列 Missing column(s): {', '.join(missing)}"]})
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise Invalid({"file": [f"最多 {MAX_ROWS} 行 At most {MAX_ROWS} rows"]})
            row = {n: v.strip() for n, v in zip(names, values, strict=False) if n}
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise Invalid({"file": [f"第 {reader.line_num} 行格式错误 Line {reader.line_num}: {exc}"]}) from None
    if not rows:
        raise Invalid({"file": ["没有数据行 No data rows"]})
    return rows


def preview_participations(session: Session, actor: User | None, activity_id: int, data: bytes) -> Preview:
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden("只有本社团负责人可以导入 Only a leader of this club imports records")
    rows = read_rows(data, ("student_no",))
    entries = [
        participations.Entry(
            student_no=row.get("student_no", ""),
            role=ROLE_NAMES.get(row.get("role", ""), row.get("role") or "participant"),
            hours=row.get("hours") or None,
            award=row.get("award") or None,
        )
        for _, row in rows
    ]
    _, bad = participations.check_entries(session, activity, entries)
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
            "ok": index not in bad,
        })
        for fname, reasons in bad.get(index, {}).items():
            preview.errors.extend(RowError(line, fname, r) for r in reasons)
    preview.entries = entries
    return preview


def import_participations(session: Session, actor: User | None, activity_id: int, data: bytes) -> list[Participation]:
    preview = preview_participations(session, actor, activity_id, data)
    if not preview.ok:
        raise Invalid(preview.as_fields(), f"{len({e.line for e in preview.errors})} 行有误，未导入任何记录 "
                      "Bad rows; nothing was imported")
    try:
        return participations.record_participations(session, actor, activity_id, preview.entries)
    except Invalid as exc:  # a concurrent writer got in between preview and import
        raise Invalid(exc.fields, "未导入任何记录 Nothing was imported") from None


def import_students(
    session: Session, actor: User | None, data: bytes, default_password: str | None = None
) -> list[User]:
    """Create a roster of students; every row valid or none created."""
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以导入名册 Only the admin imports the roster")
    rows = read_rows(data, ("student_no", "name"))
    units = {u.code: u.id for u in session.execute(select(Unit)).scalars()}
    preview, users, seen = Preview(), [], {}
    for line, row in rows:
        number = row.get("student_no", "")
        unit_code = row.get("unit") or ""
        if unit_code and unit_code not in units:
            preview.errors.append(RowError(line, "unit", f"没有院系代码 {unit_code} No such unit"))
            continue
        if number in seen:
            first = seen[number]
            preview.errors.append(RowError(line, "student_no", f"与第 {first} 行重复 Same as line {first}"))
            continue
        seen[number] = line
        try:
            values = check_user_values(
                session, username=row.get("username") or number,
                password=None,
                display_name=row.get("name", ""), role=Role.STUDENT, student_no=number,
                unit_id=units.get(unit_code), email=row.get("email") or None,
            )
        except DomainError as exc:
            for fname, reasons in (exc.fields or {"_": [exc.message]}).items():
                preview.errors.extend(RowError(line, fname, r) for r in reasons)
            continue
        users.append(User(**values))
    if preview.errors:
        raise Invalid(preview.as_fields(), f"{len({e.line for e in preview.errors})} 行有误，未导入任何学生 "
                      "Bad rows; nobody was imported")
    session.add_all(users)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("导入时学号或用户名被占用 A number or username was taken meanwhile") from None
    return users
