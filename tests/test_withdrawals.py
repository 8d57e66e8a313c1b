"""Withdrawals follow the transcript: a revoked record amends every transcript that carries it."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Transcript, TranscriptRecord
from app.services import participations, transcripts
from app.services.audit import verify_chain
from tests.test_web_transcripts import sign_in


@pytest.fixture
def graduate(make):
    """A student with three certified records (4 h each) and one still unsigned."""
    w = make.world()
    student = w.students[0]
    records = []
    for title in ("敬老院志愿服务", "挑战杯项目路演", "马拉松志愿者"):
        activity = make.activity(w.club, title=title)
        records.append(make.participation(activity, student, status="certified", certifier=w.advisor))
    make.participation(w.activity, student)
    return w, student, records


def issue(session, w, student) -> Transcript:
    transcript = transcripts.issue_transcript(session, w.admin, student.student_no)
    session.commit()
    return transcript


def renamed(session, student) -> None:
    """The student's name changed: the next transcript's content differs (the hours do not)."""
    student.display_name += "（更名）"
    session.commit()


def withdraw(session, w, record, reason="签到记录有误，实际未到场") -> None:
    participations.revoke(session, w.advisor, record.id, reason)
    session.commit()


def follow(client, link: str, **headers):
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}", headers=headers)


def test_issuing_writes_which_records_the_transcript_carries(session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    carried = set(session.execute(select(TranscriptRecord.participation_id)
                                  .where(TranscriptRecord.transcript_id == transcript.id)).scalars())
    assert carried == {r.id for r in records}


def test_revoked_record_marks_its_transcripts_amended(session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    withdraw(session, w, records[1])
    session.refresh(transcript)
    assert transcript.status == "amended"
    assert transcript.amended_at == records[1].revoked_at
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "transcript.amend")).scalars().all()
    assert [e.object_id for e in events] == [transcript.serial]
    assert verify_chain(session).ok
    withdraw(session, w, records[0], "重复登记")
    session.refresh(transcript)
    assert transcript.status == "amended"
    assert transcript.amended_at == records[1].revoked_at  # the first withdrawal's time stays


def test_superseded_and_revoked_transcripts_keep_their_status(session, graduate):
    w, student, records = graduate
    old = issue(session, w, student)
    renamed(session, student)  # something changed, so issuing again makes a new transcript
    revoked = issue(session, w, student)
    transcripts.revoke_transcript(session, w.admin, revoked.serial, "更正")
    session.commit()
    withdraw(session, w, records[0])
    session.refresh(old)
    session.refresh(revoked)
    assert (old.status, revoked.status) == ("superseded", "revoked")
    assert old.amended_at is None


def test_verify_json_lists_the_withdrawn_records_and_the_hours_still_certified(client, session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    assert client.get(f"/api/v1/verify/{transcript.serial}").get_json()["withdrawn"] == []
    withdraw(session, w, records[1])
    data = client.get(f"/api/v1/verify/{transcript.serial}").get_json()
    assert data["status"] == "amended"
    assert data["total_hours"] == 12.0 and data["hours_still_certified"] == 8.0
    [gone] = data["withdrawn"]
    assert gone["activity"] == "挑战杯项目路演" and gone["hours"] == 4.0
    assert gone["reason"] == "签到记录有误，实际未到场" and gone["revoked_at"]
    assert data["amended_at"]


@pytest.mark.parametrize("language, words", [
    ("zh", ("挑战杯项目路演", "签到记录有误，实际未到场", "4.0", "8.0")),
    ("en", ("The school withdrew 1 record after this transcript was issued: 4.0 h are no longer "
            "certified; 8.0 h still are.", "<h1>Amended</h1>", "签到记录有误，实际未到场")),
])
def test_verify_page_says_the_hours_were_withdrawn(client, session, graduate, language, words):
    w, student, records = graduate
    transcript = issue(session, w, student)
    withdraw(session, w, records[1])
    html = follow(client, transcript.link, **{"Accept-Language": language}).get_data(as_text=True)
    assert 'class="withdrawn-summary"' in html
    for text in words:
        assert text in html
    assert html.count('<tr class="withdrawn">') == 1  # only the withdrawn line is marked
    assert "<s>4.0</s>" in html and "<h1>有效</h1>" not in html and "<h1>Genuine</h1>" not in html


def test_superseded_copy_shows_records_withdrawn_after_its_date(client, session, graduate):
    w, student, records = graduate
    old = issue(session, w, student)
    renamed(session, student)  # something changed, so issuing again makes a new transcript
    new = issue(session, w, student)
    withdraw(session, w, records[2])
    for transcript, status in ((old, "superseded"), (new, "amended")):
        data = client.get(f"/api/v1/verify/{transcript.serial}").get_json()
        assert data["status"] == status
        assert [g["activity"] for g in data["withdrawn"]] == ["马拉松志愿者"]
        assert data["hours_still_certified"] == 8.0
    html = follow(client, old.link, **{"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Superseded</h1>" in html and "8.0 h still are" in html


def test_record_withdrawn_before_issue_is_not_on_the_transcript_and_not_listed(client, session, graduate):
    w, student, records = graduate
    withdraw(session, w, records[0])
    transcript = issue(session, w, student)
    data = client.get(f"/api/v1/verify/{transcript.serial}").get_json()
    assert data["status"] == "valid" and data["withdrawn"] == []
    assert data["total_hours"] == data["hours_still_certified"] == 8.0
    assert "敬老院志愿服务" not in [r["activity"] for r in data["records"]]


def test_amended_transcript_can_be_replaced_by_a_new_one(client, make, session, graduate):
    w, student, records = graduate
    old = issue(session, w, student)
    withdraw(session, w, records[0])
    sign_in(client, student)
    home = client.get("/me").get_data(as_text=True)
    assert old.serial in home and "签到记录有误，实际未到场" in home and "敬老院志愿服务" in home
    assert 'action="/me/transcripts"' in home  # the issue button is there
    r = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert r.status_code == 201 and r.get_json()["total_hours"] == 8.0
    session.refresh(old)
    assert old.status == "superseded"
    data = client.get(f"/api/v1/verify/{old.serial}").get_json()
    assert data["status"] == "superseded" and data["hours_still_certified"] == 8.0


def test_cached_verify_page_shows_an_amendment_at_once(client, session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    first, second = follow(client, transcript.link), follow(client, transcript.link)
    assert first.get_data() == second.get_data()  # the second one came from the page cache
    withdraw(session, w, records[0])
    for _ in range(2):
        html = follow(client, transcript.link).get_data(as_text=True)
        assert 'class="withdrawn-summary"' in html and "<h1>有效</h1>" not in html
    withdraw(session, w, records[1], "重复登记")  # a second withdrawal changes the page again
    html = follow(client, transcript.link).get_data(as_text=True)
    assert "重复登记" in html and html.count('<tr class="withdrawn">') == 2


def test_uploaded_file_of_an_amended_transcript_is_genuine_but_amended(client, session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    pdf = session.get(Transcript, transcript.id).pdf
    withdraw(session, w, records[1])
    r = client.post("/api/v1/verify/pdf", data={"file": (io.BytesIO(pdf), "t.pdf")},
                    headers={"Accept-Language": "en"})
    body = r.get_json()
    assert body["genuine"] is True and body["status"] == "amended"
    assert "挑战杯项目路演" in body["reason"] and "签到记录有误，实际未到场" in body["reason"]
    page = client.post("/verify/upload", data={"file": (io.BytesIO(pdf), "t.pdf")},
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Genuine file, amended since" in page and "8.0 h still are" in page


def test_cli_verify_prints_the_amendment(app, tmp_path, session, graduate):
    w, student, records = graduate
    transcript = issue(session, w, student)
    path = tmp_path / "t.pdf"
    path.write_bytes(session.get(Transcript, transcript.id).pdf)
    withdraw(session, w, records[1])
    result = app.test_cli_runner().invoke(args=["transcripts", "verify", str(path)])
    assert "挑战杯项目路演" in result.output and "amended" in result.output


def test_student_cannot_withdraw_their_own_record_to_amend_a_transcript(session, graduate):
    from app.services.errors import Forbidden

    w, student, records = graduate
    transcript = issue(session, w, student)
    with pytest.raises(Forbidden):
        participations.revoke(session, student, records[0].id, "不想要了")
    session.rollback()
    assert session.get(Transcript, transcript.id).status == "valid"


def test_a_revocation_that_raced_the_issue_still_verifies_as_amended(client, session, graduate):
    """The revocation committed while the issue was in progress, so it found no transcript to amend."""
    w, student, records = graduate
    transcript = issue(session, w, student)
    record = records[0]
    record.status, record.revoked_at, record.revoke_reason = "revoked", record.certified_at, "重复登记"
    record.revoked_by_id = w.advisor.id
    session.commit()
    data = client.get(f"/api/v1/verify/{transcript.serial}").get_json()
    assert data["status"] == "amended" and data["hours_still_certified"] == 8.0
