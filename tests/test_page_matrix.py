"""Route × role matrix for the pages: every page the site serves, opened by every kind of visitor.

The API has its own matrix (tests/test_api_matrix.py). Here each GET route of the site is a
row, tried by a visitor who is not signed in and by each kind of signed-in person; a POST
route is tried by a visitor who is not signed in (sent to sign in, nothing changes) and by a
signed-in person without the right (403, nothing changes). A test proves every route of the
site is in one table or the other.

One database per backend for the module; every cell builds its own world in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Activity,
    Appeal,
    AuditEvent,
    Claim,
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
    User,
    YearGrade,
    club_leader,
)
from app.services import appeals, batch_work, batches, claims, credit_rules, holder, transcripts
from app.services.evidence import Upload
from app.services.notifications import notify
from app.timeutil import utcnow
from tests.conftest import BACKENDS, make_test_app
from tests.factories import PASSWORD, Factory
from tests.test_claims import png

VISITORS = (
    "anonymous", "admin", "advisor", "other_advisor", "leader", "other_leader", "student", "other_student",
)
SIGNED_IN = VISITORS[1:]
ORGANIZERS = ("advisor", "other_advisor")
LEADERS = ("leader", "other_leader")
STUDENTS = ("leader", "other_leader", "student", "other_student")  # leaders are students too
TO_LOGIN = 302  # a page that needs a sign-in sends the anonymous visitor to /login


@dataclass
class World:
    people: dict[str, User]
    club_id: int
    activity_id: int      # approved, ended, with the student's recorded participation
    draft_id: int         # a draft plan of the club
    record_id: int
    serial: str           # the student's transcript
    user_id: int          # someone whose account the admin may open
    member_id: int = 0    # the other student on the club's roster
    notification_id: int = 0  # the student's notification
    upcoming_id: int = 0  # an approved activity next week, open for sign-ups
    claim_id: int = 0     # the student's claim awaiting review, with a PNG
    rejected_id: int = 0  # the student's rejected record
    appeal_id: int = 0    # the student's open appeal of another rejected record
    share_id: int = 0     # a live share link of the student's transcript
    share_token: str = ""
    link_path: str = ""   # the path of the transcript's QR link (/V/<serial>/<digits>)
    batch_id: int = 0     # a finished graduation batch of the unit (the student's transcript in its ZIP)


def build_world() -> World:
    make = Factory(db.session)
    unit = make.unit()
    people = {
        "admin": make.admin(),
        "advisor": make.organizer(unit=unit),
        "other_advisor": make.organizer(unit=unit),
        "leader": make.leader(unit=unit),
        "other_leader": make.leader(unit=unit),
        "student": make.student(unit=unit),
        "other_student": make.student(unit=unit),
    }
    club = make.club(advisors=[people["advisor"]], leaders=[people["leader"]], unit=unit)
    make.club(advisors=[people["other_advisor"]], leaders=[people["other_leader"]], unit=unit)
    klass = make.school_class(unit, cohort=COHORT)
    for key in STUDENTS:
        people[key].class_id = klass.id
    db.session.flush()
    credit_rules.set_rules(db.session, people["admin"], COHORT, {
        "total_min_hours": 20, "annual": {"pass_hours": 6, "excellent_hours": 12}})
    ended = utcnow() - timedelta(days=2)
    activity = make.activity(club, starts_at=ended)
    draft = make.activity(club, status="draft", starts_at=utcnow() + timedelta(days=7))
    record = make.participation(activity, people["student"])
    done = make.activity(club, status="completed", starts_at=ended - timedelta(days=7))
    make.participation(done, people["student"], status="certified")
    transcript = transcripts.issue_transcript(db.session, None, people["student"].student_no)
    member = Membership(club_id=club.id, user_id=people["other_student"].id, term="2026-2027-1", role="成员")
    db.session.add(member)
    notification = notify(db.session, people["student"], "record.certified", link="/me", activity="x", hours=1)
    upcoming = make.activity(club, starts_at=utcnow() + timedelta(days=7), capacity=20)
    claim = claims.submit_claim(db.session, db.session.get(User, people["student"].id), [Upload("s.png", png())],
                                title="英语六级", module="skills", level="national",
                                occurred_on=utcnow().date() - timedelta(days=30), hours="4")
    rejected, appealed = (make.participation(make.activity(club, starts_at=ended), people["student"],
                                             status="rejected") for _ in range(2))
    for r in (rejected, appealed):
        r.rejected_at, r.reject_reason = utcnow(), "未见签到"
    appeal = appeals.open_appeal(db.session, db.session.get(User, people["student"].id),
                                 participation_id=appealed.id, reason="我在场")
    share = holder.create_share(db.session, people["student"], transcript.serial, label="HR")
    db.session.commit()
    batch_id = batches.start_batch(db.session, people["admin"], unit_id=unit.id).id
    db.session.commit()
    batch_work.work(db.session, batch_id, "page-matrix")
    people = {k: SimpleNamespace(id=u.id, username=u.username, student_no=u.student_no) for k, u in people.items()}
    return World(people, club.id, activity.id, draft.id, record.id, transcript.serial, people["student"].id,
                 member.id, notification.id, upcoming.id, claim.id, rejected.id, appeal.id, share.share.id, share.token,
                 urlsplit(transcript.link).path, batch_id)




@dataclass
class Page:
    rule: str
    path: Callable[[World], str]
    expected: dict[str, int]


def grant(*allowed: str, success: int = 200, otherwise: int = 403, anonymous: int = TO_LOGIN) -> dict[str, int]:
    cells = {"anonymous": anonymous}
    cells.update({v: success if v in allowed else otherwise for v in SIGNED_IN})
    return cells


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(VISITORS, status)


CLUB_PEOPLE = ("admin", "advisor", "leader")
COHORT = 2025

PAGES: list[Page] = [
    Page("/", lambda w: "/", everyone(302)),
    Page("/login", lambda w: "/login", {**everyone(302), "anonymous": 200}),  # signed in: sent home
    Page("/login/cas", lambda w: "/login/cas", everyone(404)),          # off unless CAS_SERVER_URL
    Page("/login/oidc", lambda w: "/login/oidc", everyone(404)),        # off unless OIDC_ISSUER
    Page("/login/oidc/callback", lambda w: "/login/oidc/callback", everyone(404)),
    Page("/account/password", lambda w: "/account/password", grant(*SIGNED_IN)),
    Page("/admin", lambda w: "/admin", grant("admin")),
    Page("/admin/units", lambda w: "/admin/units", grant("admin")),
    Page("/admin/clubs", lambda w: "/admin/clubs", grant("admin")),
    Page("/admin/clubs/<int:club_id>/edit", lambda w: f"/admin/clubs/{w.club_id}/edit", grant("admin")),
    Page("/admin/people", lambda w: "/admin/people", grant("admin")),
    Page("/admin/users/<int:user_id>", lambda w: f"/admin/users/{w.user_id}", grant("admin")),
    Page("/admin/people/import", lambda w: "/admin/people/import", grant("admin")),
    Page("/admin/people/import/template.csv", lambda w: "/admin/people/import/template.csv", grant("admin")),
    Page("/admin/classes", lambda w: "/admin/classes", grant("admin")),
    Page("/admin/transcripts", lambda w: "/admin/transcripts", grant("admin")),
    Page("/admin/batches", lambda w: "/admin/batches", grant("admin")),
    Page("/admin/batches/<int:batch_id>", lambda w: f"/admin/batches/{w.batch_id}", grant("admin")),
    Page("/admin/batches/<int:batch_id>/progress.json", lambda w: f"/admin/batches/{w.batch_id}/progress.json",
         grant("admin")),
    Page("/admin/batches/<int:batch_id>/transcripts.zip", lambda w: f"/admin/batches/{w.batch_id}/transcripts.zip",
         grant("admin")),
    Page("/admin/audit", lambda w: "/admin/audit", grant("admin")),
    Page("/admin/audit.csv", lambda w: "/admin/audit.csv", grant("admin")),
    Page("/organizer", lambda w: "/organizer", grant(*ORGANIZERS)),
    Page("/leader", lambda w: "/leader", grant(*LEADERS)),
    Page("/me", lambda w: "/me", grant(*STUDENTS)),
    Page("/me/data.zip", lambda w: "/me/data.zip", grant(*STUDENTS)),  # one's own data (PIPL): a student's
    Page("/notifications", lambda w: "/notifications", grant(*SIGNED_IN)),
    # the student's year: the catalogue, claims with their evidence (the claimant's, their reviewers'), appeals
    Page("/activities", lambda w: "/activities", grant(*SIGNED_IN)),
    Page("/claims", lambda w: "/claims", grant(*SIGNED_IN)),
    Page("/claims/new", lambda w: "/claims/new", grant(*STUDENTS)),
    Page("/claims/<int:claim_id>", lambda w: f"/claims/{w.claim_id}", grant("admin", "advisor", "student",
                                                                              otherwise=404)),
    Page("/claims/<int:claim_id>/files/<int:position>", lambda w: f"/claims/{w.claim_id}/files/1",
         grant("admin", "advisor", "student", otherwise=404)),
    Page("/appeals", lambda w: "/appeals", grant(*SIGNED_IN)),
    # one's own rejected record: another student's does not exist for them; only students appeal
    Page("/appeals/new", lambda w: f"/appeals/new?participation_id={w.rejected_id}",
         {**grant("student"), "leader": 404, "other_leader": 404, "other_student": 404}),
    Page("/appeals/<int:appeal_id>", lambda w: f"/appeals/{w.appeal_id}", grant("admin", "advisor", "student",
                                                                                  otherwise=404)),
    Page("/clubs/<int:club_id>", lambda w: f"/clubs/{w.club_id}", grant(*SIGNED_IN)),
    Page("/clubs/<int:club_id>/activities/new", lambda w: f"/clubs/{w.club_id}/activities/new", grant("leader")),
    Page("/activities/<int:activity_id>", lambda w: f"/activities/{w.activity_id}", grant(*SIGNED_IN)),
    Page("/activities/<int:activity_id>/edit", lambda w: f"/activities/{w.draft_id}/edit", grant("leader")),
    Page("/activities/<int:activity_id>/participants", lambda w: f"/activities/{w.activity_id}/participants",
         grant("leader")),
    Page("/activities/<int:activity_id>/check-in/screen",
         lambda w: f"/activities/{w.activity_id}/check-in/screen", grant("admin", "leader")),
    Page("/activities/<int:activity_id>/check-in/code.json",
         lambda w: f"/activities/{w.activity_id}/check-in/code.json", grant("admin", "leader")),
    Page("/c/<int:activity_id>", lambda w: f"/c/{w.activity_id}?c=x&d=in", grant(*STUDENTS)),
    Page("/activities/<int:activity_id>/late-entry",
         lambda w: f"/activities/{w.activity_id}/late-entry", grant("leader")),
    Page("/activities/<int:activity_id>/participants/template.csv",
         lambda w: f"/activities/{w.activity_id}/participants/template.csv", grant("leader")),
    Page("/activities/<int:activity_id>/signoff", lambda w: f"/activities/{w.activity_id}/signoff",
         grant("admin", "advisor")),
    Page("/transcripts/<serial>.pdf", lambda w: f"/transcripts/{w.serial}.pdf", grant("admin", "student")),
    # one transcript's page: its holder (with the controls) and the admin (without)
    Page("/transcripts/<serial>", lambda w: f"/transcripts/{w.serial}", grant("admin", "student")),
    Page("/transcripts/<serial>/credential.json", lambda w: f"/transcripts/{w.serial}/credential.json",
         grant("admin", "student")),
    Page("/scorecards", lambda w: "/scorecards", grant("admin", *ORGANIZERS, *LEADERS)),
    Page("/scorecards/ranking.<fmt>", lambda w: "/scorecards/ranking.csv", grant("admin", *ORGANIZERS, *LEADERS)),
    Page("/scorecards/heat.<fmt>", lambda w: "/scorecards/heat.csv", grant("admin", *ORGANIZERS, *LEADERS)),
    Page("/clubs/<int:club_id>/scorecard", lambda w: f"/clubs/{w.club_id}/scorecard", grant(*CLUB_PEOPLE)),
    Page("/clubs/<int:club_id>/scorecard/radar.svg", lambda w: f"/clubs/{w.club_id}/scorecard/radar.svg",
         grant(*CLUB_PEOPLE)),
    Page("/clubs/<int:club_id>/scorecard/report.pdf", lambda w: f"/clubs/{w.club_id}/scorecard/report.pdf",
         grant(*CLUB_PEOPLE)),
    Page("/clubs/<int:club_id>/scorecard/indicators.<fmt>",
         lambda w: f"/clubs/{w.club_id}/scorecard/indicators.csv", grant(*CLUB_PEOPLE)),
    Page("/clubs/<int:club_id>/scorecard/trend.<fmt>", lambda w: f"/clubs/{w.club_id}/scorecard/trend.csv",
         grant(*CLUB_PEOPLE)),
    # credit rules: the office's; progress: the student's own, their advisor's (in scope), the admin's
    Page("/admin/rules", lambda w: "/admin/rules", grant("admin")),
    Page("/admin/rules/<int:cohort>", lambda w: f"/admin/rules/{COHORT}", grant("admin")),
    Page("/admin/year-end", lambda w: "/admin/year-end", grant("admin")),
    Page("/me/progress", lambda w: "/me/progress", grant(*STUDENTS)),
    Page("/students/<student_no>/progress", lambda w: f"/students/{w.people['student'].student_no}/progress",
         grant("admin", "advisor", "student")),
    Page("/reports/requirements", lambda w: f"/reports/requirements?cohort={COHORT}", grant("admin", *ORGANIZERS)),
    Page("/reports/requirements.<fmt>", lambda w: f"/reports/requirements.csv?cohort={COHORT}",
         grant("admin", *ORGANIZERS)),
    Page("/reports/dashboard", lambda w: "/reports/dashboard", grant("admin")),
    # public: the employer's side
    Page("/verify", lambda w: "/verify", everyone(200)),
    Page("/verify/offline.html", lambda w: "/verify/offline.html", everyone(200)),
    Page("/v/<serial>", lambda w: f"/v/{w.serial}", everyone(200)),
    Page("/V/<serial>/<payload>", lambda w: w.link_path, everyone(200)),
    Page("/v/<serial>/<payload>", lambda w: w.link_path.replace("/V/", "/v/", 1).lower(), everyone(200)),
    # a share link: an unknown one is the same 404 for anyone (a live one opens for whoever holds
    # it, whoever they are: tests/test_holder_controls.py)
    Page("/share/<token>", lambda w: "/share/not-a-link", everyone(404)),
    Page("/.well-known/jwks.json", lambda w: "/.well-known/jwks.json", everyone(200)),
    Page("/.well-known/did.json", lambda w: "/.well-known/did.json", everyone(200)),
    Page("/status/<int:list_id>", lambda w: "/status/1", everyone(200)),
    Page("/.well-known/audit-checkpoints.json", lambda w: "/.well-known/audit-checkpoints.json", everyone(200)),
    Page("/healthz", lambda w: "/healthz", everyone(200)),
    # public: the owner of a one-time password link; an unknown or used one is gone for anyone
    Page("/password/reset/<token>", lambda w: "/password/reset/not-a-link", everyone(410)),
]


@dataclass
class Action:
    """A POST route: who is refused, and what must not change when they are."""

    rule: str
    path: Callable[[World], str]
    refused: tuple[str, ...]  # signed-in visitors who are refused
    data: Callable[[World], dict] = lambda w: {}
    refused_as: int = 403


def _signed_csv(w: World) -> str:
    """The confirm form's payload as the preview signs it: one valid row for the other student."""
    from app.web.records import _pack

    row = f"学号,角色\n{w.people['other_student'].student_no},参与者\n".encode()
    return _pack(w.activity_id, row)


