"""Route × role matrix: every API route of API.md's first three sections, tried by every kind
of caller, answers 401 / 403 / success exactly as PRODUCT.md's rules say.

Each cell is its own test (e.g. ``certify-other_advisor-403``) on SQLite and PostgreSQL. The
database is created once per backend for this module (cheap), and every cell builds its own
fresh world in it (units, clubs, people, activity, record), so no cell sees another's changes.
A cell also checks the effect: a success changes what it should, a 401/403 changes nothing.

Size: every /api/v1 route but the transcript, verification and scorecard ones (their own
suites; the holder's public check and share links are here), some in two rows (sign-in with
right and wrong password; a student's records by their own and by a third student's number),
× 10 actors, on both databases; the last test counts.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    LEADER_IN_POST,
    Activity,
    Appeal,
    AuthToken,
    Claim,
    Club,
    CreditModule,
    GraduationBatch,
    Membership,
    Notification,
    Participation,
    PasswordReset,
    Registration,
    RuleSet,
    SchoolClass,
    Transcript,
    TranscriptShare,
    Unit,
    User,
    YearGrade,
    club_leader,
)
from app.services import appeals, batch_work, batches, check_in, claims, credit_rules, holder, transcripts, year_end
from app.services.evidence import Upload
from app.services.notifications import notify
from app.timeutil import utcnow
from tests.conftest import BACKENDS, make_test_app
from tests.factories import PASSWORD, Factory
from tests.test_claims import png

ACTORS = (
    "no_token",        # no Authorization header
    "bad_token",       # a bearer token the server never issued
    "admin",           # 校团委
    "advisor",         # organizer advising the club
    "other_advisor",   # organizer advising another club
    "other_college",   # a college League secretary (院团委) whose scope is another college
    "leader",          # a leader of the club
    "other_leader",    # a leader of another club
    "student",         # the participant (the records' owner)
    "other_student",   # another student
)
SIGNED_IN = ACTORS[2:]
STUDENTS = ("leader", "other_leader", "student", "other_student")  # leaders are students too
ORGANIZERS = ("advisor", "other_advisor", "other_college")


@dataclass
class World:
    unit: Unit
    club: Club
    other_club: Club
    activity: Activity
    record: Participation | None
    third: User  # a student who is neither actor: "another student's number"
    people: dict[str, User]
    member: Membership | None = None  # the third student on the club's roster, if the route needs it
    notification: Notification | None = None  # the participant's own, if the route needs it
    claim: Claim | None = None  # the participant's achievement claim, if the route needs it
    appeal: Appeal | None = None  # the participant's open appeal of their rejected record
    serial: str = ""  # the participant's issued transcript, if the route needs it
    share_id: int = 0  # a live share link of that transcript
    batch_id: int = 0  # a graduation batch of the unit, if the route needs it


@dataclass
class Route:
    name: str
    method: str
    rule: str  # the Flask rule, to prove every API route is in the table
    path: Callable[[World], str]
    expected: dict[str, int]
    body: Callable[[World, str], dict | None] = lambda w, actor: None
    activity_status: str = "approved"
    record_status: str | None = None  # the participant's record in the activity, if any
    activity_now: bool = False        # the activity is on right now (check-in)
    member: bool = False              # the third student is on the club's roster
    notification: bool = False        # the participant has a notification
    activity_upcoming: bool = False   # the activity starts next week (sign-ups)
    registered: bool = False          # the participant has signed up for it
    claim_status: str | None = None   # the participant's claim (with a PNG), if any
    appeal: bool = False              # the participant appeals their rejected record
    cohort: bool = False              # the students are a class of cohort 2025, which has credit rules
    transcript: bool = False          # the participant holds an issued transcript with a share link
    multipart: bool = False           # the body is a form with files, not JSON
    raw: bool = False                 # a success answers a file, not JSON
    batch: str | None = None          # a graduation batch of the unit: "queued", "cancelled" or "done"
    probe: Callable[[World], object] | None = None  # what a success changes
    bugs: dict[str, str] = field(default_factory=dict)  # actor -> known bug (strict xfail)


def cells(**by_actor: int) -> dict[str, int]:
    """Every actor's answer spelled out, for rows where the refusals differ (403 or 404)."""
    assert set(by_actor) == set(ACTORS), set(ACTORS) ^ set(by_actor)
    return by_actor


# A claim or appeal of the participant: theirs and their reviewers' (the admin, and the advisor of
# the club whose activity they took part in); for anyone else it does not exist (404).
OWN_AND_REVIEWERS = dict(no_token=401, bad_token=401, admin=200, advisor=200, other_advisor=404,
                         other_college=404, leader=404, other_leader=404, student=200, other_student=404)
# Reviewing: the same, but the claimant sees it and is refused (nobody certifies their own).
REVIEWERS = {**OWN_AND_REVIEWERS, "student": 403}




