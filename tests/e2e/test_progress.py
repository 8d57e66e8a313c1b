"""A student's progress against the credit rules on a phone (390 × 844, Chromium, Chinese): the
verdict first, a bar per module with the hours still to go, the yearly grades; and the office's
list of who is short, read on a wide screen."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, ROOT, LiveServer, no_horizontal_scroll, shot
from tests.factories import PASSWORD

DESKTOP = {"width": 1280, "height": 900}


def seed() -> None:
    """A 2023 class of two students under rules of 20 h (volunteering 4–10 h); one is 7 h short."""
    from datetime import UTC, datetime

    from app import create_app
    from app.extensions import db
    from app.services import credit_rules
    from tests.factories import Factory

    app = create_app()
    with app.app_context():
        make = Factory(db.session)
        unit = make.unit(code="HIS", name="历史学院")
        klass = make.school_class(unit, cohort=2023, name="历史2301班")
        advisor = make.organizer(unit=unit, username="his.advisor", name="钱老师")
        club = make.club(advisors=[advisor], leaders=[make.leader(unit=unit)], unit=unit, name="史学社")
        short = make.student(school_class=klass, username="qin.fang", name="秦芳")
        done = make.student(school_class=klass, username="xu.lei", name="许磊")
        admin = make.admin(username="his.office", name="校团委 林老师")
        at = datetime(2023, 10, 12, 2, tzinfo=UTC)
        for student, plan in ((short, [("volunteering", "6"), ("volunteering", "6"), ("ideology", "3")]),
                              (done, [("volunteering", "8"), ("ideology", "8"), ("practice", "6")])):
            for module, hours in plan:
                activity = make.activity(club, module=module, hours=hours, starts_at=at, status="completed")
                make.participation(activity, student, status="certified", certifier=advisor)
        credit_rules.set_rules(db.session, admin, 2023, {
            "total_min_hours": 20, "modules": {"volunteering": {"min_hours": 4, "max_hours": 10},
                                               "ideology": {"min_hours": 4}},
            "annual": {"pass_hours": 6, "excellent_hours": 12}, "years_required": 1})
        db.session.commit()
        print(json.dumps({"short": short.student_no, "done": done.student_no}))


@pytest.fixture(scope="module")
def server():
    server = LiveServer.new("progress")
    server.flask("db", "upgrade")
    made = subprocess.run([sys.executable, "-c", "from tests.e2e.test_progress import seed; seed()"],
                          env=server.env, cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    server.numbers = json.loads(made.stdout.strip().splitlines()[-1])
    with server.serving():
        yield server


def _signed_in(browser, server, username: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    return context, page


def test_a_student_reads_how_far_they_are_on_a_phone(browser, server):
    context, page = _signed_in(browser, server, "qin.fang", PHONE)
    try:
        page.get_by_role("link", name="我的进度").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/me/progress")
        verdict = page.locator(".progress-verdict")
        # 12 h of volunteering counts 10 (the cap), ideology 3: 13 of 20 counted
        expect(verdict).to_contain_text("还差 7.0 学时")
        expect(verdict).to_contain_text("2023 v1")
        ideology = page.locator(".progress-modules li", has_text="思想成长")
        expect(ideology).to_contain_text("还差 1.0 学时")
        volunteering = page.locator(".progress-modules li", has_text="志愿公益")
        expect(volunteering).to_contain_text("最多计 10.0 学时")
        expect(volunteering).to_contain_text("已认证 12.0 学时")
        # the bars say the same as the words: ideology 3 of 4 is three quarters full
        track = ideology.locator(".bar-track").bounding_box()
        fill = ideology.locator(".bar-fill").bounding_box()
        assert abs(fill["width"] / track["width"] - 0.75) < 0.02
        assert track["width"] >= PHONE["width"] * 0.8  # a bar across the phone, not a thumbnail
        expect(page.locator("table", has_text="2023-2024")).to_contain_text("优秀")  # 15 h in the year
        assert no_horizontal_scroll(page)
        shot(page, "progress-phone")
    finally:
        context.close()


def test_the_office_lists_who_is_short_on_a_wide_screen(browser, server):
    context, page = _signed_in(browser, server, "his.office", DESKTOP)
    try:
        page.goto("/reports/requirements?cohort=2023&met=no")
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(server.numbers["short"])
        expect(rows.first).to_contain_text("7.0")
        expect(page.locator(".stat").first).to_contain_text("1 / 2")
        shot(page, "requirements-desktop")
        page.set_viewport_size(PHONE)
        page.reload()
        assert no_horizontal_scroll(page)
        shot(page, "requirements-phone")
    finally:
        context.close()
