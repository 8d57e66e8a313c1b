"""The student's year on the site: the catalogue, signing up, a claim with a photo reviewed beside
its evidence, and an appeal — through the pages, as a browser would post them."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Appeal, Claim, Registration
from app.services import participations
from app.timeutil import to_local, utcnow
from tests.test_claims import jpeg, png
from tests.test_web_transcripts import sign_in


@pytest.fixture
def w(make, session):
    w = make.world()
    w.upcoming = make.activity(w.club, title="校园马拉松志愿者", starts_at=utcnow() + timedelta(days=3), capacity=1)
    w.past = make.activity(w.club, title="上月的讲座", starts_at=utcnow() - timedelta(days=30))
    w.college = make.organizer(unit=w.unit)
    w.college.scope_unit_id = w.unit.id
    session.commit()
    return w


def test_catalogue_lists_upcoming_activities_with_places_and_signs_up(client, session, w):
    sign_in(client, w.students[0])
    page = client.get("/activities").get_data(as_text=True)
    assert "校园马拉松志愿者" in page and "上月的讲座" not in page  # upcoming only, by default
    assert "剩 1 个名额" in page
    answer = client.post(f"/activities/{w.upcoming.id}/sign-up", data={"next": "/activities"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/activities")
    page = client.get("/activities").get_data(as_text=True)
    assert "已报名" in page
    client.post("/logout")
    sign_in(client, w.students[1])
    client.post(f"/activities/{w.upcoming.id}/sign-up")
    page = client.get(f"/activities/{w.upcoming.id}").get_data(as_text=True)
    assert "候补第 1 位" in page
    statuses = session.execute(select(Registration.status).order_by(Registration.id)).scalars().all()
    assert statuses == ["registered", "waitlisted"]


def test_catalogue_filters_by_module_and_date(client, make, session, w):
    make.activity(w.club, title="创新创业沙龙", module="innovation", starts_at=utcnow() + timedelta(days=40))
    session.commit()
    sign_in(client, w.students[0])
    page = client.get("/activities?module=innovation").get_data(as_text=True)
    assert "创新创业沙龙" in page and "校园马拉松志愿者" not in page
    day = to_local(w.past.starts_at).date().isoformat()
    page = client.get(f"/activities?date_from={day}&date_to={day}").get_data(as_text=True)
    assert "上月的讲座" in page and "校园马拉松志愿者" not in page


def test_leader_sees_who_signed_up(client, w):
    sign_in(client, w.students[0])
    client.post(f"/activities/{w.upcoming.id}/sign-up")
    client.post("/logout")
    sign_in(client, w.leader)
    page = client.get(f"/activities/{w.upcoming.id}").get_data(as_text=True)
    assert "报名" in page and w.students[0].student_no in page


def test_claim_with_a_photo_is_reviewed_beside_its_evidence(client, session, w):
    sign_in(client, w.students[0])
    form = client.get("/claims/new").get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', form).group(1)
    answer = client.post("/claims/new", data={
        "nonce": nonce, "title": "英语六级", "module": "skills", "level": "national",
        "occurred_on": to_local(utcnow()).date().isoformat(), "hours": "4", "award": "",
        "files": [(io.BytesIO(jpeg()), "IMG_2031.JPG"), (io.BytesIO(png()), "score.png")],
    }, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    claim = session.execute(select(Claim)).scalar_one()
    client.post("/logout")
    sign_in(client, w.college)
    queue = client.get("/claims").get_data(as_text=True)
    assert "英语六级" in queue
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert page.count(f'src="/claims/{claim.id}/files/') == 2
    photo = client.get(f"/claims/{claim.id}/files/1")
    assert photo.mimetype == "image/jpeg" and photo.headers["X-Content-Type-Options"] == "nosniff"
    done = client.post(f"/claims/{claim.id}/certify", data={"certify-note": "成绩单核验"})
    assert done.status_code == 302
    session.refresh(claim)
    assert claim.status == "certified" and claim.reviewed_by_id == w.college.id


def test_claim_form_with_an_executable_keeps_nothing_and_says_why(client, session, w):
    sign_in(client, w.students[0])
    answer = client.post("/claims/new", data={
        "title": "奖状", "module": "skills", "level": "school", "occurred_on": "2026-09-01", "hours": "2",
        "files": [(io.BytesIO(b"MZ\x90\x00" + bytes(2000)), "award.png")],
    }, content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "award.png 不是 PDF、JPEG 或 PNG 文件" in answer.get_data(as_text=True)
    assert session.execute(select(Claim)).first() is None


def test_a_rejected_record_is_appealed_from_the_student_home(client, make, session, w):
    record = make.participation(w.past, w.students[0])
    session.commit()
    participations.reject(session, w.advisor, record.id, "未见签到")
    session.commit()
    sign_in(client, w.students[0])
    home = client.get("/me").get_data(as_text=True)
    assert f"/appeals/new?participation_id={record.id}" in home
    form = client.get(f"/appeals/new?participation_id={record.id}").get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', form).group(1)
    sent = client.post("/appeals/new", data={"nonce": nonce, "participation_id": record.id,
                                             "reason": "我有现场照片"})
    assert sent.status_code == 302
    appeal = session.execute(select(Appeal)).scalar_one()
    client.post("/logout")
    sign_in(client, w.advisor)
    assert "上月的讲座" in client.get("/appeals").get_data(as_text=True)
    done = client.post(f"/appeals/{appeal.id}/resolve", data={"resolve-decision": "upheld",
                                                              "resolve-reason": "照片可证"})
    assert done.status_code == 302
    session.refresh(appeal)
    assert appeal.status == "upheld" and appeal.result_participation_id