def _claim_form(w: World, actor: str) -> dict:
    import io

    return {"title": "英语六级", "module": "skills", "level": "national", "occurred_on": "2026-06-15",
            "hours": "4", "files": [(io.BytesIO(png()), "score.png")]}


def grant(success: int, *allowed: str, otherwise: int = 403) -> dict[str, int]:
    """no/bad token → 401; the allowed actors → success; every other signed-in actor → 403."""
    cells = {"no_token": 401, "bad_token": 401}
    cells.update({a: (success if a in allowed else otherwise) for a in SIGNED_IN})
    return cells


_n = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_n)}{uuid.uuid4().hex[:6]}"


def _count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _activity_status(w: World):
    return db.session.get(Activity, w.activity.id).status


def _record_status(w: World):
    return db.session.get(Participation, w.record.id).status


def _records_in_activity(w: World):
    return _count(Participation, Participation.activity_id == w.activity.id)


def _plan(**over) -> dict:
    plan = {
        "title": "敬老院志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00:00+08:00", "ends_at": "2026-10-20T12:00:00+08:00",
        "location": "阳光敬老院", "hours": 3, "partners": ["阳光敬老院"],
    }
    plan.update(over)
    return plan


NEW_PASSWORD = "violet harbour lantern 91"


def _fresh_link_token(w: World) -> str:
    from app.services.password_reset import create_reset_link

    return create_reset_link(db.session, None, w.third.id).url.rsplit("/", 1)[1]


def _token_body(w: World, actor: str) -> dict:
    # Callers without an account of their own sign in as the participant.
    user = w.people.get(actor) or w.people["student"]
    return {"username": user.username, "password": PASSWORD}


