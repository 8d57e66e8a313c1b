"""The command line acts as the system: one reserved account, stamped on what it did, that
never signs in and is never mistaken for a person (issue #12)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from app.models import AuditEvent, Participation, Role, User
from app.services import activities, participations
from app.services.auth import authenticate
from app.services.errors import Unauthorized
from app.services.passwords import hash_password
from app.services.system import SYSTEM_USERNAME, system_actor
from app.timeutil import utcnow
from tests.factories import PASSWORD


def test_cli_certification_is_recorded_as_the_system_not_a_person(make, session):
    w = make.world()
    records = [make.participation(w.activity, s) for s in w.students]
    system = system_actor(session)
    assert participations.certify(session, system, w.activity.id, note="from the roster") == 2
    session.commit()
    people = {u.id for u in session.query(User).filter(User.role != Role.SYSTEM)}
    for record in records:
        stored = session.get(Participation, record.id)
        assert stored.status == "certified" and stored.certified_by_id == system.id
        assert stored.certified_by_id not in people and stored.certified_by_id != w.admin.id
    event = session.query(AuditEvent).filter_by(action="participation.certify").one()
    assert event.actor_id == system.id
    assert session.get(User, system.id).role == Role.SYSTEM


def test_none_is_the_system_actor_in_the_activity_services(make, session):
    """`actor=None` (the command line, not yet moved) stamps the system, not the first admin."""
    w = make.world()
    starts = utcnow() + timedelta(days=3)
    activity = activities.create_activity(
        session, None, w.club.id, title="命令行导入的活动", module="volunteering", level="club",
        starts_at=starts, ends_at=starts + timedelta(hours=2), location="礼堂", hours=Decimal("2"),
    )
    activities.submit_activity(session, None, activity.id)
    activities.approve_activity(session, None, activity.id)
    system = system_actor(session)
    assert activity.created_by_id == activity.submitted_by_id == activity.approved_by_id == system.id
    assert system.id != w.admin.id
    entries = [participations.Entry(student_no=w.students[0].student_no)]
    [record] = participations.record_participations(session, None, activity.id, entries)
    assert record.recorded_by_id == system.id


def test_there_is_one_system_account(make, session):
    first = system_actor(session)
    session.commit()
    assert system_actor(session).id == first.id
    assert session.query(User).filter_by(role=Role.SYSTEM).count() == 1
    assert first.username == SYSTEM_USERNAME and first.password_hash is None and not first.active


def test_the_system_account_cannot_sign_in(client, make, session):
    system = system_actor(session)
    session.commit()
    for password in ("", PASSWORD, "anything at all"):
        with pytest.raises(Unauthorized):
            authenticate(session, SYSTEM_USERNAME, password)
    r = client.post("/api/v1/auth/token", json={"username": SYSTEM_USERNAME, "password": PASSWORD})
    assert r.status_code == 401
    r = client.post("/login", data={"username": SYSTEM_USERNAME, "password": PASSWORD})
    assert r.status_code != 302
    # Even with a password somehow set, the account is not active: still refused.
    system.password_hash = hash_password(PASSWORD)
    session.commit()
    with pytest.raises(Unauthorized):
        authenticate(session, SYSTEM_USERNAME, PASSWORD)
    # Reactivated by hand: the next command shuts it again before acting.
    system.active = True
    session.commit()
    assert system_actor(session).id == system.id and not system.active and system.password_hash is None
