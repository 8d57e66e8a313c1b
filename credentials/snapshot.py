"""The transcript snapshot: one student's certified records at the moment of issue.

A :class:`Snapshot` is an immutable value.  Its *canonical bytes* are a JSON document
with sorted keys, UTF-8 text (no ``\\u`` escapes), no insignificant whitespace,
decimals written as strings (``"12.5"``) and dates in ISO 8601, so the same snapshot
gives the same bytes on every machine, and :func:`snapshot_digest` is the hex SHA-256
of those bytes.

Records are put in a canonical order when a snapshot is built (module, date, activity,
club, role, ...), so the order in which the caller's database returned them does not
change the digest.

The module list is the school office's data: a snapshot carries the modules it was issued
with (``modules``: key, zh, en, in display order), written as ``"modules"`` only when it
differs from the seven national :data:`MODULES`; the student's class (``"school_class"``)
when they have one; and, when the student's cohort has credit rules, the
:class:`Requirement` (``"requirement"``: the rule set's name, met or not, the hours counted
and required, each academic year's grade).  A snapshot with none of them keeps exactly the
bytes and the digest it always had.

One module, though long: the dataclasses, their validation and the canonical form are the
one signed format, and a change to any of them is a change to what every digest covers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

FORMAT_VERSION = 1

#: The seven modules of the national standard, in display order: (key, zh, en).
MODULES: tuple[tuple[str, str, str], ...] = (
    ("ideology", "思想成长", "Ideological growth"),
    ("practice", "实践实习", "Social practice & internship"),
    ("volunteering", "志愿公益", "Volunteering"),
    ("innovation", "创新创业", "Innovation & entrepreneurship"),
    ("culture_sports", "文体活动", "Culture & sports"),
    ("leadership", "工作履历", "Student leadership"),
    ("skills", "技能特长", "Skills & certificates"),
)

#: Activity levels: (key, zh, en), highest first.
LEVELS: tuple[tuple[str, str, str], ...] = (
    ("national", "国家级", "National"),
    ("provincial", "省级", "Provincial"),
    ("school", "校级", "School"),
    ("college", "院级", "College"),
    ("club", "社团级", "Club"),
)

#: Roles of a participant: (key, zh, en).
ROLES: tuple[tuple[str, str, str], ...] = (
    ("participant", "参与者", "Participant"),
    ("organizer", "组织者", "Organizer"),
    ("volunteer", "志愿者", "Volunteer"),
    ("leader", "负责人", "Leader"),
    ("awardee", "获奖者", "Awardee"),
)

#: The grades of an academic year under a rule set (学年认定), best first.
EXCELLENT, PASS, FAIL = "excellent", "pass", "fail"
GRADES = (EXCELLENT, PASS, FAIL)

MODULE_KEYS = tuple(m[0] for m in MODULES)
LEVEL_KEYS = tuple(x[0] for x in LEVELS)
ROLE_KEYS = tuple(x[0] for x in ROLES)
_MODULE_INDEX = {k: i for i, k in enumerate(MODULE_KEYS)}
_LEVEL_INDEX = {k: i for i, k in enumerate(LEVEL_KEYS)}
_ROLE_INDEX = {k: i for i, k in enumerate(ROLE_KEYS)}

#: Longest text accepted in any field (characters); keeps documents bounded.
MAX_TEXT = 1000
#: Most records in one snapshot.
MAX_RECORDS = 5000
#: Most modules in a snapshot's module list, and the longest key and names of one.
MAX_MODULES = 20
MAX_MODULE_KEY = 32
MAX_MODULE_ZH = 40
MAX_MODULE_EN = 80
_MODULE_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
#: Most academic years a requirement lists, and the longest rule set name.
MAX_YEARS = 20
MAX_RULES_NAME = 40
_YEAR_RE = re.compile(r"([0-9]{4})-([0-9]{4})")
_HOURS_STEP = Decimal("0.1")
_MAX_HOURS = Decimal("100000")

_RECORD_KEYS = frozenset(
    {"date", "activity", "club", "module", "level", "role", "hours", "award",
     "certified_by", "certified_at", "source"}
)
#: Where a record came from: an activity of a club (the default, not written), or the student's
#: own achievement claim (个人申报) that an organizer certified.
ACTIVITY, CLAIM = "activity", "claim"
SOURCES = (ACTIVITY, CLAIM)
_SNAPSHOT_KEYS = frozenset(
    {"version", "institution", "serial", "issued_at", "student_name", "student_no", "unit",
     "records", "modules", "requirement", "school_class"}
)
_REQUIREMENT_KEYS = frozenset(
    {"rules", "met", "counted", "required", "years", "years_required", "years_passed"}
)
_YEAR_KEYS = frozenset({"year", "hours", "grade"})


def _text(name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name}: must not be empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"{name}: longer than {MAX_TEXT} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name}: not valid Unicode text") from exc
    return value


def _hours(value: Any, name: str = "hours") -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a decimal number")
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a decimal number: {value!r}") from exc
    if not d.is_finite() or d < 0 or d >= _MAX_HOURS:
        raise ValueError(f"{name}: out of range: {value!r}")
    q = d.quantize(_HOURS_STEP, rounding=ROUND_HALF_UP)
    return q + Decimal("0.0")  # normalises -0.0 to 0.0


def _module_key(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name}: expected a module key")
    if len(value) > MAX_MODULE_KEY or not _MODULE_KEY_RE.fullmatch(value):
        raise ValueError(f"{name}: not a module key {value!r:.60}")
    return value


def _count(name: str, value: Any, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected a whole number")
    if not 0 <= value <= most:
        raise ValueError(f"{name}: out of range: {value!r}")
    return value


def _modules(value: Any) -> tuple[tuple[str, str, str], ...]:
    """A module list: (key, zh, en) triples, keys unique, 1 to MAX_MODULES of them."""
    if value is MODULES:
        return MODULES
    if not isinstance(value, list | tuple):
        raise ValueError("modules: expected a list of (key, zh, en)")
    if not 1 <= len(value) <= MAX_MODULES:
        raise ValueError(f"modules: expected 1 to {MAX_MODULES} modules")
    out = []
    seen = set()
    for i, m in enumerate(value):
        where = f"modules[{i}]"
        if not isinstance(m, list | tuple) or len(m) != 3:
            raise ValueError(f"{where}: expected (key, zh, en)")
        key = _module_key(where, m[0])
        if key in seen:
            raise ValueError(f"{where}: duplicate module {key!r}")
        seen.add(key)
        for part, most in ((m[1], MAX_MODULE_ZH), (m[2], MAX_MODULE_EN)):
            _text(where, part)
            if len(part) > most:
                raise ValueError(f"{where}: a name longer than {most} characters")
        out.append((key, m[1], m[2]))
    modules = tuple(out)
    return MODULES if modules == MODULES else modules


def _aware(name: str, value: Any, *, required_tz: bool) -> _dt.datetime:
    if not isinstance(value, _dt.datetime):
        raise ValueError(f"{name}: expected a datetime")
    if required_tz and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name}: must be timezone-aware")
    return value


@dataclass(frozen=True, slots=True)
class Record:
    """One certified record (a participation or a certified achievement claim)."""

    date: _dt.date
    activity: str
    club: str
    module: str
    level: str
    role: str
    hours: Decimal
    award: str | None
    certified_by: str
    certified_at: _dt.datetime | None = None
    source: str = ACTIVITY

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source: unknown source {self.source!r}")
        if not isinstance(self.date, _dt.date) or isinstance(self.date, _dt.datetime):
            raise ValueError("date: expected a date")
        _text("activity", self.activity)
        _text("club", self.club, allow_empty=True)
        # Which modules exist is the snapshot's list (the office's data): see Snapshot.
        _module_key("module", self.module)
        if self.level not in _LEVEL_INDEX:
            raise ValueError(f"level: unknown level {self.level!r}")
        if self.role not in _ROLE_INDEX:
            raise ValueError(f"role: unknown role {self.role!r}")
        object.__setattr__(self, "hours", _hours(self.hours))
        if self.award is not None:
            _text("award", self.award, allow_empty=True)
            if not self.award.strip():
                object.__setattr__(self, "award", None)
        _text("certified_by", self.certified_by, allow_empty=True)
        if self.certified_at is not None:
            _aware("certified_at", self.certified_at, required_tz=False)

    def sort_key(self) -> tuple:
        """The canonical order within a module (the snapshot puts the modules first)."""
        return (
            self.date,
            self.activity,
            self.club,
            _ROLE_INDEX[self.role],
            _LEVEL_INDEX[self.level],
            self.hours,
            self.award or "",
            self.certified_by,
            self.certified_at.isoformat() if self.certified_at else "",
            self.source,
        )


@dataclass(frozen=True, slots=True)
class Requirement:
    """Whether the student meets the credit rules of their cohort, as of the issue.

    ``rules`` names the rule set (cohort and version, "2023 v2"); ``counted`` and ``required``
    are the total hours that count under it (caps applied) and its minimum; ``years`` is each
    academic year's hours and grade, ("2025-2026", hours, "excellent" | "pass" | "fail"),
    kept in year order; ``years_passed`` of them reached a pass, ``years_required`` must.
    The app works these out (its credit rules); the snapshot only carries them.
    """

    rules: str
    met: bool
    counted: Decimal
    required: Decimal
    years: tuple[tuple[str, Decimal, str], ...] = ()
    years_required: int = 0
    years_passed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.rules, str) or not self.rules.strip() \
                or len(self.rules) > MAX_RULES_NAME or not self.rules.isascii() \
                or not self.rules.isprintable() or self.rules != self.rules.strip():
            raise ValueError(f"rules: expected a rule set name (ASCII, 1 to {MAX_RULES_NAME} "
                             "characters)")
        if not isinstance(self.met, bool):
            raise ValueError("met: expected true or false")
        object.__setattr__(self, "counted", _hours(self.counted, "counted"))
        object.__setattr__(self, "required", _hours(self.required, "required"))
        if not isinstance(self.years, list | tuple) or len(self.years) > MAX_YEARS:
            raise ValueError(f"years: expected at most {MAX_YEARS} (year, hours, grade)")
        years = []
        for i, y in enumerate(self.years):
            where = f"years[{i}]"
            if not isinstance(y, list | tuple) or len(y) != 3:
                raise ValueError(f"{where}: expected (year, hours, grade)")
            year, hours, grade = y
            m = _YEAR_RE.fullmatch(year) if isinstance(year, str) else None
            if m is None or int(m.group(2)) != int(m.group(1)) + 1:
                raise ValueError(f"{where}: expected an academic year like 2025-2026")
            if grade not in GRADES:
                raise ValueError(f"{where}: unknown grade {grade!r:.40}")
            years.append((year, _hours(hours, f"{where}.hours"), grade))
        years.sort(key=lambda y: y[0])
        for a, b in zip(years, years[1:], strict=False):
            if a[0] == b[0]:
                raise ValueError(f"years: {a[0]} twice")
        object.__setattr__(self, "years", tuple(years))
        _count("years_required", self.years_required, MAX_YEARS)
        _count("years_passed", self.years_passed, len(years))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A student's certified records at issue time.  Records are kept in canonical order.

    ``modules`` is the module list of issue time (key, zh, en; display order), the seven
    national ones unless given; every record's module must be one of them.  ``requirement``
    is the credit rules' verdict when the student's cohort has rules, else ``None``.
    """

    institution: str
    serial: str
    issued_at: _dt.datetime
    student_name: str
    student_no: str
    unit: str
    records: tuple[Record, ...] = field(default=())
    modules: tuple[tuple[str, str, str], ...] = MODULES
    requirement: Requirement | None = None
    school_class: str = ""

    def __post_init__(self) -> None:
        _text("institution", self.institution)
        _text("serial", self.serial)
        _aware("issued_at", self.issued_at, required_tz=True)
        _text("student_name", self.student_name)
        _text("student_no", self.student_no)
        _text("unit", self.unit, allow_empty=True)
        _text("school_class", self.school_class, allow_empty=True)
        records = tuple(self.records)
        if len(records) > MAX_RECORDS:
            raise ValueError(f"records: more than {MAX_RECORDS}")
        modules = _modules(self.modules)
        object.__setattr__(self, "modules", modules)
        index = _MODULE_INDEX if modules is MODULES else {m[0]: i for i, m in enumerate(modules)}
        for r in records:
            if not isinstance(r, Record):
                raise ValueError("records: expected Record items")
            if r.module not in index:
                raise ValueError(f"records: unknown module {r.module!r}")
        object.__setattr__(self, "records", tuple(sorted(
            records, key=lambda r: (index[r.module], *r.sort_key()))))
        if self.requirement is not None and not isinstance(self.requirement, Requirement):
            raise ValueError("requirement: expected a Requirement or None")

    # -- totals -----------------------------------------------------------------------
    @property
    def total_hours(self) -> Decimal:
        return sum((r.hours for r in self.records), Decimal("0.0"))

    @property
    def module_keys(self) -> tuple[str, ...]:
        return tuple(m[0] for m in self.modules)

    @property
    def hours_by_module(self) -> dict[str, Decimal]:
        """Hours per module of the snapshot's list, in its order (0.0 for a module unused)."""
        out = {k: Decimal("0.0") for k, _zh, _en in self.modules}
        for r in self.records:
            out[r.module] += r.hours
        return out

    @property
    def records_by_module(self) -> dict[str, tuple[Record, ...]]:
        out: dict[str, list[Record]] = {k: [] for k, _zh, _en in self.modules}
        for r in self.records:
            out[r.module].append(r)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def activity_count(self) -> int:
        """Number of certified records (each is one activity the student took part in)."""
        return len(self.records)

    @property
    def award_count(self) -> int:
        return sum(1 for r in self.records if r.award)

    @property
    def issued_on(self) -> _dt.date:
        """The issue date in the issuer's own time zone (the one in ``issued_at``)."""
        return self.issued_at.date()