ROUTES: list[Route] = [
    # ---- Auth and people -------------------------------------------------------------
    Route("token", "POST", "/api/v1/auth/token", lambda w: "/api/v1/auth/token",
          # anyone: a token is not needed (nor harmed by a stale one) to sign in
          {a: 200 for a in ACTORS}, body=_token_body, probe=lambda w: _count(AuthToken)),
    Route("token-wrong-password", "POST", "/api/v1/auth/token", lambda w: "/api/v1/auth/token",
          {a: 401 for a in ACTORS},
          body=lambda w, a: {**_token_body(w, a), "password": "not the password"},
          probe=lambda w: _count(AuthToken)),
    Route("logout", "POST", "/api/v1/auth/logout", lambda w: "/api/v1/auth/logout",
          grant(204, *SIGNED_IN), probe=lambda w: _count(AuthToken, AuthToken.ended_at.is_(None))),
    Route("change-password", "POST", "/api/v1/auth/password", lambda w: "/api/v1/auth/password",
          grant(204, *SIGNED_IN),
          body=lambda w, a: {"current_password": PASSWORD, "new_password": "violet harbour lantern 91"},
          probe=lambda w: sorted(db.session.execute(select(User.password_hash).where(
              User.id.in_([p.id for p in w.people.values()]))).scalars())),
    Route("create-user", "POST", "/api/v1/users", lambda w: "/api/v1/users", grant(201, "admin"),
          body=lambda w, a: {"username": _unique("u"), "password": "a long password",
                             "display_name": "王小明", "role": "student",
                             "student_no": _unique("S"), "unit_id": w.unit.id},
          probe=lambda w: _count(User)),
    Route("create-unit", "POST", "/api/v1/units", lambda w: "/api/v1/units", grant(201, "admin"),
          body=lambda w, a: {"code": _unique("C"), "name": "外国语学院"},
          probe=lambda w: _count(Unit)),
    Route("list-units", "GET", "/api/v1/units", lambda w: "/api/v1/units",
          grant(200, *SIGNED_IN)),
    Route("create-class", "POST", "/api/v1/classes", lambda w: "/api/v1/classes", grant(201, "admin"),
          body=lambda w, a: {"unit_id": w.unit.id, "name": _unique("计算机"), "cohort": 2025},
          probe=lambda w: _count(SchoolClass, SchoolClass.unit_id == w.unit.id)),
    Route("list-classes", "GET", "/api/v1/classes", lambda w: f"/api/v1/classes?unit_id={w.unit.id}",
          grant(200, *SIGNED_IN)),
    Route("list-users", "GET", "/api/v1/users", lambda w: "/api/v1/users", grant(200, "admin")),
    Route("patch-user", "PATCH", "/api/v1/users/<int:user_id>", lambda w: f"/api/v1/users/{w.third.id}",
          grant(200, "admin"), body=lambda w, a: {"display_name": _unique("新名")},
          probe=lambda w: db.session.get(User, w.third.id).display_name),
    Route("password-reset-link", "POST", "/api/v1/users/<int:user_id>/password-reset",
          lambda w: f"/api/v1/users/{w.third.id}/password-reset", grant(200, "admin"),
          probe=lambda w: _count(PasswordReset, PasswordReset.user_id == w.third.id)),
    # public: whoever holds a fresh link (each cell makes its own) sets the password; no token needed
    Route("use-password-reset-link", "POST", "/api/v1/auth/password-reset", lambda w: "/api/v1/auth/password-reset",
          {a: 204 for a in ACTORS}, body=lambda w, a: {"token": _fresh_link_token(w), "new_password": NEW_PASSWORD},
          probe=lambda w: db.session.get(User, w.third.id).password_hash),
    Route("me", "GET", "/api/v1/me", lambda w: "/api/v1/me", grant(200, *SIGNED_IN)),
    Route("audit-log", "GET", "/api/v1/audit", lambda w: "/api/v1/audit?action=user", grant(200, "admin")),
    # ---- Notifications: one's own -------------------------------------------------------------
    Route("notifications", "GET", "/api/v1/notifications", lambda w: "/api/v1/notifications",
          grant(200, *SIGNED_IN)),
    # the participant's: theirs to mark read; for anyone else it does not exist (404)
    Route("read-notification", "POST", "/api/v1/notifications/<int:notification_id>/read",
          lambda w: f"/api/v1/notifications/{w.notification.id}/read", grant(204, "student", otherwise=404),
          notification=True, probe=lambda w: db.session.get(Notification, w.notification.id).read_at),
    # ---- The student's year: the catalogue, sign-ups, claims, appeals -------------------------
    Route("catalogue", "GET", "/api/v1/activities", lambda w: "/api/v1/activities?module=volunteering",
          grant(200, *SIGNED_IN)),
    Route("sign-up", "POST", "/api/v1/activities/<int:activity_id>/registrations",
          lambda w: f"/api/v1/activities/{w.activity.id}/registrations", grant(201, *STUDENTS),
          activity_upcoming=True, probe=lambda w: _count(Registration)),
    # one's own sign-up: the participant's to withdraw; a student without one is told so (404)
    Route("withdraw-sign-up", "DELETE", "/api/v1/activities/<int:activity_id>/registrations/me",
          lambda w: f"/api/v1/activities/{w.activity.id}/registrations/me",
          {**grant(204, "student"), "leader": 404, "other_leader": 404, "other_student": 404},
          activity_upcoming=True, registered=True,
          probe=lambda w: _count(Registration, Registration.status == "cancelled")),
    Route("list-sign-ups", "GET", "/api/v1/activities/<int:activity_id>/registrations",
          lambda w: f"/api/v1/activities/{w.activity.id}/registrations", grant(200, "admin", "advisor", "leader"),
          activity_upcoming=True, registered=True),
    Route("create-claim", "POST", "/api/v1/claims", lambda w: "/api/v1/claims", grant(201, *STUDENTS),
          body=_claim_form, multipart=True, probe=lambda w: _count(Claim)),
    Route("list-claims", "GET", "/api/v1/claims", lambda w: "/api/v1/claims", grant(200, *SIGNED_IN),
          claim_status="submitted"),
    Route("get-claim", "GET", "/api/v1/claims/<int:claim_id>", lambda w: f"/api/v1/claims/{w.claim.id}",
          cells(**OWN_AND_REVIEWERS), claim_status="submitted", record_status="recorded"),
    Route("claim-file", "GET", "/api/v1/claims/<int:claim_id>/files/<int:position>",
          lambda w: f"/api/v1/claims/{w.claim.id}/files/1", cells(**OWN_AND_REVIEWERS),
          claim_status="submitted", record_status="recorded", raw=True),
    Route("certify-claim", "POST", "/api/v1/claims/<int:claim_id>/certify",
          lambda w: f"/api/v1/claims/{w.claim.id}/certify", cells(**REVIEWERS), body=lambda w, a: {},
          claim_status="submitted", record_status="recorded", probe=lambda w: db.session.get(Claim, w.claim.id).status),
    Route("reject-claim", "POST", "/api/v1/claims/<int:claim_id>/reject",
          lambda w: f"/api/v1/claims/{w.claim.id}/reject", cells(**REVIEWERS), body=lambda w, a: {"reason": "看不清"},
          claim_status="submitted", record_status="recorded", probe=lambda w: db.session.get(Claim, w.claim.id).status),
    Route("revoke-claim", "POST", "/api/v1/claims/<int:claim_id>/revoke",
          lambda w: f"/api/v1/claims/{w.claim.id}/revoke", cells(**REVIEWERS), body=lambda w, a: {"reason": "伪造"},
          claim_status="certified", record_status="recorded", probe=lambda w: db.session.get(Claim, w.claim.id).status),
    # one's own rejected record: another student's is not theirs (404); only students appeal (403)
    Route("open-appeal", "POST", "/api/v1/appeals", lambda w: "/api/v1/appeals",
          {**grant(201, "student"), "leader": 404, "other_leader": 404, "other_student": 404},
          body=lambda w, a: {"participation_id": w.record.id, "reason": "我在场"}, record_status="rejected",
          probe=lambda w: _count(Appeal)),
    Route("list-appeals", "GET", "/api/v1/appeals", lambda w: "/api/v1/appeals", grant(200, *SIGNED_IN),
          record_status="rejected", appeal=True),
    Route("resolve-appeal", "POST", "/api/v1/appeals/<int:appeal_id>/resolve",
          lambda w: f"/api/v1/appeals/{w.appeal.id}/resolve", cells(**{**REVIEWERS, "other_college": 404}),
          body=lambda w, a: {"decision": "dismissed", "reason": "签到表无记录"}, record_status="rejected",
          appeal=True, probe=lambda w: db.session.get(Appeal, w.appeal.id).status),
    # ---- Clubs and activities ------------------------------------------------------------
    Route("create-club", "POST", "/api/v1/clubs", lambda w: "/api/v1/clubs", grant(201, "admin"),
          body=lambda w, a: {"name": _unique("新社团"), "unit_id": w.unit.id, "category": "文体",
                             "advisor_ids": [w.people["advisor"].id],
                             "leader_ids": [w.people["leader"].id]},
          probe=lambda w: _count(Club)),
    Route("list-clubs", "GET", "/api/v1/clubs", lambda w: "/api/v1/clubs",
          grant(200, *SIGNED_IN)),
    Route("get-club", "GET", "/api/v1/clubs/<int:club_id>", lambda w: f"/api/v1/clubs/{w.club.id}",
          grant(200, *SIGNED_IN)),
    Route("patch-club", "PATCH", "/api/v1/clubs/<int:club_id>", lambda w: f"/api/v1/clubs/{w.club.id}",
          grant(200, "admin"), body=lambda w, a: {"charter": _unique("章程")},
          probe=lambda w: db.session.get(Club, w.club.id).charter),
    Route("add-member", "POST", "/api/v1/clubs/<int:club_id>/members",
          lambda w: f"/api/v1/clubs/{w.club.id}/members", grant(201, "admin", "advisor", "leader"),
          body=lambda w, a: {"student_no": w.people["student"].student_no, "term": "2026-2027-1"},
          probe=lambda w: _count(Membership, Membership.club_id == w.club.id)),
    Route("list-members", "GET", "/api/v1/clubs/<int:club_id>/members",
          lambda w: f"/api/v1/clubs/{w.club.id}/members", grant(200, "admin", "advisor", "leader")),
    Route("update-member", "PATCH", "/api/v1/clubs/<int:club_id>/members/<int:membership_id>",
          lambda w: f"/api/v1/clubs/{w.club.id}/members/{w.member.id}", grant(200, "admin", "advisor", "leader"),
          body=lambda w, a: {"role": "副会长"}, member=True,
          probe=lambda w: db.session.get(Membership, w.member.id).role),
    Route("remove-member", "DELETE", "/api/v1/clubs/<int:club_id>/members/<int:membership_id>",
          lambda w: f"/api/v1/clubs/{w.club.id}/members/{w.member.id}", grant(204, "admin", "advisor", "leader"),
          member=True, probe=lambda w: _count(Membership, Membership.club_id == w.club.id)),
    # 换届: the admin or the club's advisor appoints any student; the leader in post steps down
    Route("appoint-leaders", "PUT", "/api/v1/clubs/<int:club_id>/leaders",
          lambda w: f"/api/v1/clubs/{w.club.id}/leaders", grant(200, "admin", "advisor"),
          body=lambda w, a: {"student_nos": [w.third.student_no]},
          probe=lambda w: _count(club_leader, club_leader.c.club_id == w.club.id, LEADER_IN_POST,
                                 club_leader.c.user_id == w.third.id)),
    Route("list-leaders", "GET", "/api/v1/clubs/<int:club_id>/leaders",
          lambda w: f"/api/v1/clubs/{w.club.id}/leaders?history=1", grant(200, *SIGNED_IN)),
    Route("create-activity", "POST", "/api/v1/clubs/<int:club_id>/activities",
          lambda w: f"/api/v1/clubs/{w.club.id}/activities", grant(201, "leader"),
          body=lambda w, a: _plan(),
          probe=lambda w: _count(Activity, Activity.club_id == w.club.id)),
    Route("get-activity", "GET", "/api/v1/activities/<int:activity_id>",
          lambda w: f"/api/v1/activities/{w.activity.id}", grant(200, *SIGNED_IN)),
    Route("patch-activity", "PATCH", "/api/v1/activities/<int:activity_id>",
          lambda w: f"/api/v1/activities/{w.activity.id}", grant(200, "leader"),
          body=lambda w, a: {"title": "改过的标题"}, activity_status="draft",
          probe=lambda w: db.session.get(Activity, w.activity.id).title),
    Route("submit", "POST", "/api/v1/activities/<int:activity_id>/submit",
          lambda w: f"/api/v1/activities/{w.activity.id}/submit", grant(200, "leader"),
          activity_status="draft", probe=_activity_status),
    Route("approve", "POST", "/api/v1/activities/<int:activity_id>/approve",
          lambda w: f"/api/v1/activities/{w.activity.id}/approve",
          grant(200, "admin", "advisor"), activity_status="submitted", probe=_activity_status),
    Route("return", "POST", "/api/v1/activities/<int:activity_id>/return",
          lambda w: f"/api/v1/activities/{w.activity.id}/return",
          grant(200, "admin", "advisor"), body=lambda w, a: {"reason": "预算不清楚"},
          activity_status="submitted", probe=_activity_status),
    Route("complete", "POST", "/api/v1/activities/<int:activity_id>/complete",
          lambda w: f"/api/v1/activities/{w.activity.id}/complete", grant(200, "leader"),
          body=lambda w, a: {"outcome": "服务老人 30 人次"}, probe=_activity_status),
    Route("cancel", "POST", "/api/v1/activities/<int:activity_id>/cancel",
          lambda w: f"/api/v1/activities/{w.activity.id}/cancel",
          grant(200, "admin", "advisor", "leader"), body=lambda w, a: {"reason": "天气原因"},
          probe=_activity_status),
    # ---- Participation and sign-off ----------------------------------------------------
    Route("record", "POST", "/api/v1/activities/<int:activity_id>/participations",
          lambda w: f"/api/v1/activities/{w.activity.id}/participations", grant(201, "leader"),
          body=lambda w, a: {"entries": [{"student_no": w.third.student_no, "role": "volunteer"}]},
          probe=_records_in_activity),
    Route("list-participations", "GET", "/api/v1/activities/<int:activity_id>/participations",
          lambda w: f"/api/v1/activities/{w.activity.id}/participations",
          grant(200, "admin", "advisor", "leader"), record_status="recorded"),
    Route("certify", "POST", "/api/v1/activities/<int:activity_id>/certify",
          lambda w: f"/api/v1/activities/{w.activity.id}/certify",
          grant(200, "admin", "advisor"), body=lambda w, a: {},
          record_status="recorded", probe=_record_status),
    Route("reject", "POST", "/api/v1/participations/<int:participation_id>/reject",
          lambda w: f"/api/v1/participations/{w.record.id}/reject",
          grant(200, "admin", "advisor"), body=lambda w, a: {"reason": "未到场"},
          record_status="recorded", probe=_record_status),
    Route("revoke", "POST", "/api/v1/participations/<int:participation_id>/revoke",
          lambda w: f"/api/v1/participations/{w.record.id}/revoke",
          grant(200, "admin", "advisor"), body=lambda w, a: {"reason": "材料造假"},
          record_status="certified", probe=_record_status),
    Route("check-in-code", "GET", "/api/v1/activities/<int:activity_id>/check-in-code",
          lambda w: f"/api/v1/activities/{w.activity.id}/check-in-code", grant(200, "admin", "leader"),
          activity_now=True),
    Route("check-in", "POST", "/api/v1/activities/<int:activity_id>/check-in",
          lambda w: f"/api/v1/activities/{w.activity.id}/check-in", grant(201, *STUDENTS),
          body=lambda w, a: {"code": check_in.current_code(w.activity.id, "in")},
          activity_now=True, probe=_records_in_activity),
    # nobody here has checked in: students are told so (409), the others may not check out at all
    Route("check-out", "POST", "/api/v1/activities/<int:activity_id>/check-out",
          lambda w: f"/api/v1/activities/{w.activity.id}/check-out", grant(409, *STUDENTS),
          body=lambda w, a: {"code": check_in.current_code(w.activity.id, "out")},
          activity_now=True, probe=_records_in_activity),
    Route("late-entry", "POST", "/api/v1/activities/<int:activity_id>/late-entries",
          lambda w: f"/api/v1/activities/{w.activity.id}/late-entries", grant(201, "leader"),
          body=lambda w, a: {"student_no": w.third.student_no, "reason": "扫码失败"},
          activity_now=True, probe=_records_in_activity),
    # the participant's own number: the student, the admin, and an organizer whose scope reaches
    # them (the advisor of the club they took part in); another club's advisor is out of scope
    Route("records", "GET", "/api/v1/students/<student_no>/records",
          lambda w: f"/api/v1/students/{w.people['student'].student_no}/records",
          grant(200, "admin", "student", "advisor"), record_status="certified"),
    # a third student's number: no actor here is that student, nor in any organizer's scope
    Route("records-third-student", "GET", "/api/v1/students/<student_no>/records",
          lambda w: f"/api/v1/students/{w.third.student_no}/records",
          grant(200, "admin")),
    # My data (PIPL): the whole archive is the student's own and the admin's; no organizer, even in scope
    Route("export-my-data", "GET", "/api/v1/students/<student_no>/export",
          lambda w: f"/api/v1/students/{w.people['student'].student_no}/export",
          grant(200, "admin", "student"), record_status="certified", claim_status="submitted", raw=True),
]

