"""The student's year on a phone (390 × 844, Chromium, Chinese), one step per test, in order:
browse the catalogue and sign up for the last place; a classmate joins the waiting line and
moves up when the first withdraws, and hears of it; check in at the venue by the code's link;
claim a certificate with a photo; an organizer certifies it beside the photo; the student sees
the notification and the hours.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, ROOT, LiveServer, no_horizontal_scroll, shot
from tests.factories import PASSWORD

S: dict = {}
TITLE_UPCOMING, TITLE_NOW = "校园马拉松志愿者招募", "图书馆志愿服务（今日）"


def seed() -> None:
    """Run in the server's environment: a college, its secretary, a club with a leader, two
    students, an activity next week with one place and one on now."""
    from app import create_app
    from app.extensions import db
    from app.timeutil import utcnow
    from tests.factories import Factory

    app = create_app()
    with app.app_context():
        make = Factory(db.session)
        unit = make.unit(code="LAW", name="法学院")
        secretary = make.organizer(unit=unit, username="law.tuanwei", name="吴书记")
        secretary.scope_unit_id = unit.id
        leader = make.leader(unit=unit, username="law.leader", name="郑会长")
        club = make.club(advisors=[make.organizer(unit=unit, username="law.advisor", name="冯老师")],
                         leaders=[leader], unit=unit, name="法律援助协会")
        make.student(unit=unit, username="he.jing", name="何静")
        make.student(unit=unit, username="lu.yang", name="陆洋")
        upcoming = make.activity(club, title=TITLE_UPCOMING, starts_at=utcnow() + timedelta(days=5), capacity=1)
        on_now = make.activity(club, title=TITLE_NOW, starts_at=utcnow() - timedelta(minutes=20), hours="2")
        db.session.commit()
        print(json.dumps({"upcoming": upcoming.id, "on_now": on_now.id}))


@pytest.fixture(scope="module")
def server():
    server = LiveServer.new("year")
    server.flask("db", "upgrade")
    server.flask("keys", "generate")
    made = subprocess.run([sys.executable, "-c", "from tests.e2e.test_student_year import seed; seed()"],
                          env=server.env, cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    S.update(json.loads(made.stdout.strip().splitlines()[-1]))
    with server.serving():
        yield server


@pytest.fixture(scope="module")
def phones(new_page_module, server):
    pages: dict[str, Page] = {}

    def phone(username: str) -> Page:
        if username not in pages:
            page = new_page_module(PHONE, base_url=server.url)
            page.set_default_timeout(10_000)
            page.goto("/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_load_state()
            pages[username] = page
        return pages[username]

    return phone


@pytest.fixture(scope="module")
def new_page_module(browser):
    contexts = []

    def make(viewport, **kw):
        context = browser.new_context(viewport=viewport, locale="zh-CN", **kw)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def need(*keys: str) -> None:
    if missing := [k for k in keys if k not in S]:
        pytest.skip(f"an earlier step did not finish: {missing}")


def unread(page: Page) -> int:
    badge = page.locator("header .badge.count")
    return int(badge.inner_text()) if badge.count() else 0


def test_1_student_browses_the_catalogue_and_takes_the_last_place(phones):
    page = phones("he.jing")
    page.goto("/activities")
    card = page.locator("ul.catalogue li", has_text=TITLE_UPCOMING)
    expect(card).to_contain_text("剩 1 个名额")
    expect(page.locator("ul.catalogue")).not_to_contain_text("上周")  # nothing that has ended
    assert no_horizontal_scroll(page)
    button = card.get_by_role("button", name="报名")
    box = button.bounding_box()
    assert box["width"] >= PHONE["width"] * 0.7 and box["height"] >= 40  # a thumb's target
    shot(page, "year-1-catalogue-phone")
    button.click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_contain_text("报名成功")
    expect(page.locator("ul.catalogue li", has_text=TITLE_UPCOMING)).to_contain_text("已报名")
    S["signed_up"] = True


def test_2_a_classmate_waits_in_line_and_moves_up_when_the_first_withdraws(phones):
    need("signed_up")
    second = phones("lu.yang")
    second.goto("/activities")
    second.locator("ul.catalogue li", has_text=TITLE_UPCOMING).get_by_role("button", name="加入候补").click()
    second.wait_for_load_state()
    expect(second.locator(".flash.info")).to_contain_text("候补第 1 位")
    first = phones("he.jing")
    first.goto(f"/activities/{S['upcoming']}")
    first.once("dialog", lambda dialog: dialog.accept())
    first.get_by_role("button", name="取消报名").click()
    first.wait_for_load_state()
    expect(first.locator(".flash.success")).to_contain_text("已取消报名")
    second.goto(f"/activities/{S['upcoming']}")
    expect(second.locator("main")).to_contain_text("你已报名")
    assert unread(second) >= 1
    second.goto("/notifications")
    expect(second.locator("ul.notifications")).to_contain_text(TITLE_UPCOMING)
    shot(second, "year-2-moved-up-phone")
    S["moved_up"] = True


def _venue_link(server) -> str:
    def call(path: str, body: dict | None = None, token: str | None = None) -> dict:
        request = urllib.request.Request(server.url + path, data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    token = call("/api/v1/auth/token", {"username": "law.leader", "password": PASSWORD})["token"]
    return call(f"/api/v1/activities/{S['on_now']}/check-in-code", token=token)["url"]


def test_3_student_checks_in_by_the_venue_code(phones, server):
    page = phones("he.jing")
    page.goto(_venue_link(server))  # what the phone's camera opens from the screen's QR code
    page.get_by_role("button", name="确认签到").click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_be_visible()
    page.goto("/me")
    expect(page.locator("main")).to_contain_text(TITLE_NOW)
    S["checked_in"] = True


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(7)
    image = Image.new("RGB", (1600, 1200), (240, 236, 225))
    pen = ImageDraw.Draw(image)
    for _ in range(400):  # some texture, as a photo of paper has
        x, y = rng.randrange(1600), rng.randrange(1200)
        pen.point((x, y), fill=(rng.randrange(200, 240),) * 3)
    pen.rectangle((200, 150, 1400, 1050), outline=(160, 30, 30), width=12)
    pen.text((300, 300), "CERTIFICATE  National Moot Court Competition", fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_4_student_claims_a_certificate_with_a_photo(phones):
    page = phones("he.jing")
    page.goto("/claims/new")
    assert no_horizontal_scroll(page)
    page.fill("#title", "全国大学生模拟法庭竞赛")
    page.select_option("#module", "innovation")
    page.select_option("#level", "national")
    page.fill("#occurred_on", "2026-11-08")
    page.fill("#hours", "6")
    page.fill("#award", "最佳辩手")
    page.set_input_files("#files", files=[{"name": "IMG_3108.JPG", "mimeType": "image/jpeg", "buffer": _photo()}])
    shot(page, "year-4-claim-form-phone")
    page.get_by_role("button", name="提交申报").click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_contain_text("申报已提交")
    photo = page.locator(".evidence img")
    expect(photo).to_have_count(1)
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 1600  # the photo itself, shown
    S["claim_url"] = page.url


def test_5_the_college_secretary_certifies_it_beside_the_photo(phones):
    need("claim_url")
    page = phones("law.tuanwei")
    page.goto("/claims")
    page.get_by_role("link", name="全国大学生模拟法庭竞赛").click()
    page.wait_for_load_state()
    expect(page.locator(".evidence img")).to_have_count(1)
    shot(page, "year-5-review-phone")
    page.get_by_role("button", name="认证 6.0 学时").click()
    page.wait_for_load_state()
    expect(page.locator(".flash.success")).to_contain_text("申报已认证")
    S["certified"] = True


def test_6_the_student_sees_the_notification_and_the_hours(phones):
    need("certified")
    page = phones("he.jing")
    page.goto("/me")
    assert unread(page) >= 1
    expect(page.locator("header")).to_contain_text("通知")
    page.goto("/notifications")
    expect(page.locator("ul.notifications li.unread").first).to_contain_text("申报")
    shot(page, "year-6-notifications-phone")
    page.goto("/me")
    expect(page.locator("main")).to_contain_text("全国大学生模拟法庭竞赛")
    expect(page.locator(".cards .stat").first).to_contain_text("6.0")