# -- plain dict form ------------------------------------------------------------------


def _record_to_dict(r: Record) -> dict[str, Any]:
    # A record from an activity writes no `source`, so snapshots issued before claims existed
    # keep their bytes and digests.
    extra = {} if r.source == ACTIVITY else {"source": r.source}
    return extra | {
        "date": r.date.isoformat(),
        "activity": r.activity,
        "club": r.club,
        "module": r.module,
        "level": r.level,
        "role": r.role,
        "hours": str(r.hours),
        "award": r.award,
        "certified_by": r.certified_by,
        "certified_at": r.certified_at.isoformat() if r.certified_at else None,
    }


def _requirement_to_dict(q: Requirement) -> dict[str, Any]:
    return {
        "rules": q.rules,
        "met": q.met,
        "counted": str(q.counted),
        "required": str(q.required),
        "years": [{"year": y, "hours": str(h), "grade": g} for y, h, g in q.years],
        "years_required": q.years_required,
        "years_passed": q.years_passed,
    }


def snapshot_to_dict(s: Snapshot) -> dict[str, Any]:
    """A plain JSON-able dict: the structure of the canonical bytes (with ``version``).

    ``modules`` and ``requirement`` are written only when they are not the defaults, so a
    snapshot without them has the bytes it had before they existed.
    """
    extra: dict[str, Any] = {}
    if s.modules != MODULES:
        extra["modules"] = [list(m) for m in s.modules]
    if s.requirement is not None:
        extra["requirement"] = _requirement_to_dict(s.requirement)
    if s.school_class:
        extra["school_class"] = s.school_class
    return extra | {
        "version": FORMAT_VERSION,
        "institution": s.institution,
        "serial": s.serial,
        "issued_at": s.issued_at.isoformat(),
        "student_name": s.student_name,
        "student_no": s.student_no,
        "unit": s.unit,
        "records": [_record_to_dict(r) for r in s.records],
    }