ACTIONS: list[Action] = [
    Action("/activities/<int:activity_id>/approve", lambda w: f"/activities/{w.draft_id}/approve",
           ("other_advisor", "leader", "student")),
    Action("/activities/<int:activity_id>/return", lambda w: f"/activities/{w.draft_id}/return",
           ("other_advisor", "leader", "student"), lambda w: {"reason": "请补充预算"}),
    Action("/activities/<int:activity_id>/submit", lambda w: f"/activities/{w.draft_id}/submit",
           ("other_leader", "advisor", "student")),
    Action("/activities/<int:activity_id>/cancel", lambda w: f"/activities/{w.draft_id}/cancel",
           ("other_leader", "other_advisor", "student"), lambda w: {"reason": "场地取消"}),
    Action("/activities/<int:activity_id>/complete", lambda w: f"/activities/{w.activity_id}/complete",
           ("other_leader", "advisor", "student")),
    Action("/activities/<int:activity_id>/certify", lambda w: f"/activities/{w.activity_id}/certify",
           ("other_advisor", "leader", "student")),
    Action("/c/<int:activity_id>", lambda w: f"/c/{w.activity_id}", ("admin", "advisor"),
           lambda w: {"c": "x", "d": "in"}),
    Action("/activities/<int:activity_id>/late-entry", lambda w: f"/activities/{w.activity_id}/late-entry",
           ("admin", "other_leader", "advisor", "student"),
           lambda w: {"student_no": w.people["other_student"].student_no, "reason": "扫码失败"}),
    Action("/activities/<int:activity_id>/participants/csv", lambda w: f"/activities/{w.activity_id}/participants/csv",
           ("other_leader", "advisor", "student")),
    Action("/activities/<int:activity_id>/participants/csv/confirm",
           lambda w: f"/activities/{w.activity_id}/participants/csv/confirm", ("other_leader", "advisor", "student"),
           lambda w: {"payload": _signed_csv(w)}),
    Action("/participations/<int:participation_id>/reject", lambda w: f"/participations/{w.record_id}/reject",
           ("other_advisor", "leader", "student"), lambda w: {"reason": "未到场"}),
    Action("/participations/<int:participation_id>/revoke", lambda w: f"/participations/{w.record_id}/revoke",
           ("other_advisor", "leader", "student"), lambda w: {"reason": "重复"}),
    Action("/transcripts/<serial>/revoke", lambda w: f"/transcripts/{w.serial}/revoke",
           ("advisor", "leader", "student"), lambda w: {"reason": "伪造材料"}),
    Action("/me/transcripts", lambda w: "/me/transcripts", ("advisor",), refused_as=404),  # no student of theirs
    # who may look: the holder's alone (not even the admin's)
    Action("/transcripts/<serial>/public", lambda w: f"/transcripts/{w.serial}/public",
           ("admin", "advisor", "leader", "other_student"), lambda w: {"action": "close"}),
    Action("/transcripts/<serial>/shares", lambda w: f"/transcripts/{w.serial}/shares",
           ("admin", "advisor", "leader", "other_student"), lambda w: {"nonce": "x", "label": "x"}),
    Action("/transcripts/<serial>/shares/<int:share_id>/withdraw",
           lambda w: f"/transcripts/{w.serial}/shares/{w.share_id}/withdraw",
           ("admin", "advisor", "leader", "other_student")),
    Action("/logout", lambda w: "/logout", ()),
    # the graduation batch: the office's
    Action("/admin/batches/<int:batch_id>/cancel", lambda w: f"/admin/batches/{w.batch_id}/cancel",
           ("advisor", "leader", "student")),
    Action("/admin/batches/<int:batch_id>/resume", lambda w: f"/admin/batches/{w.batch_id}/resume",
           ("advisor", "leader", "student")),
    # signing up is a student's own act
    Action("/activities/<int:activity_id>/sign-up", lambda w: f"/activities/{w.upcoming_id}/sign-up",
           ("admin", "advisor")),
    Action("/activities/<int:activity_id>/sign-up/withdraw", lambda w: f"/activities/{w.upcoming_id}/sign-up/withdraw",
           ("admin", "advisor")),
    Action("/activities/<int:activity_id>/sign-up/withdraw", lambda w: f"/activities/{w.upcoming_id}/sign-up/withdraw",
           ("student", "other_student"), refused_as=404),  # nobody here has signed up
    # a claim: its reviewers' (the claimant is refused; for anyone else it does not exist)
    *(Action(f"/claims/<int:claim_id>/{verb}", lambda w, verb=verb: f"/claims/{w.claim_id}/{verb}", who,
             lambda w: {"reject-reason": "看不清", "revoke-reason": "伪造"}, refused_as=status)
      for verb in ("certify", "reject", "revoke")
      for who, status in ((("student",), 403), (("other_advisor", "leader", "other_student"), 404))),
    Action("/appeals/<int:appeal_id>/resolve", lambda w: f"/appeals/{w.appeal_id}/resolve", ("student",),
           lambda w: {"resolve-decision": "upheld", "resolve-reason": "x"}),
    Action("/appeals/<int:appeal_id>/resolve", lambda w: f"/appeals/{w.appeal_id}/resolve",
           ("other_advisor", "leader"), lambda w: {"resolve-decision": "upheld", "resolve-reason": "x"},
           refused_as=404),
    # one's own notifications: another's does not exist for anyone else (marking all read is anyone's own)
    Action("/notifications/<int:notification_id>/read", lambda w: f"/notifications/{w.notification_id}/read",
           ("admin", "advisor", "other_student"), refused_as=404),
    Action("/notifications/read-all", lambda w: "/notifications/read-all", ()),
    Action("/admin/people/import/confirm", lambda w: "/admin/people/import/confirm",
           ("advisor", "leader", "student"), lambda w: {"payload": "x"}),
    # one person's account: the admin's only
    Action("/admin/users/<int:user_id>/deactivate", lambda w: f"/admin/users/{w.user_id}/deactivate",
           ("advisor", "leader", "student")),
    Action("/admin/users/<int:user_id>/reactivate", lambda w: f"/admin/users/{w.user_id}/reactivate",
           ("advisor", "leader", "student")),
    Action("/admin/users/<int:user_id>/password-link", lambda w: f"/admin/users/{w.user_id}/password-link",
           ("advisor", "leader", "student")),
    # the club page's roster (its leaders, advisors, the admin) and 换届 (the admin, its advisors)
    Action("/clubs/<int:club_id>/members", lambda w: f"/clubs/{w.club_id}/members",
           ("other_leader", "other_advisor", "student"),
           lambda w: {"student_no": w.people["student"].student_no, "term": "2026-2027-1", "role": "干事"}),
    Action("/clubs/<int:club_id>/members/<int:membership_id>/role",
           lambda w: f"/clubs/{w.club_id}/members/{w.member_id}/role", ("other_leader", "other_advisor", "student"),
           lambda w: {"role": "会长"}),
    Action("/clubs/<int:club_id>/members/<int:membership_id>/remove",
           lambda w: f"/clubs/{w.club_id}/members/{w.member_id}/remove", ("other_leader", "other_advisor", "student")),
    # the credit rules, the module list and the yearly certification: the office's
    Action("/admin/rules", lambda w: "/admin/rules", ("advisor", "leader", "student"),
           lambda w: {"key": "labour", "name_zh": "劳动教育", "name_en": "Labour education"}),
    Action("/admin/modules/<key>", lambda w: "/admin/modules/skills", ("advisor", "leader", "student"),
           lambda w: {"m-skills-name_zh": "技能", "m-skills-name_en": "Skills"}),
    Action("/admin/rules/<int:cohort>", lambda w: f"/admin/rules/{COHORT}", ("advisor", "leader", "student"),
           lambda w: {"total_min_hours": "30", "pass_hours": "6", "excellent_hours": "12", "years_required": "0"}),
    Action("/admin/year-end", lambda w: "/admin/year-end", ("advisor", "leader", "student"),
           lambda w: {"academic_year": "2025-2026", "cohort": str(COHORT)}),
    Action("/clubs/<int:club_id>/leaders", lambda w: f"/clubs/{w.club_id}/leaders",
           ("leader", "other_advisor", "student"),
           lambda w: {"student_nos": w.people["student"].student_no, "confirm": "1"}),
]
# GET-and-POST pages are in PAGES; their POST is the page's own form, tried by the tests of that page.
FORM_PAGES_TESTED_ELSEWHERE = {"/verify/upload"}