COHORT = 2025
COHORT_RULES = {"total_min_hours": 20, "modules": {"volunteering": {"min_hours": 4, "max_hours": 10}},
                "annual": {"pass_hours": 6, "excellent_hours": 12}}


def _rules_body(w: World, actor: str) -> dict:
    # a new total each time, so every success is a new version
    return {**COHORT_RULES, "total_min_hours": 20 + next(_n) % 500}


ROUTES += [
    # ---- Credit rules and progress ----------------------------------------------------
    Route("list-modules", "GET", "/api/v1/modules", lambda w: "/api/v1/modules", grant(200, *SIGNED_IN)),
    Route("add-module", "POST", "/api/v1/modules", lambda w: "/api/v1/modules", grant(201, "admin"),
          body=lambda w, a: {"key": _unique("m"), "name_zh": _unique("劳动"), "name_en": _unique("Labour ")},
          probe=lambda w: _count(CreditModule)),
    Route("rename-module", "PATCH", "/api/v1/modules/<key>", lambda w: "/api/v1/modules/skills",
          grant(200, "admin"), body=lambda w, a: {"name_zh": _unique("技能"), "name_en": _unique("Skills ")},
          probe=lambda w: db.session.execute(select(CreditModule.name_zh).where(CreditModule.key == "skills"))
          .scalar()),
    Route("get-rules", "GET", "/api/v1/rules/<int:cohort>", lambda w: f"/api/v1/rules/{COHORT}",
          grant(200, *SIGNED_IN), cohort=True),
    Route("set-rules", "PUT", "/api/v1/rules/<int:cohort>", lambda w: f"/api/v1/rules/{COHORT}",
          grant(200, "admin"), body=_rules_body, cohort=True, probe=lambda w: _count(RuleSet)),
    # the participant's progress: theirs, the admin's, and their club's advisor's (in scope)
    Route("progress", "GET", "/api/v1/students/<student_no>/progress",
          lambda w: f"/api/v1/students/{w.people['student'].student_no}/progress",
          grant(200, "admin", "student", "advisor"), record_status="certified", cohort=True),
    Route("requirements-report", "GET", "/api/v1/reports/requirements",
          lambda w: f"/api/v1/reports/requirements?cohort={COHORT}", grant(200, "admin", *ORGANIZERS), cohort=True),
    Route("dashboard", "GET", "/api/v1/reports/dashboard", lambda w: "/api/v1/reports/dashboard",
          grant(200, "admin"), record_status="certified", cohort=True),
    Route("year-end", "POST", "/api/v1/year-end", lambda w: "/api/v1/year-end", grant(200, "admin"),
          body=lambda w, a: {"academic_year": year_end.recent_years()[0]}, cohort=True,
          probe=lambda w: _count(YearGrade)),
    Route("year-grades", "GET", "/api/v1/year-end/<academic_year>",
          lambda w: f"/api/v1/year-end/{year_end.recent_years()[0]}", grant(200, "admin"), cohort=True),
    # ---- The holder decides who may look: the student alone (API.md), not even the admin ----
    Route("public-check", "PATCH", "/api/v1/transcripts/<serial>", lambda w: f"/api/v1/transcripts/{w.serial}",
          grant(200, "student"), body=lambda w, a: {"public": False}, record_status="certified",
          transcript=True, probe=lambda w: _public_of(w)),
    Route("shares", "GET", "/api/v1/transcripts/<serial>/shares", lambda w: f"/api/v1/transcripts/{w.serial}/shares",
          grant(200, "student"), record_status="certified", transcript=True),
    Route("share-create", "POST", "/api/v1/transcripts/<serial>/shares",
          lambda w: f"/api/v1/transcripts/{w.serial}/shares", grant(201, "student"),
          body=lambda w, a: {"label": "HR"}, record_status="certified", transcript=True,
          probe=lambda w: _count(TranscriptShare)),
    Route("share-withdraw", "DELETE", "/api/v1/transcripts/<serial>/shares/<int:share_id>",
          lambda w: f"/api/v1/transcripts/{w.serial}/shares/{w.share_id}", grant(204, "student"),
          record_status="certified", transcript=True,
          probe=lambda w: _count(TranscriptShare, TranscriptShare.withdrawn_at.is_(None))),
]
# The holder's routes are in this matrix though their paths say "transcript" (the later issues').
HOLDER_RULES = {"/api/v1/transcripts/<serial>", "/api/v1/transcripts/<serial>/shares",
                "/api/v1/transcripts/<serial>/shares/<int:share_id>"}