def _parse_date(name: str, v: Any) -> _dt.date:
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v
    if not isinstance(v, str) or len(v) != 10:
        raise ValueError(f"{name}: expected an ISO date YYYY-MM-DD")
    try:
        return _dt.date.fromisoformat(v)
    except ValueError as exc:
        raise ValueError(f"{name}: expected an ISO date YYYY-MM-DD") from exc


def _parse_datetime(name: str, v: Any) -> _dt.datetime:
    if isinstance(v, _dt.datetime):
        return v
    if not isinstance(v, str) or not 19 <= len(v) <= 32 or v[10] != "T":
        raise ValueError(f"{name}: expected an ISO date-time")
    try:
        return _dt.datetime.fromisoformat(v)
    except ValueError as exc:
        raise ValueError(f"{name}: expected an ISO date-time") from exc


def _check_keys(name: str, d: Any, expected: frozenset[str], optional: frozenset[str]) -> None:
    if not isinstance(d, Mapping):
        raise ValueError(f"{name}: expected an object")
    keys = set(d)
    missing = expected - optional - keys
    extra = keys - expected
    if missing:
        raise ValueError(f"{name}: missing {', '.join(sorted(missing))}")
    if extra:
        raise ValueError(f"{name}: unexpected {', '.join(sorted(map(str, extra)))}")


