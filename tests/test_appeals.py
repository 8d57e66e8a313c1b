"""Appeals (申诉): within the window, resolved by an organizer in scope through the normal paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.models import Appeal, Participation, ParticipationStatus
from app.services import participations
from app.timeutil import utcnow

API = "/api/v1"


@pytest.fixture
def rejected(make, session):
    """A student whose record of last week's activity the advisor rejected yesterday."""
    w = make.world()
    w.activity = make.activity(w.club, starts_at=utcnow() - timedelta(days=7))
    record = make.participation(w.activity, w.students[0])
    session.commit()
    participations.reject(session, w.advisor, record.id, "签到时间不符")
    session.commit()
    w.record = record
    return w


def appeal(client, make, student, **body):
    return client.post(f"{API}/appeals", headers=make.token(student), json={"reason": "我全程在场，有照片为证", **body})


def test_upheld_appeal_certifies_a_corrected_record_through_the_sign_off(client, session, make, rejected):
    w = rejected
    opened = appeal(client, make, w.students[0], participation_id=w.record.id)
    assert opened.status_code == 201 and opened.get_json()["status"] == "open"
    resolved = client.post(f"{API}/appeals/{opened.get_json()['id']}/resolve", headers=make.token(w.advisor),
                           json={"decision": "upheld", "reason": "核对照片，确认到场"})
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["status"] == "upheld" and body["result_participation_id"]
    corrected = session.get(Participation, body["result_participation_id"])
    assert corrected.status == ParticipationStatus.CERTIFIED and corrected.source == "appeal"
    assert corrected.certified_by_id == w.advisor.id
    session.refresh(w.record)
    assert w.record.status == ParticipationStatus.REJECTED  # never edited in place


def test_dismissed_appeal_changes_no_record(client, session, make, rejected):
    w = rejected
    appeal_id = appeal(client, make, w.students[0], participation_id=w.record.id).get_json()["id"]
    answer = client.post(f"{API}/appeals/{appeal_id}/resolve", headers=make.token(w.advisor),
                         json={"decision": "dismissed", "reason": "签到记录显示未到场"})
    assert answer.status_code == 200
    assert session.execute(select(func.count(Participation.id))).scalar_one() == 1


def test_an_appeal_past_its_window_is_refused(app, client, session, make, rejected):
    w = rejected
    w.record.rejected_at = utcnow() - timedelta(days=app.config["APPEAL_DAYS"] + 1)
    session.commit()
    answer = appeal(client, make, w.students[0], participation_id=w.record.id)
    assert answer.status_code == 409 and "30" in answer.get_json()["error"]["message"]
    assert session.execute(select(func.count(Appeal.id))).scalar_one() == 0


def test_someone_elses_record_cannot_be_appealed(client, session, make, rejected):
    w = rejected
    answer = appeal(client, make, w.students[1], participation_id=w.record.id)
    assert answer.status_code == 404
    assert session.execute(select(func.count(Appeal.id))).scalar_one() == 0


def test_the_same_appeal_twice_is_refused(client, make, rejected):
    w = rejected
    assert appeal(client, make, w.students[0], participation_id=w.record.id).status_code == 201
    assert appeal(client, make, w.students[0], participation_id=w.record.id).status_code == 409


def test_a_missing_record_is_appealed_and_recorded_when_upheld(client, session, make, rejected):
    w = rejected
    answer = appeal(client, make, w.students[1], activity_id=w.activity.id)
    assert answer.status_code == 201
    resolved = client.post(f"{API}/appeals/{answer.get_json()['id']}/resolve", headers=make.token(w.advisor),
                           json={"decision": "upheld", "reason": "负责人确认漏登"})
    assert resolved.status_code == 200
    record = session.get(Participation, resolved.get_json()["result_participation_id"])
    assert (record.student_id, record.hours, record.status) == (w.students[1].id, w.activity.hours, "certified")


def test_leaders_and_other_advisors_cannot_resolve(client, session, make, rejected):
    w = rejected
    appeal_id = appeal(client, make, w.students[0], participation_id=w.record.id).get_json()["id"]
    stranger = make.organizer(unit=make.unit())
    session.commit()
    for who, status in ((w.leader, 404), (stranger, 404), (w.students[0], 403)):
        answer = client.post(f"{API}/appeals/{appeal_id}/resolve", headers=make.token(who),
                             json={"decision": "upheld", "reason": "x"})
        assert answer.status_code == status, who.role
    assert session.get(Appeal, appeal_id).status == "open"