# The credential (issue 16): the student owning the transcript, and the admin.
ROUTES += [
    Route("transcript-credential", "GET", "/api/v1/transcripts/<serial>/credential",
          lambda w: f"/api/v1/transcripts/{w.serial}/credential", grant(200, "admin", "student"),
          record_status="certified", transcript=True, raw=True),
]
CREDENTIAL_RULES = {"/api/v1/transcripts/<serial>/credential"}

# The graduation batch (issue 17): the office's alone.
ROUTES += [
    Route("batch-start", "POST", "/api/v1/batches/transcripts", lambda w: "/api/v1/batches/transcripts",
          grant(202, "admin"), body=lambda w, a: {"unit_id": w.unit.id}, record_status="certified",
          probe=lambda w: _count(GraduationBatch)),
    Route("batches", "GET", "/api/v1/batches", lambda w: "/api/v1/batches", grant(200, "admin")),
    Route("batch", "GET", "/api/v1/batches/<int:batch_id>", lambda w: f"/api/v1/batches/{w.batch_id}",
          grant(200, "admin"), record_status="certified", batch="queued"),
    Route("batch-cancel", "POST", "/api/v1/batches/<int:batch_id>/cancel",
          lambda w: f"/api/v1/batches/{w.batch_id}/cancel", grant(200, "admin"), record_status="certified",
          batch="queued", probe=lambda w: _batch_status(w)),
    Route("batch-resume", "POST", "/api/v1/batches/<int:batch_id>/resume",
          lambda w: f"/api/v1/batches/{w.batch_id}/resume", grant(202, "admin"), record_status="certified",
          batch="cancelled", probe=lambda w: _batch_status(w)),
    Route("batch-zip", "GET", "/api/v1/batches/<int:batch_id>/zip", lambda w: f"/api/v1/batches/{w.batch_id}/zip",
          grant(200, "admin"), record_status="certified", batch="done", raw=True),
]
BATCH_RULES = {"/api/v1/batches/transcripts"}