def _cells():
    for page in PAGES:
        for visitor in VISITORS:
            yield pytest.param(page, visitor, page.expected[visitor], id=f"{page.rule}-{visitor}")


def _action_cells():
    for action in ACTIONS:
        for visitor in ("anonymous", *action.refused):
            yield pytest.param(action, visitor, id=f"POST {action.rule}-{visitor}")


@pytest.fixture(scope="module", params=BACKENDS)
def matrix_app(request, tmp_path_factory):
    app = make_test_app(request.param, tmp_path_factory.mktemp("pages"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def world(matrix_app):
    """One world per backend, and one signed-in session cookie per visitor: a page that is only
    read, or an action that is refused, changes nothing another cell could see (each checks)."""
    with matrix_app.app_context():
        w = build_world()
        cookies = {}
        for visitor in SIGNED_IN:
            client = matrix_app.test_client()
            r = client.post("/login", data={"username": w.people[visitor].username, "password": PASSWORD})
            assert r.status_code == 302, r.get_data(as_text=True)
            cookies[visitor] = client.get_cookie("session").value
        db.session.remove()
    return w, cookies


def _client(app, world, visitor: str):
    client = app.test_client()
    if visitor != "anonymous":
        client.set_cookie("session", world[1][visitor])
    return client


def _state() -> tuple:
    """What a refused action must leave as it was."""
    return (
        db.session.execute(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.action.not_in(["user.sign_in", "user.sign_in_failed"]))).scalar_one(),
        tuple(db.session.execute(select(Activity.status).order_by(Activity.id)).scalars()),
        tuple(db.session.execute(select(Participation.status).order_by(Participation.id)).scalars()),
        tuple(db.session.execute(select(User.role, User.active).order_by(User.id)).all()),
        tuple(db.session.execute(select(Membership.id, Membership.role).order_by(Membership.id)).all()),
        tuple(db.session.execute(select(club_leader.c.id, club_leader.c.ended_at).order_by(club_leader.c.id)).all()),
        db.session.execute(select(func.count()).select_from(PasswordReset)).scalar_one(),
        db.session.execute(select(func.count()).select_from(SchoolClass)).scalar_one(),
        db.session.execute(select(func.count()).select_from(Transcript)
                           .where(Transcript.status == "valid")).scalar_one(),
        tuple(db.session.execute(select(Notification.read_at).order_by(Notification.id)).scalars()),
        tuple(db.session.execute(select(Registration.status).order_by(Registration.id)).scalars()),
        tuple(db.session.execute(select(Claim.status).order_by(Claim.id)).scalars()),
        tuple(db.session.execute(select(Appeal.status).order_by(Appeal.id)).scalars()),
        db.session.execute(select(func.count()).select_from(RuleSet)).scalar_one(),
        tuple(db.session.execute(select(CreditModule.key, CreditModule.name_zh)).all()),
        db.session.execute(select(func.count()).select_from(YearGrade)).scalar_one(),
        tuple(db.session.execute(select(Transcript.public, Transcript.public_until).order_by(Transcript.id)).all()),
        tuple(db.session.execute(select(TranscriptShare.id, TranscriptShare.withdrawn_at)
                                 .order_by(TranscriptShare.id)).all()),
        tuple(db.session.execute(select(GraduationBatch.status).order_by(GraduationBatch.id)).scalars()),
    )


@pytest.mark.parametrize(("page", "visitor", "expected"), list(_cells()))
def test_page(matrix_app, world, page: Page, visitor: str, expected: int):
    w = world[0]
    with matrix_app.app_context():
        client = _client(matrix_app, world, visitor)
        response = client.get(page.path(w))
        assert response.status_code == expected, f"GET {page.path(w)} as {visitor}: {response.status_code}"
        if expected == TO_LOGIN and visitor == "anonymous" and page.rule not in ("/",):
            assert "/login" in response.headers["Location"]
        if expected == 403:
            assert "无权访问" in response.get_data(as_text=True)  # the error page in the layout
        db.session.remove()


@pytest.mark.parametrize(("action", "visitor"), list(_action_cells()))
def test_refused_action_changes_nothing(matrix_app, world, action: Action, visitor: str):
    w = world[0]
    with matrix_app.app_context():
        client = _client(matrix_app, world, visitor)
        before = _state()
        response = client.post(action.path(w), data=action.data(w))
        if visitor == "anonymous":
            assert response.status_code == TO_LOGIN and "/login" in response.headers["Location"]
        else:
            assert response.status_code == action.refused_as, f"{action.path(w)} as {visitor}: {response.status_code}"
        db.session.expire_all()
        assert _state() == before
        db.session.remove()


def test_every_page_and_action_is_in_the_matrix(app):
    in_table = {p.rule for p in PAGES} | {a.rule for a in ACTIONS} | FORM_PAGES_TESTED_ELSEWHERE
    served = {
        rule.rule for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/") and rule.endpoint != "static"
    }
    assert served - in_table == set(), "pages missing from the matrix"
    assert in_table - served == set(), "matrix rows for pages the site does not serve"
    assert len(PAGES) * len(VISITORS) >= 250
