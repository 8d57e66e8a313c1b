"""On-site check-in as it happens in a lecture hall: the leader's screen on a 1920×1080
projector shows the QR code; a student's phone (390×844) scans it — the code is decoded from a
screenshot of that screen, by zxing-cpp and by OpenCV — signs in, confirms, and is checked in;
the screen's count and the leader's list show the record.

Screenshots: tests/e2e/artifacts/check_in/{screen,phone-confirm,phone-done,screen-after}.png.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from app import create_app
from app.extensions import db
from tests.e2e.conftest import ARTIFACTS, PHONE, LiveServer
from tests.factories import PASSWORD, Factory

PROJECTOR = {"width": 1920, "height": 1080}
SHOTS = ARTIFACTS / "check_in"


@pytest.fixture(scope="module")
def hall():
    """A served school with a leader's activity under way and a student who has come to it."""
    server = LiveServer.new("checkin", CHECK_IN_PERIOD_S="5")
    server.flask("db", "upgrade")
    server.flask("keys", "generate")
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "SECRET_KEY": server.env["SECRET_KEY"],
                      "PASSWORD_HASH_FAST": True})
    with app.app_context():
        from app.timeutil import utcnow

        make = Factory(db.session)
        unit = make.unit()
        leader, student = make.leader(unit=unit, name="李晓雨"), make.student(unit=unit, name="张伟")
        club = make.club(advisors=[make.organizer(unit=unit)], leaders=[leader], unit=unit)
        activity = make.activity(club, starts_at=utcnow() - timedelta(minutes=20), title="人工智能前沿讲座")
        facts = {"leader": leader.username, "student": student.username, "student_name": student.display_name,
                 "activity": activity.id}
        db.session.remove()
        db.engine.dispose()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with server.serving():
        yield server, facts


def _sign_in(page, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")


def _decode(path) -> tuple[str, str]:
    """The QR code's text as zxing-cpp and as OpenCV read it from the screenshot."""
    image = Image.open(path).convert("RGB")
    found = zxingcpp.read_barcodes(image)
    assert found, "zxing-cpp found no code on the screen"
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(np.array(image), cv2.COLOR_RGB2BGR))
    return found[0].text, text


def test_student_phone_scans_the_projected_code_and_is_checked_in(hall, new_page):
    server, facts = hall
    screen = new_page(viewport=PROJECTOR, base_url=server.url)
    screen.goto("/login")
    _sign_in(screen, facts["leader"])
    screen.wait_for_url("**/leader")
    screen.goto(f"/activities/{facts['activity']}/check-in/screen")
    assert screen.locator("h1").inner_text() == "人工智能前沿讲座"
    screen.screenshot(path=str(SHOTS / "screen-full.png"), full_page=True)
    box = screen.locator("#venue-qr").bounding_box()
    assert box["height"] >= 500, f"the code is {box['height']:.0f} px tall: too small for the back of a room"
    shot = SHOTS / "screen.png"
    screen.screenshot(path=str(shot))
    by_zxing, by_opencv = _decode(shot)
    assert by_zxing == by_opencv, (by_zxing, by_opencv)
    link = urlsplit(by_zxing)
    assert f"{link.scheme}://{link.netloc}" == server.url and link.path == f"/c/{facts['activity']}"

    phone = new_page(viewport=PHONE, base_url=server.url, is_mobile=True, has_touch=True)
    phone.goto(by_zxing)
    phone.wait_for_url("**/login**")  # the camera opened the link: sign in first, then back
    _sign_in(phone, facts["student"])
    phone.wait_for_url(f"**/c/{facts['activity']}?**")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(SHOTS / "phone-confirm.png"), full_page=True)
    phone.locator(f"form[action='/c/{facts['activity']}'] button[type=submit]").click()
    phone.wait_for_selector(".flash.success")
    assert "签到" in phone.locator("h1").inner_text()
    phone.screenshot(path=str(SHOTS / "phone-done.png"), full_page=True)

    # The screen fetches the next code every period, and with it who has come.
    expect(screen.locator("#venue-count")).to_have_text("1", timeout=20000)  # (the CSP forbids eval)
    assert facts["student_name"] in screen.locator("#venue-latest").inner_text()
    screen.screenshot(path=str(SHOTS / "screen-after.png"))
    screen.goto(f"/activities/{facts['activity']}/participants")
    assert facts["student_name"] in screen.content()


def test_a_photo_of_the_code_sent_on_is_refused_once_it_has_changed(hall, new_page):
    server, facts = hall
    screen = new_page(viewport=PROJECTOR, base_url=server.url)
    screen.goto("/login")
    _sign_in(screen, facts["leader"])
    screen.wait_for_url("**/leader")
    screen.goto(f"/activities/{facts['activity']}/check-in/screen?d=out")
    shot = SHOTS / "screen-out.png"
    screen.screenshot(path=str(shot))
    photo, _ = _decode(shot)
    screen.wait_for_timeout(11000)  # two periods of 5 s: the photo's code is no longer accepted
    phone = new_page(viewport=PHONE, base_url=server.url, is_mobile=True, has_touch=True)
    phone.goto(photo)
    _sign_in(phone, facts["student"])
    phone.wait_for_url(f"**/c/{facts['activity']}?**")
    phone.locator(f"form[action='/c/{facts['activity']}'] button[type=submit]").click()
    phone.wait_for_selector(".flash.error")
    assert "过期" in " ".join(phone.locator(".flash.error").all_inner_texts())
    assert phone.locator(f"form[action='/c/{facts['activity']}']").count() == 0  # it asks to scan again
    phone.screenshot(path=str(SHOTS / "phone-expired.png"), full_page=True)