def _batch_status(w: World):
    return db.session.execute(select(GraduationBatch.status).where(GraduationBatch.id == w.batch_id)).scalar_one()


def _public_of(w: World):
    return db.session.execute(select(Transcript.public).where(Transcript.serial == w.serial)).scalar_one()

MATRIX_ROUTES = len(ROUTES)
MATRIX_ACTORS = len(ACTORS)
MATRIX_SIZE = MATRIX_ROUTES * MATRIX_ACTORS  # cells per backend
SUCCESS = {200, 201, 202, 204}


def _cases():
    for route in ROUTES:
        for actor in ACTORS:
            status = route.expected[actor]
            marks = []
            if actor in route.bugs:
                marks.append(pytest.mark.xfail(reason=route.bugs[actor], strict=True))
            yield pytest.param(route, actor, status, id=f"{route.name}-{actor}-{status}",
                               marks=marks)


CASES = list(_cases())


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_app(request, tmp_path_factory):
    """One database per backend for the module; cells build their own objects in it."""
    app = make_test_app(request.param, tmp_path_factory.mktemp("matrix"),
                        {"PROPAGATE_EXCEPTIONS": False})
    yield app
    with app.app_context():
        db.engine.dispose()


class _FlushingFactory(Factory):
    """The shared factory, flushing instead of committing: one commit per world."""

    def _save(self, obj):
        self.session.add(obj)
        self.session.flush()
        return obj