def _record_from_dict(i: int, d: Any) -> Record:
    where = f"records[{i}]"
    _check_keys(where, d, _RECORD_KEYS, frozenset({"award", "certified_at", "source"}))
    if d.get("source") == ACTIVITY:
        raise ValueError(f"{where}.source: the default is not written")
    hours = d["hours"]
    certified_at = d.get("certified_at")
    try:
        return Record(
            date=_parse_date(f"{where}.date", d["date"]),
            activity=d["activity"],
            club=d["club"],
            module=d["module"],
            level=d["level"],
            role=d["role"],
            hours=hours,
            award=d.get("award"),
            certified_by=d["certified_by"],
            certified_at=None if certified_at is None
            else _parse_datetime(f"{where}.certified_at", certified_at),
            source=d.get("source", ACTIVITY),
        )
    except ValueError as exc:
        raise ValueError(f"{where}.{exc}") from None


def _modules_from_dict(v: Any) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(v, list | tuple):
        raise ValueError("modules: expected a list of [key, zh, en]")
    modules = _modules(v)
    if modules is MODULES:
        raise ValueError("modules: the default is not written")
    return modules


def _school_class_from_dict(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError("school_class: written only when the student has a class")
    return v


def _requirement_from_dict(d: Any) -> Requirement:
    _check_keys("requirement", d, _REQUIREMENT_KEYS, frozenset())
    years = d["years"]
    if not isinstance(years, list | tuple):
        raise ValueError("requirement.years: expected a list")
    if len(years) > MAX_YEARS:
        raise ValueError(f"requirement.years: more than {MAX_YEARS}")
    triples = []
    for i, y in enumerate(years):
        _check_keys(f"requirement.years[{i}]", y, _YEAR_KEYS, frozenset())
        triples.append((y["year"], y["hours"], y["grade"]))
    try:
        return Requirement(rules=d["rules"], met=d["met"], counted=d["counted"],
                           required=d["required"], years=tuple(triples),
                           years_required=d["years_required"], years_passed=d["years_passed"])
    except ValueError as exc:
        raise ValueError(f"requirement.{exc}") from None


def snapshot_from_dict(d: Mapping[str, Any]) -> Snapshot:
    """Build a snapshot from :func:`snapshot_to_dict` output; ``ValueError`` if malformed."""
    _check_keys("snapshot", d, _SNAPSHOT_KEYS, frozenset({"version", "modules", "requirement", "school_class"}))
    version = d.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(f"version: unsupported snapshot format {version!r}")
    records = d["records"]
    if not isinstance(records, list | tuple):
        raise ValueError("records: expected a list")
    if len(records) > MAX_RECORDS:
        raise ValueError(f"records: more than {MAX_RECORDS}")
    return Snapshot(
        institution=d["institution"],
        serial=d["serial"],
        issued_at=_parse_datetime("issued_at", d["issued_at"]),
        student_name=d["student_name"],
        student_no=d["student_no"],
        unit=d["unit"],
        records=tuple(_record_from_dict(i, r) for i, r in enumerate(records)),
        modules=_modules_from_dict(d["modules"]) if "modules" in d else MODULES,
        requirement=_requirement_from_dict(d["requirement"]) if "requirement" in d else None,
        school_class=_school_class_from_dict(d["school_class"]) if "school_class" in d else "",
    )


# -- canonical bytes --------------------------------------------------------------------


def _dumps(obj: Any) -> bytes:
    return json.dumps(
        obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def canonical_bytes(s: Snapshot) -> bytes:
    """The canonical UTF-8 JSON form of a snapshot (the bytes that are digested)."""
    return _dumps(snapshot_to_dict(s))


def snapshot_digest(s: Snapshot) -> str:
    """Hex SHA-256 of :func:`canonical_bytes`."""
    return hashlib.sha256(canonical_bytes(s)).hexdigest()


def _no_duplicates(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not allowed in a snapshot: {name}")


def snapshot_from_bytes(b: bytes) -> Snapshot:
    """Parse canonical bytes back into a snapshot.

    Raises ``ValueError`` on anything malformed, including bytes that are valid JSON
    but not exactly the canonical form (other key order, whitespace, escapes, record
    order ...), so one snapshot has exactly one byte form.
    """
    if not isinstance(b, bytes | bytearray | memoryview):
        raise ValueError("snapshot: expected bytes")
    b = bytes(b)
    if len(b) > MAX_RECORDS * 12 * MAX_TEXT:
        raise ValueError("snapshot: too large")
    try:
        text = b.decode("utf-8")
        obj = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=Decimal,
            parse_constant=_reject_constant,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"snapshot: not valid UTF-8 JSON ({exc})") from None
    if not isinstance(obj, dict) or obj.get("version") != FORMAT_VERSION:
        raise ValueError("snapshot: not a version-1 transcript snapshot")
    try:
        s = snapshot_from_dict(obj)
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        raise ValueError(f"snapshot: malformed ({exc})") from None
    if canonical_bytes(s) != b:
        raise ValueError("snapshot: not in canonical form")
    return s


def snapshot_of_digest(b: bytes, digest: str) -> Snapshot:
    """The snapshot whose canonical bytes ``b`` are, when their SHA-256 is ``digest``.

    Such bytes are the ones :func:`canonical_bytes` wrote for a snapshot validated as it was
    built, so they are read back without validating them again, in a fraction of
    :func:`snapshot_from_bytes`'s time: an issuer reading its own stored copy, whose digest it
    signed, on every verification. Any other bytes raise ``ValueError``.
    """
    b = bytes(b)
    if hashlib.sha256(b).hexdigest() != digest.lower():
        raise ValueError("snapshot: the bytes are not those of this digest")
    d = json.loads(b)
    q = d.get("requirement")
    return _unvalidated(
        Snapshot,
        institution=d["institution"], serial=d["serial"], issued_at=_dt.datetime.fromisoformat(d["issued_at"]),
        student_name=d["student_name"], student_no=d["student_no"], unit=d["unit"],
        records=tuple(_stored_record(r) for r in d["records"]),
        modules=tuple(tuple(m) for m in d["modules"]) if "modules" in d else MODULES,
        requirement=None if q is None else _unvalidated(
            Requirement, rules=q["rules"], met=q["met"], counted=Decimal(q["counted"]),
            required=Decimal(q["required"]),
            years=tuple((y["year"], Decimal(y["hours"]), y["grade"]) for y in q["years"]),
            years_required=q["years_required"], years_passed=q["years_passed"]),
        school_class=d.get("school_class", ""),
    )


def _unvalidated(cls: type, **values: Any) -> Any:
    """An instance of one of the frozen dataclasses above holding exactly ``values`` (every
    field), its ``__post_init__`` checks not run: for :func:`snapshot_of_digest` only."""
    missing = _FIELDS[cls] - values.keys()
    if missing:
        raise TypeError(f"{cls.__name__}: missing {', '.join(sorted(missing))}")
    obj = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(obj, name, value)
    return obj


_FIELDS = {cls: frozenset(f.name for f in fields(cls)) for cls in (Snapshot, Requirement)}
# A record's slots in field order, each set as its own descriptor does (a snapshot has thousands).
_RECORD_SLOTS = tuple(Record.__dict__[f.name].__set__ for f in fields(Record))


def _stored_record(r: dict[str, Any]) -> Record:
    """One record of :func:`snapshot_of_digest`'s bytes, unvalidated as there."""
    record = object.__new__(Record)
    at = r.get("certified_at")
    values = (_dt.date.fromisoformat(r["date"]), r["activity"], r["club"], r["module"], r["level"], r["role"],
              Decimal(r["hours"]), r.get("award"), r["certified_by"],
              None if at is None else _dt.datetime.fromisoformat(at), r.get("source", ACTIVITY))
    for put, value in zip(_RECORD_SLOTS, values, strict=True):
        put(record, value)
    return record
