"""Pages: plan an activity, its detail page and lifecycle, and the permission rules."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from app.models import Activity, ActivityStatus
from tests.factories import PASSWORD


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def plan(**overrides):
    values = {
        "title": "敬老院志愿服务", "module": "volunteering", "level": "college",
        "starts_at": "2026-10-20T09:00", "ends_at": "2026-10-20T12:00",
        "location": "阳光敬老院", "hours": "3", "capacity": "30",
        "description": "陪伴老人", "objectives": "服务社区", "budget": "500",
        "partners": "阳光敬老院\n街道办事处\n",
    }
    values.update(overrides)
    return values


def test_leader_plans_activity_in_school_time(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    r = client.get(f"/clubs/{w.club.id}/activities/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for name in ("title", "module", "level", "starts_at", "ends_at", "location", "hours",
                 "capacity", "description", "objectives", "budget", "partners"):
        assert f'<label for="{name}">' in html, name
    assert 'type="datetime-local"' in html
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=plan())
    assert r.status_code == 302
    activity = session.query(Activity).filter_by(title="敬老院志愿服务").one()
    assert r.headers["Location"].endswith(f"/activities/{activity.id}")
    assert activity.status == "draft" and activity.term == "2026-2027-1"
    assert activity.starts_at.isoformat() == "2026-10-20T01:00:00+00:00"  # 09:00 in Shanghai
    assert activity.partners == ["阳光敬老院", "街道办事处"] and activity.capacity == 30
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "2026-10-20 09:00" in html and "提交审批" in html


def test_resubmitting_the_same_create_form_saves_once(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    data = plan(nonce="same-form-token-1")
    first = client.post(f"/clubs/{w.club.id}/activities/new", data=data)
    again = client.post(f"/clubs/{w.club.id}/activities/new", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert session.query(Activity).filter_by(title="敬老院志愿服务").count() == 1


@pytest.mark.parametrize("overrides, fields", [
    ({k: "" for k in plan()},
     ["title", "module", "level", "starts_at", "ends_at", "location", "hours"]),
    ({"title": "长" * 20000}, ["title"]),
    ({"hours": "-3"}, ["hours"]),
    ({"hours": "abc", "capacity": "many", "budget": "-1"}, ["hours", "capacity", "budget"]),
    ({"capacity": "0", "partners": "x" * 300}, ["capacity", "partners"]),
    ({"ends_at": "2026-10-20T08:00"}, ["ends_at"]),
    ({"starts_at": "tomorrow"}, ["starts_at"]),
    ({"module": "astrology", "level": "galactic"}, ["module", "level"]),
])
def test_bad_plan_shows_messages_next_to_fields_and_stores_nothing(
    client, make, session, overrides, fields
):
    w = make.world()
    before = session.query(Activity).count()
    sign_in(client, w.leader)
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=plan(**overrides))
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[:500]
    assert 'class="flash error" role="alert"' in html  # said once at the top, too
    for name in fields:
        assert f'id="{name}-msg" class="field-error"' in html, name
        assert f'aria-invalid="true" aria-describedby="{name}-msg"' in html or \
            f'aria-describedby="{name}-msg" aria-invalid="true"' in html, name
    assert session.query(Activity).count() == before


def test_bad_plan_keeps_what_was_typed(client, make):
    w = make.world()
    sign_in(client, w.leader)
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=plan(hours="-1"))
    html = r.get_data(as_text=True)
    assert 'value="敬老院志愿服务"' in html and 'value="2026-10-20T09:00"' in html
    assert "须大于 0 且不超过 200" in html


def test_unknown_choice_reads_as_choose_from_the_list(client, make):
    """The service's "One of: a, b, c" becomes "choose from the list" next to a drop-down."""
    w = make.world()
    sign_in(client, w.leader)
    html = client.post(f"/clubs/{w.club.id}/activities/new",
                       data=plan(module="astrology")).get_data(as_text=True)
    assert '<small id="module-msg" class="field-error">请从列表中选择</small>' in html
    html = client.post(f"/clubs/{w.club.id}/activities/new?lang=en",
                       data=plan(module="astrology")).get_data(as_text=True)
    assert '<small id="module-msg" class="field-error">Choose one from the list</small>' in html