def build_world(route: Route) -> World:
    make = _FlushingFactory(db.session)
    unit = make.unit()
    people = {
        "admin": make.admin(),
        "advisor": make.organizer(unit=unit),
        "other_advisor": make.organizer(unit=unit),
        "other_college": make.organizer(),
        "leader": make.leader(unit=unit),
        "other_leader": make.leader(unit=unit),
        "student": make.student(unit=unit),
        "other_student": make.student(unit=unit),
    }
    people["other_college"].scope_unit_id = make.unit().id
    third = make.student(unit=unit)
    club = make.club(advisors=[people["advisor"]], leaders=[people["leader"]], unit=unit)
    other_club = make.club(advisors=[people["other_advisor"]], leaders=[people["other_leader"]],
                           unit=unit)
    starts_at = utcnow() - timedelta(hours=1) if route.activity_now else None
    if route.activity_upcoming:
        starts_at = utcnow() + timedelta(days=7)
    activity = make.activity(club, status=route.activity_status, starts_at=starts_at)
    record = None
    if route.record_status:
        record = make.participation(activity, people["student"], status=route.record_status)
        if route.record_status == "rejected":
            record.rejected_at, record.reject_reason = utcnow(), "未见签到"
    if route.registered:
        db.session.add(Registration(activity_id=activity.id, student_id=people["student"].id, status="registered"))
    claim = None
    if route.claim_status:
        claim = claims.submit_claim(db.session, people["student"], [Upload("score.png", png())],
                                    title="英语六级", module="skills", level="national",
                                    occurred_on=date(2026, 6, 15), hours="4")
        if route.claim_status == "certified":
            claims.certify_claim(db.session, people["admin"], claim.id)
    appeal = None
    if route.appeal:
        appeal = appeals.open_appeal(db.session, people["student"], participation_id=record.id, reason="我在场")
    member = None
    if route.member:
        member = Membership(club_id=club.id, user_id=third.id, term="2026-2027-1", role="成员")
        db.session.add(member)
    if route.cohort:
        klass = make.school_class(unit, cohort=COHORT)
        for person in (people["leader"], people["other_leader"], people["student"], people["other_student"], third):
            person.class_id = klass.id
        if credit_rules.current_rules(db.session, COHORT) is None:
            credit_rules.set_rules(db.session, people["admin"], COHORT, COHORT_RULES)
    notification = None
    if route.notification:
        notification = notify(db.session, people["student"], "record.certified", link="/me",
                              activity=activity.title, hours=activity.hours)
    serial, share_id = "", 0
    if route.transcript:
        serial = transcripts.issue_transcript(db.session, None, people["student"].student_no).serial
        share_id = holder.create_share(db.session, people["student"], serial).share.id
    db.session.commit()
    batch_id = 0
    if route.batch:
        batch_id = batches.start_batch(db.session, people["admin"], unit_id=unit.id).id
        if route.batch == "cancelled":
            batches.cancel_batch(db.session, people["admin"], batch_id)
        db.session.commit()
        if route.batch == "done":
            batch_work.work(db.session, batch_id, "matrix")
    return World(unit, club, other_club, activity, record, third, people, member, notification, claim, appeal,
                 serial, share_id, batch_id)


