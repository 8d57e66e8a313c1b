"""My data (PIPL): a student downloads everything kept about them as one ZIP — theirs and only theirs.

The student themself and the admin may; another student, the club's leader and the organizers
(even one for whom the student is in scope) are refused, and the export is audited.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEvent
from app.services import appeals, claims, evidence, my_data, participations, registrations, transcripts
from app.services.errors import Forbidden, NotFound
from app.services.evidence import Upload
from app.timeutil import utcnow
from tests.test_claims import png
from tests.test_web_transcripts import sign_in

API = "/api/v1"


@pytest.fixture
def student_year(make, session):
    """A student with a certified record, a rejected one under appeal, a sign-up, a claim with a PNG
    and an issued transcript; another student with a record and a claim of their own."""
    w = make.world()
    me, other = w.students
    w.certified = make.participation(w.activity, me, status="certified", certifier=w.advisor, award="一等奖")
    last_week = make.activity(w.club, starts_at=utcnow() - timedelta(days=7), module="practice", title="暑期社会实践")
    w.rejected = make.participation(last_week, me)
    session.commit()
    participations.reject(session, w.advisor, w.rejected.id, "签到时间不符")
    upcoming = make.activity(w.club, starts_at=utcnow() + timedelta(days=7), capacity=30, title="秋季植树")
    w.sign_up = registrations.register(session, me, upcoming.id).registration
    w.photo = png((48, 32), (10, 160, 60))
    w.claim = claims.submit_claim(session, me, [Upload("../../etc/奖状.png", w.photo)], title="全国大学生英语竞赛",
                                  module="skills", level="national", occurred_on=date.today() - timedelta(days=20),
                                  hours="6", award="二等奖")
    w.appeal = appeals.open_appeal(session, me, participation_id=w.rejected.id, reason="我全程在场，有照片为证")
    session.commit()
    w.transcript = transcripts.issue_transcript(session, me, me.student_no)
    # The other student's: none of it may appear in mine.
    make.participation(w.activity, other, status="certified", certifier=w.advisor)
    claims.submit_claim(session, other, [Upload("other.png", png((20, 20), (1, 2, 3)))], title="别人的申报",
                        module="skills", level="school", occurred_on=date.today(), hours="2")
    session.commit()
    w.me = me
    return w


def _open(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


def _json(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name).decode("utf-8"))


def test_the_archive_holds_exactly_what_the_student_has(session, student_year):
    w = student_year
    filename, data = my_data.export_archive(session, w.me, w.me.student_no)
    session.commit()
    assert filename.startswith(f"my-data-{w.me.student_no}-") and filename.endswith(".zip")
    archive = _open(data)
    evidence_name = f"claims/{w.claim.id}/1-奖状.png"  # the device's folders are gone
    assert archive.namelist() == [
        "README.txt", "profile.json", "records.json", "records.csv", "registrations.json", "claims.json",
        evidence_name, "appeals.json", "notifications.json", "transcripts.json",
        f"transcripts/{w.transcript.serial}.pdf",
    ]

    profile = _json(archive, "profile.json")
    assert profile["name"] == w.me.display_name and profile["student_no"] == w.me.student_no
    assert profile["unit"] == {"code": w.unit.code, "name": w.unit.name}
    assert [r["role"] for r in profile["roles"]] == ["student"] and profile["created_at"]

    records = _json(archive, "records.json")
    assert [r["id"] for r in records] == [w.certified.id, w.rejected.id]
    certified, rejected = records
    assert certified["status"] == "certified" and certified["award"] == "一等奖"
    assert certified["club"] == w.club.name and certified["module"] == "volunteering"
    assert certified["certified_by"] == w.advisor.display_name and certified["certified_at"]
    assert certified["hours"] == "4.0" and certified["activity"]["title"] == w.activity.title
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "签到时间不符"

    table = archive.read("records.csv").decode("utf-8")
    assert table.startswith("\ufeff")  # Excel reads the Chinese
    rows = list(csv.reader(io.StringIO(table.lstrip("\ufeff"))))
    assert rows[0][:3] == ["记录编号", "活动", "社团"] and len(rows) == 3
    assert rows[2][-1] == "签到时间不符" and rows[1][1] == w.activity.title

    [sign_up] = _json(archive, "registrations.json")
    assert sign_up["id"] == w.sign_up.id and sign_up["status"] == "registered"
    assert sign_up["activity"]["title"] == "秋季植树"

    [claim] = _json(archive, "claims.json")
    assert claim["id"] == w.claim.id and claim["title"] == "全国大学生英语竞赛" and claim["status"] == "submitted"
    assert claim["files"][0]["path"] == evidence_name and claim["files"][0]["media_type"] == "image/png"
    assert archive.read(evidence_name) == w.photo

    [appeal] = _json(archive, "appeals.json")
    assert appeal["id"] == w.appeal.id and appeal["status"] == "open"
    assert appeal["about"] == {"type": "participation", "id": w.rejected.id, "title": "暑期社会实践"}

    kinds = [n["kind"] for n in _json(archive, "notifications.json")]
    assert kinds == ["record.rejected", "registration.confirmed"]
    assert all(n["title"] for n in _json(archive, "notifications.json"))

    [transcript] = _json(archive, "transcripts.json")
    assert transcript["serial"] == w.transcript.serial and transcript["status"] == "valid"
    assert archive.read(f"transcripts/{w.transcript.serial}.pdf") == w.transcript.pdf

    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert "别人的申报".encode() not in everything and w.students[1].student_no.encode() not in everything

    readme = archive.read("README.txt").decode("utf-8")
    assert "profile.json" in readme and "transcripts/" in readme
    assert "个人信息" in readme or "全部数据" in readme  # the Chinese half, from the catalog
    assert "every participation record" in readme  # the English half

    event = session.execute(select(AuditEvent).where(AuditEvent.action == "student.export")).scalar_one()
    assert event.actor_id == w.me.id and event.object_type == "user" and event.object_id == str(w.me.id)
    assert event.data["files"] == 11 and event.data["bytes"] == len(data)


def test_a_student_with_nothing_gets_the_files_empty(session, make):
    student = make.student()
    _name, data = my_data.export_archive(session, student, student.student_no)
    archive = _open(data)
    assert archive.namelist() == ["README.txt", "profile.json", "records.json", "records.csv",
                                  "registrations.json", "claims.json", "appeals.json", "notifications.json",
                                  "transcripts.json"]
    assert _json(archive, "records.json") == [] and _json(archive, "transcripts.json") == []


def test_an_evidence_file_lost_from_disk_is_listed_but_not_in_the_archive(session, student_year):
    w = student_year
    evidence.path_of(w.claim.files[0].sha256).unlink()
    _name, data = my_data.export_archive(session, w.me, w.me.student_no)
    archive = _open(data)
    [claim] = _json(archive, "claims.json")
    assert claim["files"][0]["path"] is None and claim["files"][0]["sha256"] == w.claim.files[0].sha256
    assert not any(name.startswith("claims/") for name in archive.namelist())


def test_only_the_student_and_the_admin_export(session, make, student_year):
    w = student_year
    college = make.organizer(unit=w.unit)
    college.scope_unit_id = w.unit.id  # the student is in their scope: they see records, not this
    session.commit()
    for who in (w.students[1], w.leader, w.advisor, college):
        with pytest.raises(Forbidden):
            my_data.export_archive(session, who, w.me.student_no)
    # A number that is nobody's: refused like any other for a student, 404 for the admin.
    with pytest.raises(Forbidden):
        my_data.export_archive(session, w.students[1], "1999000000")
    with pytest.raises(NotFound):
        my_data.export_archive(session, w.admin, "1999000000")
    _name, data = my_data.export_archive(session, w.admin, w.me.student_no)
    assert "profile.json" in _open(data).namelist()


def test_the_api_answers_a_zip_to_the_student_and_the_admin_only(client, session, make, student_year):
    w = student_year
    url = f"{API}/students/{w.me.student_no}/export"
    for who in (w.me, w.admin):
        answer = client.get(url, headers=make.token(who))
        assert answer.status_code == 200, answer.get_json()
        assert answer.mimetype == "application/zip"
        assert answer.headers["Content-Disposition"].startswith("attachment; filename=\"my-data-")
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert "records.json" in _open(answer.data).namelist()
    for who in (w.students[1], w.leader, w.advisor):
        answer = client.get(url, headers=make.token(who))
        assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    answer = client.get(url)
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"
    session.expire_all()
    exports = session.execute(select(AuditEvent).where(AuditEvent.action == "student.export")).scalars().all()
    assert [e.actor_id for e in exports] == [w.me.id, w.admin.id]  # the refused ones left nothing


def test_the_home_page_links_the_download_and_it_works_when_signed_in(client, session, student_year):
    w = student_year
    assert client.get("/me/data.zip").status_code == 302  # to the sign-in
    sign_in(client, w.me)
    html = client.get("/me").get_data(as_text=True)
    assert "下载我的全部数据" in html and 'href="/me/data.zip"' in html
    answer = client.get("/me/data.zip")
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    names = _open(answer.data).namelist()
    assert f"transcripts/{w.transcript.serial}.pdf" in names and f"claims/{w.claim.id}/1-奖状.png" in names
    client.post("/logout")
    sign_in(client, w.advisor)
    assert client.get("/me/data.zip").status_code == 403