def test_leader_of_another_club_cannot_plan_or_edit(client, make, session):
    w = make.world()
    stranger = make.leader()
    make.club(leaders=[stranger])
    sign_in(client, stranger)
    assert client.get(f"/clubs/{w.club.id}/activities/new").status_code == 403
    r = client.post(f"/clubs/{w.club.id}/activities/new", data=plan())
    assert r.status_code == 403
    draft = make.activity(w.club, status="draft")
    assert client.get(f"/activities/{draft.id}/edit").status_code == 403
    assert client.post(f"/activities/{draft.id}/submit").status_code == 403
    assert session.query(Activity).filter_by(title="敬老院志愿服务").count() == 0
    session.refresh(draft)
    assert draft.status == "draft"


def test_edit_prefills_in_school_time_and_saves(client, make, session):
    w = make.world()
    draft = make.activity(w.club, status="draft", title="旧标题")
    sign_in(client, w.leader)
    html = client.get(f"/activities/{draft.id}/edit").get_data(as_text=True)
    assert 'value="旧标题"' in html and 'value="2026-10-10T09:00"' in html
    r = client.post(f"/activities/{draft.id}/edit", data=plan(title="新标题"))
    assert r.status_code == 302
    session.refresh(draft)
    assert draft.title == "新标题" and draft.location == "阳光敬老院"


def test_full_lifecycle_through_buttons(client, make, session):
    w = make.world()
    draft = make.activity(w.club, status="draft")
    sign_in(client, w.leader)
    html = client.get(f"/activities/{draft.id}").get_data(as_text=True)
    assert "提交审批" in html and ">批准</button>" not in html
    assert client.post(f"/activities/{draft.id}/submit").status_code == 302
    client.post("/logout")

    sign_in(client, w.advisor)
    html = client.get(f"/activities/{draft.id}").get_data(as_text=True)
    assert ">批准</button>" in html and "退回修改" in html and ">提交审批</button>" not in html
    # Return without a reason: the message sits next to the reason field, nothing changes.
    r = client.post(f"/activities/{draft.id}/return", data={"return-reason": "  "})
    assert r.status_code == 422 and 'id="return-reason-msg"' in r.get_data(as_text=True)
    session.refresh(draft)
    assert draft.status == "submitted"
    r = client.post(f"/activities/{draft.id}/return", data={"return-reason": "预算不清楚"})
    assert r.status_code == 302
    session.refresh(draft)
    assert draft.status == "draft"
    client.post("/logout")

    sign_in(client, w.leader)
    client.post(f"/activities/{draft.id}/submit")
    client.post("/logout")
    sign_in(client, w.advisor)
    r = client.post(f"/activities/{draft.id}/approve", follow_redirects=True)
    assert "已批准" in r.get_data(as_text=True)
    # A second click on a stale page explains itself instead of an error page.
    r = client.post(f"/activities/{draft.id}/approve", follow_redirects=True)
    assert r.status_code == 200 and "活动状态为「已批准」，不能批准" in r.get_data(as_text=True)
    client.post("/logout")

    sign_in(client, w.leader)
    r = client.post(f"/activities/{draft.id}/complete",
                    data={"complete-outcome": "服务老人 40 人次"})
    assert r.status_code == 302
    session.refresh(draft)
    assert draft.status == ActivityStatus.COMPLETED and draft.outcome == "服务老人 40 人次"
    html = client.get(f"/activities/{draft.id}").get_data(as_text=True)
    assert "服务老人 40 人次" in html and "已结项" in html