def _headers(actor: str, w: World) -> dict[str, str]:
    if actor == "no_token":
        return {}
    if actor == "bad_token":
        return {"Authorization": "Bearer " + uuid.uuid4().hex}
    return Factory(db.session).token(w.people[actor])


@pytest.mark.parametrize(("route", "actor", "expected"), CASES)
def test_matrix(matrix_app, route: Route, actor: str, expected: int):
    with matrix_app.app_context():
        w = build_world(route)
        headers = _headers(actor, w)
        before = route.probe(w) if route.probe else None
        body = route.body(w, actor)
        client = matrix_app.test_client()
        if route.multipart:
            response = client.open(route.path(w), method=route.method, headers=headers, data=body,
                                   content_type="multipart/form-data")
        else:
            response = client.open(route.path(w), method=route.method, headers=headers, json=body)
        data = response.get_json(silent=True)
        assert response.status_code == expected, (
            f"{route.method} {route.path(w)} as {actor}: expected {expected}, "
            f"got {response.status_code} {data}"
        )
        if expected != 204 and not (route.raw and expected in SUCCESS):
            assert response.mimetype == "application/json"
        if expected == 401 and route.name != "token-wrong-password":
            assert data["error"]["code"] == "unauthorized"
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        elif expected == 403:
            assert data["error"]["code"] == "forbidden"
            assert data["error"]["message"]
        if route.probe is not None:
            db.session.expire_all()
            after = route.probe(w)
            if expected in SUCCESS:
                assert after != before, f"{route.name} as {actor} succeeded but changed nothing"
            else:
                assert after == before, f"{route.name} as {actor} was refused but changed state"


def test_matrix_size_and_coverage(app):
    """Every /api/v1 route (but the later issues' own suites) is a row, tried by all 10 actors."""
    assert MATRIX_ACTORS == 10
    assert len(CASES) == MATRIX_SIZE == MATRIX_ROUTES * 10
    assert len({c.id for c in CASES}) == MATRIX_SIZE
    assert len({r.name for r in ROUTES}) == MATRIX_ROUTES
    in_table = {(r.method, r.rule) for r in ROUTES}
    later_issues = ("transcript", "verify", "scorecard", "openapi", "/.well-known")
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and (
            rule.rule in HOLDER_RULES | CREDENTIAL_RULES | BATCH_RULES or not any(s in rule.rule for s in later_issues))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served - in_table == set(), "API routes missing from the matrix"
    assert in_table - served == set(), "matrix rows for routes the app does not serve"
