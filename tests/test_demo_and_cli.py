"""The command line: demo school, users, audit check."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Activity, Club, Participation, Unit, User
from app.services.audit import verify_chain
from app.timeutil import utcnow


def test_demo_data_builds_a_believable_school_once(app, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    count = lambda model: session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    assert count(Unit) >= 3 and count(Club) >= 8 and count(Activity) >= 40
    students = session.execute(select(User).where(User.role.in_(["student", "leader"]))).scalars().all()
    assert len(students) >= 60
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in s.display_name) for s in students)
    # every student is in a class of their own college, of the year their number says
    assert all(s.school_class is not None and s.school_class.unit_id == s.unit_id
               and str(s.school_class.cohort) == s.student_no[:4] for s in students)
    modules = set(session.execute(select(Activity.module)).scalars())
    assert len(modules) == 7
    assert len(set(session.execute(select(Activity.term)).scalars())) == 2
    states = set(session.execute(select(Participation.status)).scalars())
    assert states == {"recorded", "certified", "rejected", "revoked"}
    assert verify_chain(session).ok
    # every cohort has credit rules, and each has students on both sides of them
    from app.services import requirements

    admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
    for cohort in (2023, 2024):
        report = requirements.report(session, admin, cohort=cohort, per_page=None)
        assert report.rules is not None and 0 < report.met_count < report.students, (cohort, report.met_count)
    users_before = count(User)
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code == 0 and "已有" in again.output
    assert count(User) == users_before


def test_user_create_from_the_command_line(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "create", "boss", "--role", "admin", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    assert session.execute(select(User).where(User.username == "boss")).scalar_one().role == "admin"
    missing_no = runner.invoke(args=["user", "create", "kid", "--role", "student", "--password", "s3cret-pass"])
    assert missing_no.exit_code == 1 and "student_no" in missing_no.output
    dup = runner.invoke(args=["user", "create", "boss", "--role", "admin", "--password", "s3cret-pass"])
    assert dup.exit_code == 1


def test_backup_writes_a_restorable_copy(app, session, make, tmp_path, backend):
    import shutil
    import sqlite3

    import pytest

    if backend == "postgresql" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    w = make.world()
    from app.services import claims
    from app.services.evidence import Upload
    from tests.test_claims import png

    photo = png()
    claim = claims.submit_claim(session, w.students[0], [Upload("p.png", photo)], title="六级", module="skills",
                                level="national", occurred_on=utcnow().date(), hours="2")
    session.commit()
    target = tmp_path / "backup.db"
    result = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    sha = claim.files[0].sha256
    copy = tmp_path / "backup.db.evidence" / sha[:2] / sha
    assert copy.read_bytes() == photo and oct(copy.stat().st_mode)[-3:] == "600"
    again = app.test_cli_runner().invoke(args=["backup", str(target)])
    assert "0" in again.output.splitlines()[-1]  # nothing new to copy the second time
    if backend == "sqlite":
        with sqlite3.connect(target) as copy:
            assert copy.execute("select count(*) from club").fetchone()[0] == 1
    else:
        assert target.read_bytes()[:5] == b"PGDMP"


def test_cli_verifies_a_file(app, client, session, make, tmp_path):
    w = make.world()
    student = w.students[0]
    make.participation(w.activity, student, status="certified", certifier=w.advisor)
    from app.services import transcripts

    issued = transcripts.issue_transcript(session, student, student.student_no)
    pdf = transcripts.transcript_pdf(session, student, issued.serial).pdf
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(pdf[:-10] + b"tampered\n")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["transcripts", "verify", str(good)])
    assert ok.exit_code == 0 and "由本系统签发：是" in ok.output and "有效" in ok.output
    no = runner.invoke(args=["transcripts", "verify", str(bad)])
    assert no.exit_code == 1 and "由本系统签发：否" in no.output


def test_messages_outside_a_request_are_in_the_default_language(app):
    """A command, a job or a test calling a service has no request to ask: Chinese, the default."""
    from flask_babel import gettext

    from app.services.errors import Invalid

    assert gettext("Invalid input") == "输入有误"
    assert Invalid({"x": ["y"]}).message == "输入有误"
    result = app.test_cli_runner().invoke(args=["user", "deactivate", "nobody-by-this-name"])
    assert result.exit_code == 1 and "错误" in result.output


def test_demo_school_has_sign_ups_claims_in_every_state_and_an_appeal(app, session):
    from app.models import Appeal, Claim, ClaimStatus, Registration
    from app.services import evidence

    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    statuses = set(session.execute(select(Registration.status)).scalars())
    assert {"registered", "waitlisted"} <= statuses
    claims = session.execute(select(Claim)).scalars().all()
    assert {c.status for c in claims} == {s.value for s in ClaimStatus}
    for claim in claims:
        assert claim.files and all(evidence.media_type_of(evidence.read(f.sha256)) == f.media_type
                                   for f in claim.files)
    assert session.execute(select(func.count(Appeal.id)).where(Appeal.status == "open")).scalar_one() >= 1