def test_cancel_needs_a_reason(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    r = client.post(f"/activities/{w.activity.id}/cancel", data={"cancel-reason": ""})
    assert r.status_code == 422 and "请说明原因" in r.get_data(as_text=True)
    session.refresh(w.activity)
    assert w.activity.status == "approved"
    r = client.post(f"/activities/{w.activity.id}/cancel", data={"cancel-reason": "天气原因"})
    assert r.status_code == 302
    session.refresh(w.activity)
    assert w.activity.status == "cancelled" and w.activity.cancel_reason == "天气原因"


def test_organizer_not_advising_cannot_approve(client, make, session):
    w = make.world()
    submitted = make.activity(w.club, status="submitted")
    outsider = make.organizer()
    sign_in(client, outsider)
    assert client.get(f"/activities/{submitted.id}").status_code == 403
    assert client.post(f"/activities/{submitted.id}/approve").status_code == 403
    r = client.post(f"/activities/{submitted.id}/return", data={"return-reason": "x"})
    assert r.status_code == 403
    session.refresh(submitted)
    assert submitted.status == "submitted"


def test_leader_cannot_approve_own_plan(client, make, session):
    w = make.world()
    submitted = make.activity(w.club, status="submitted")
    sign_in(client, w.leader)
    assert ">批准</button>" not in client.get(f"/activities/{submitted.id}").get_data(as_text=True)
    assert client.post(f"/activities/{submitted.id}/approve").status_code == 403
    session.refresh(submitted)
    assert submitted.status == "submitted"


def test_club_page_shows_people_and_activities(client, make):
    w = make.world()
    make.activity(w.club, status="draft", title="内部草稿")
    sign_in(client, w.students[0])
    html = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert w.advisor.display_name in html and w.leader.display_name in html
    assert w.activity.title in html and "内部草稿" not in html
    assert "策划新活动" not in html
    client.post("/logout")
    sign_in(client, w.leader)
    html = client.get(f"/clubs/{w.club.id}").get_data(as_text=True)
    assert "内部草稿" in html and "策划新活动" in html


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _page_text(html: str, institution: str) -> str:
    """The page without the language switcher (each language is named in itself) and the
    configured institution name: what is left is the page's own words and the data."""
    html = re.sub(r'<ul class="languages">.*?</ul>', "", html, flags=re.S)
    return html.replace(institution, "")


def test_activity_page_reads_in_one_language(client, make, app, session):
    """English with ?lang=en (no Chinese left outside the data); Chinese by default (none of
    the English words of the page). The data here is ASCII, so any CJK would be the page's."""
    unit = make.unit(name="School of Science")
    advisor = make.organizer(unit=unit, name="Han Mei")
    leader = make.leader(unit=unit, name="Li Lei")
    club = make.club(advisors=[advisor], leaders=[leader], unit=unit, name="Chess Club", category="Games")
    activity = make.activity(club, title="Beach cleanup", description="Pick up litter",
                             objectives="A clean beach", budget=Decimal("120"), partners=["Sea Watch"])
    activity.location = "North beach"
    session.commit()
    make.participation(activity, make.student(unit=unit, name="Lucy"), award="First prize")
    sign_in(client, leader)
    institution = app.config["INSTITUTION_NAME"]

    chinese = _page_text(client.get(f"/activities/{activity.id}").get_data(as_text=True), institution)
    assert 'lang="zh-CN"' in chinese
    for words in ("模块", "级别", "时间", "名额", "不限", "操作", "记录参与者", "参与记录", "学号", "姓名"):
        assert words in chinese, words
    for words in ("Module", "Level", "When", "Where", "Hours", "Capacity", "No limit", "Actions",
                  "Record participants", "Cancel the activity", "Complete with the outcome",
                  "Student no.", "Records", "Status", "Award", "My clubs", "Sign out"):
        assert words not in chinese, words

    english = _page_text(client.get(f"/activities/{activity.id}?lang=en").get_data(as_text=True), institution)
    assert 'lang="en"' in english
    for words in ("Module", "Level", "When", "Capacity", "No limit", "Actions", "Record participants",
                  "Student no.", "Beach cleanup", "First prize"):
        assert words in english, words
    assert not CJK.findall(english), sorted(set(CJK.findall(english)))
