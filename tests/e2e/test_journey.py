"""Every role's journey in a real browser, one step per test, in order.

The office sets up a unit, people and a club; the leader plans an activity and the organizer
approves it; the leader records who took part (form and CSV); the organizer signs the records
off; the student issues and downloads the transcript; an employer scans the QR code from the
rendered PDF, checks the file, and sees it revoked after the office revokes it. Then bad input
in the browser; then each rule of the certified record, tried as a hurried leader, a student
with a made-up code and an organizer would: no records before approval, hours above the
activity's only with a reason, capacity, a forged check-in code, no sign-off before the end, the
late entry's window, a withdrawn record amending the transcript an employer holds, a suspended
club read-only. Last, checks gathered along the way: every form field has a label, no page
answered with a server error or a script error, every message by a field speaks Chinese first.

The steps share what they made through `S`; a step whose predecessor failed is skipped, so a
failure names the step. Screenshots go to tests/e2e/artifacts/ (`readme-*` ones feed the
README).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from credentials.links import printed_base
from tests.e2e.conftest import PASSWORD, PHONE, no_horizontal_scroll, shot
from tests.pdfread import scan_qr

S: dict = {}  # what the steps share: ids, the serial, the PDF
SEEN: dict = {"unlabelled": {}, "server_errors": [], "script_errors": [], "messages": {}}

UNIT_CODE, UNIT_NAME = "CHEM", "化学与分子工程学院"
ORGANIZER = {"username": "wang.laoshi", "display_name": "王晓梅", "role": "organizer"}
LEADER = {"username": "li.zuzhang", "display_name": "李明轩", "role": "leader", "student_no": "2026100001"}
STUDENTS = [
    {"username": "zhao.xiaoyu", "display_name": "赵小雨", "role": "student", "student_no": "2026100011"},
    {"username": "qian.duoduo", "display_name": "钱多多", "role": "student", "student_no": "2026100012"},
    {"username": "sun.yue", "display_name": "孙悦", "role": "student", "student_no": "2026100013"},
]
STUDENT, BY_CSV, REJECTED = STUDENTS  # recorded by form · by CSV · by CSV, then rejected
SCHOOL_ZONE = ZoneInfo("Asia/Shanghai")  # the app's default TIMEZONE, which the live server uses
CLUB = "青年志愿者协会"
# the activity took place ten days ago: past the late-entry window (LATE_ENTRY_DAYS, 7)
DAY = (date.today() - timedelta(days=10)).isoformat()
PLAN = {
    "title": "阳光敬老院志愿服务", "location": "阳光敬老院（东区）", "hours": "3", "capacity": "30",
    "description": "陪伴老人聊天、整理活动室", "objectives": "服务社区，培养志愿精神",
    "budget": "500", "partners": "阳光敬老院\n东区街道办事处",
}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

# Every input/select/textarea a person fills must be named by a label or aria-label.
UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea')).filter(el => {
  const type = (el.getAttribute('type') || '').toLowerCase();
  if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) return false;
  const named = Array.from(el.labels || []).some(l => l.textContent.trim());
  return !(named || (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby'));
}).map(el => el.outerHTML.slice(0, 160))"""


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def person(new_page, live_server):
    """A fresh browser for one person, watching for server errors and script errors."""

    def make(viewport: dict | None = None) -> Page:
        page = new_page(viewport, base_url=live_server.url)
        page.set_default_timeout(10_000)

        def on_response(response):
            if response.status >= 500:
                SEEN["server_errors"].append(f"{response.status} {response.request.method} {response.url}")

        page.on("response", on_response)
        page.on("pageerror", lambda error: SEEN["script_errors"].append(f"{page.url}: {error}"))
        return page

    return make


def need(*steps: str) -> None:
    missing = [step for step in steps if step not in S]
    if missing:
        pytest.skip(f"an earlier step did not finish: {', '.join(missing)}")


def check_labels(page: Page) -> None:
    """Note every unlabelled field on the current page (asserted by a test at the end)."""
    bad = page.evaluate(UNLABELLED_JS)
    if bad:
        SEEN["unlabelled"][page.url.split("?")[0]] = bad


def sign_in(page: Page, username: str, lands_on: str) -> None:
    page.goto("/login")
    check_labels(page)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**{lands_on}")
    expect(page.locator(".flash.success")).to_contain_text("欢迎")


def submit(page: Page, button) -> int:
    """Click a submit button and return the HTTP status of the page it leads to."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None
    assert response.status < 500, f"{response.status} from {response.url}"
    return response.status


def flash(page: Page, kind: str = "success"):
    return page.locator(f".flashes .flash.{kind}")


def missing_messages(page: Page, *field_ids: str) -> list[str]:
    """The fields that lack a message next to them: marked aria-invalid, described by a
    visible .field-error in the same .field box. Looks once: the page has finished loading."""
    missing = []
    for field_id in field_ids:
        field = page.locator(f"#{field_id}")
        message = page.locator(f".field:has(#{field_id}) #{field_id}-msg.field-error")
        if not (field.get_attribute("aria-invalid") == "true"
                and field.get_attribute("aria-describedby") == f"{field_id}-msg"
                and message.count() == 1 and message.is_visible()):
            missing.append(field_id)
    for text in page.locator(".field-error").all_inner_texts():
        SEEN["messages"].setdefault(text.strip(), page.url.split("?")[0])
    return missing


def activity_count(page: Page) -> int:
    """Activities listed on the leader's home (one page of all their clubs' activities; the journey's
    leader leads one club, with fewer activities than a page holds)."""
    page.goto("/leader")
    return page.locator("#activities tbody tr").count()


def record_count(page: Page, activity_id: int | None = None) -> int:
    """Records listed on an activity's participants page (the journey's main one by default)."""
    page.goto(f"/activities/{activity_id or S['activity_id']}/participants")
    return page.locator("section:has(h2:has-text('已记录')) tbody tr").count()


def fill_plan(page: Page, **overrides) -> None:
    values = {**PLAN, "module": "volunteering", "level": "college",
              "starts_at": f"{DAY}T09:00", "ends_at": f"{DAY}T12:00", **overrides}
    for name in ("title", "location", "hours", "capacity", "description", "objectives", "budget",
                 "partners", "starts_at", "ends_at"):
        page.fill(f"#{name}", values[name])
    page.select_option("#module", values["module"])
    page.select_option("#level", values["level"])


def write(tmp_path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


# --------------------------------------------------------------------------- 1 · the office


def test_1_admin_signs_in_by_keyboard_and_sets_up_unit_people_and_club(person):
    page = person()
    page.goto("/login")
    check_labels(page)
    # Keyboard only: from the top of the page, Tab until the username field has the focus.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "username":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username", "Tab never reaches the username"
    page.keyboard.type("office")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin")
    expect(page.locator("h1")).to_contain_text("校团委总览")
    expect(flash(page)).to_contain_text("欢迎")
    check_labels(page)
    shot(page, "01a-admin-home-first-visit")

    page.goto("/admin/units")
    check_labels(page)
    page.fill("#code", UNIT_CODE)
    page.fill("#name", UNIT_NAME)
    submit(page, page.get_by_role("button", name="创建院系"))
    expect(flash(page)).to_contain_text(f"已创建院系「{UNIT_NAME}」")
    expect(page.locator("table")).to_contain_text(UNIT_NAME)
    shot(page, "01b-admin-unit-created")

    page.goto("/admin/people")
    check_labels(page)
    for who in (ORGANIZER, LEADER, *STUDENTS):
        page.fill("#display_name", who["display_name"])
        page.fill("#username", who["username"])
        page.select_option("#role", who["role"])
        page.fill("#student_no", who.get("student_no", ""))
        page.select_option("#unit_id", label=f"{UNIT_NAME}（{UNIT_CODE}）")
        page.fill("#password", PASSWORD)
        assert submit(page, page.get_by_role("button", name="创建用户")) == 200
        expect(flash(page)).to_contain_text(f"已创建用户 {who['username']}")
    expect(page.locator("table tbody tr")).to_have_count(6)  # the office + five people
    shot(page, "01c-admin-people-created")

    page.goto("/admin/clubs")
    check_labels(page)
    page.fill("#name", CLUB)
    page.fill("#category", "志愿公益")
    page.select_option("#unit_id", label=f"{UNIT_NAME}（{UNIT_CODE}）")
    page.fill("#founded_on", "2019-09-01")
    page.get_by_label(f"{ORGANIZER['display_name']}（{ORGANIZER['username']}）").check()
    page.get_by_label(f"{LEADER['display_name']}（{LEADER['student_no']}）").check()
    page.fill("#charter", "第一条 本会以服务社会、奉献爱心为宗旨。")
    submit(page, page.get_by_role("button", name="创建社团"))
    expect(flash(page)).to_contain_text(f"已创建社团「{CLUB}」")
    row = page.locator("tbody tr", has_text=CLUB)
    expect(row).to_contain_text(ORGANIZER["display_name"])
    expect(row).to_contain_text(LEADER["display_name"])
    S["club_url"] = row.get_by_role("link", name=CLUB).get_attribute("href")
    shot(page, "01d-admin-club-created")
    S["setup"] = True


# --------------------------------------------------------------------------- 2 · plan, approve


def test_2_leader_plans_and_submits_an_activity_organizer_approves(person):
    need("setup")
    leader = person()
    sign_in(leader, LEADER["username"], "/leader")
    expect(leader.locator(".empty")).to_contain_text("你负责的社团还没有活动")
    shot(leader, "02a-leader-home-empty")
    leader.get_by_role("button", name="+ 策划新活动").click()
    leader.wait_for_url("**/activities/new")
    check_labels(leader)
    fill_plan(leader)
    shot(leader, "02b-leader-plan-form")
    submit(leader, leader.get_by_role("button", name="保存草稿"))
    expect(flash(leader)).to_contain_text("活动已保存为草稿")
    S["activity_id"] = int(leader.url.rstrip("/").rsplit("/", 1)[1])
    check_labels(leader)  # the cancel form's reason field
    facts = leader.locator("dl.facts")
    for text in ("志愿公益", "院级", f"{DAY} 09:00", PLAN["location"], "3.0", "¥500.00",
                 "阳光敬老院、东区街道办事处"):
        expect(facts).to_contain_text(text)
    submit(leader, leader.get_by_role("button", name="提交审批"))
    expect(flash(leader)).to_contain_text("已提交审批")
    expect(leader.locator("h1 .badge")).to_contain_text("待审批")
    shot(leader, "02c-leader-activity-submitted")

    organizer = person()
    sign_in(organizer, ORGANIZER["username"], "/organizer")
    row = organizer.locator("tbody tr", has_text=PLAN["title"])
    expect(row).to_contain_text(CLUB)
    shot(organizer, "02d-organizer-approval-queue")
    submit(organizer, row.get_by_role("button", name="批准"))
    expect(flash(organizer)).to_contain_text("已批准")
    expect(organizer.locator("h1 .badge")).to_contain_text("已批准")
    shot(organizer, "02e-organizer-approved")
    S["approved"] = True


# --------------------------------------------------------------------------- 3 · who took part


def test_3_leader_records_by_form_then_csv_with_a_bad_row_then_fixed(person, tmp_path):
    need("approved")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    page.goto(f"/activities/{S['activity_id']}/participants")
    check_labels(page)
    expect(page.locator(".empty")).to_contain_text("还没有记录")
    page.fill("#student_no", STUDENT["student_no"])
    page.select_option("#role", "participant")
    submit(page, page.get_by_role("button", name="添加"))
    expect(flash(page)).to_contain_text(f"已记录 {STUDENT['student_no']}")
    expect(page.locator("tbody tr")).to_have_count(1)
    shot(page, "03a-leader-recorded-one")

    bad = write(tmp_path, "名单-有误.csv",
                "学号,角色,学时,奖项\n"
                f"{BY_CSV['student_no']},志愿者,3,\n"
                "2099999999,参与者,,\n"  # line 3: nobody has this number
                f"{REJECTED['student_no']},参与者,,\n")
    page.set_input_files("#file", bad)
    assert submit(page, page.get_by_role("button", name="预览")) == 422
    problem = page.locator(".flash.error")
    expect(problem).to_contain_text("1 行有误，未导入任何记录")
    expect(problem).to_contain_text("第 3 行")
    expect(problem).to_contain_text("2099999999")
    check_labels(page)
    expect(page.locator("tr.bad")).to_have_count(1)
    expect(page.locator("tr.bad td").first).to_have_text("3")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    shot(page, "03b-csv-preview-bad-row")
    assert record_count(page) == 1  # nothing imported

    good = write(tmp_path, "名单.csv",
                 "学号,角色,学时,奖项\n"
                 f"{BY_CSV['student_no']},志愿者,3,\n"
                 f"{REJECTED['student_no']},参与者,,\n")
    page.set_input_files("#file", good)
    assert submit(page, page.get_by_role("button", name="预览")) == 200
    expect(page.locator(".flash.success")).to_contain_text("全部 2 行检查无误")
    expect(page.locator("tbody")).to_contain_text(BY_CSV["display_name"])
    shot(page, "03c-csv-preview-good")
    submit(page, page.get_by_role("button", name="确认导入 2 条"))
    expect(flash(page)).to_contain_text("已导入 2 条记录")
    rows = page.locator("section:has(h2:has-text('已记录')) tbody tr")
    expect(rows).to_have_count(3)
    for who in STUDENTS:
        expect(rows.filter(has_text=who["student_no"])).to_have_count(1)
    shot(page, "03d-leader-recorded-all")

    page.goto(f"/activities/{S['activity_id']}")
    expect(page.locator("section", has_text="参与记录").locator("tbody tr")).to_have_count(3)
    shot(page, "readme-leader-activity")
    S["recorded"] = True

    office = person()
    sign_in(office, "office", "/admin")
    office.reload()  # without the welcome message
    expect(office.locator("section", has_text="待认证记录")).to_contain_text(PLAN["title"])
    shot(office, "readme-admin-home")


# --------------------------------------------------------------------------- 4 · sign-off


def test_4_organizer_selects_all_certifies_and_rejects_one_with_a_reason(person):
    need("recorded")
    page = person()
    sign_in(page, ORGANIZER["username"], "/organizer")
    queue = page.locator("section", has_text="待认证记录").locator("tbody tr", has_text=PLAN["title"])
    expect(queue.locator("td.num")).to_have_text("3")
    queue.get_by_role("button", name="认证").click()
    page.wait_for_url(f"**/activities/{S['activity_id']}/signoff")
    check_labels(page)
    counter = page.locator("[data-count-of=ids]")
    expect(counter).to_have_text("0")
    page.get_by_label("全选").check()
    expect(counter).to_have_text("3")
    boxes = page.locator("input[name=ids]")
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    # Keep one back for the rejection below.
    page.get_by_label(f"选择 {REJECTED['display_name']}").uncheck()
    expect(counter).to_have_text("2")
    page.fill("#note", "已核对签到表")
    shot(page, "readme-signoff")
    submit(page, page.get_by_role("button", name="认证所选"))
    expect(flash(page)).to_contain_text("已认证 2 条记录")
    certified = page.locator("section", has=page.locator("h2", has_text="已认证")).locator("tbody tr")
    expect(certified).to_have_count(2)

    waiting = page.locator("tbody tr", has_text=REJECTED["student_no"])
    waiting.locator("summary", has_text="驳回").click()
    waiting.get_by_label("原因").fill("签到表上没有该同学")
    submit(page, waiting.get_by_role("button", name="驳回", exact=True))
    expect(flash(page)).to_contain_text("已驳回该记录")
    closed = page.locator("section", has=page.locator("h2", has_text="已驳回或撤销"))
    expect(closed).to_contain_text(REJECTED["display_name"])
    expect(closed).to_contain_text("签到表上没有该同学")
    expect(page.locator(".empty")).to_contain_text("没有待认证的记录")
    shot(page, "04-signoff-done")
    S["certified"] = True


# --------------------------------------------------------------------------- 5 · the student


def test_5_student_sees_hours_per_module_issues_and_downloads_the_transcript(person):
    need("certified")
    page = person()
    sign_in(page, STUDENT["username"], "/me")
    modules = page.locator("section", has=page.locator("h2", has_text="各模块学时"))
    volunteering = modules.locator("tbody tr", has_text="志愿公益")
    expect(volunteering.locator("td.num").first).to_have_text("3.0")
    expect(modules.locator("tfoot")).to_contain_text("3.0")
    check_labels(page)
    expect(page.locator(".empty", has_text="还没有开具成绩单")).to_be_visible()
    shot(page, "05a-student-home-before-issue")

    submit(page, page.get_by_role("button", name="开具最新成绩单"))
    expect(flash(page)).to_contain_text("成绩单已开具")
    row = page.locator("#transcripts tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("有效")
    S["serial"] = row.locator("code").inner_text().strip()
    assert S["serial"] in flash(page).inner_text()
    with page.expect_download() as download:
        row.get_by_role("link", name="下载 PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    pdf = open(download.value.path(), "rb").read()
    assert pdf.startswith(b"%PDF")
    S["pdf"] = pdf
    shot(page, "readme-student-home")


def test_5b_student_home_on_a_phone(person):
    need("pdf")
    page = person(PHONE)
    sign_in(page, STUDENT["username"], "/me")
    expect(page.locator("#transcripts code")).to_have_text(S["serial"])
    shot(page, "05b-student-home-phone")
    assert no_horizontal_scroll(page), "the student's home scrolls sideways on a phone"




def test_5c_download_link_in_view_on_a_phone(person):
    need("pdf")
    page = person(PHONE)
    sign_in(page, STUDENT["username"], "/me")
    link = page.locator("#transcripts tbody tr").first.get_by_role("link", name="下载 PDF")
    box = link.bounding_box()  # where it is on arrival, before anyone scrolls the table sideways
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box


# --------------------------------------------------------------------------- 6 · the employer


def test_6_employer_scans_the_qr_code_and_checks_the_file(person, live_server, tmp_path):
    need("pdf")
    link = scan_qr(S["pdf"])
    assert link.startswith(f"{printed_base(live_server.url)}/V/{S['serial']}/"), link
    S["link"] = link
    page = person()  # no sign-in
    page.goto("/verify")  # the landing: look a serial up by hand
    check_labels(page)
    page.fill("#serial", S["serial"].lower())
    submit(page, page.get_by_role("button", name="查询"))
    expect(page.locator(".verdict h1")).to_have_text("有效")
    page.goto(link)
    expect(page.locator(".verdict h1")).to_have_text("有效")
    expect(page.locator("dl.facts")).to_contain_text(STUDENT["display_name"])
    expect(page.locator("table")).to_contain_text(PLAN["title"])
    check_labels(page)
    shot(page, "readme-verify-genuine")

    page.set_input_files("#file", write(tmp_path, "transcript.pdf", S["pdf"]))
    submit(page, page.get_by_role("button", name="核对文件"))
    expect(page.locator(".verdict h1")).to_have_text("文件一致")
    shot(page, "06a-verify-upload-genuine")

    changed = bytearray(S["pdf"])
    changed[len(changed) // 2] ^= 0x01
    page.goto(link)
    page.set_input_files("#file", write(tmp_path, "transcript-changed.pdf", bytes(changed)))
    submit(page, page.get_by_role("button", name="核对文件"))
    expect(page.locator(".verdict h1")).to_have_text("不一致")
    shot(page, "06b-verify-upload-changed")
    S["verified"] = True


def test_6b_verify_page_on_a_phone(person):
    need("verified")
    page = person(PHONE)
    page.goto(S["link"])
    expect(page.locator(".verdict h1")).to_have_text("有效")
    shot(page, "readme-verify-phone")
    assert no_horizontal_scroll(page), "the verification page scrolls sideways on a phone"


def test_6c_office_revokes_and_the_employer_sees_it_revoked(person, tmp_path):
    need("verified")
    employer = person()
    employer.goto(S["link"])
    expect(employer.locator(".verdict h1")).to_have_text("有效")

    office = person()
    sign_in(office, "office", "/admin")
    office.goto("/admin/transcripts")
    check_labels(office)
    office.fill("#q", STUDENT["student_no"])
    submit(office, office.get_by_role("button", name="查找"))
    row = office.locator("tbody tr", has_text=S["serial"])
    row.locator("summary").click()
    row.get_by_label("原因").fill("学生申请更正记录")
    office.once("dialog", lambda dialog: dialog.accept())
    submit(office, row.get_by_role("button", name="撤销", exact=True))
    expect(flash(office)).to_contain_text(f"已撤销成绩单 {S['serial']}")
    expect(office.locator("tbody tr", has_text=S["serial"])).to_contain_text("已撤销")
    shot(office, "06c-admin-transcript-revoked")

    employer.reload()
    expect(employer.locator(".verdict h1")).to_have_text("已撤销")
    expect(employer.locator(".verdict")).to_contain_text("学生申请更正记录")
    shot(employer, "06d-verify-revoked")
    employer.set_input_files("#file", write(tmp_path, "transcript.pdf", S["pdf"]))
    submit(employer, employer.get_by_role("button", name="核对文件"))
    expect(employer.locator(".verdict h1")).to_have_text("已撤销")
    S["revoked"] = True




def test_6d_the_revocation_date_is_the_schools_date(person):
    need("revoked")
    today = datetime.now(SCHOOL_ZONE).date().isoformat()
    page = person()
    page.goto(S["link"])
    expect(page.locator(".verdict h1")).to_have_text("已撤销")
    assert f"该成绩单已于 {today} 被撤销。" in page.locator(".verdict").inner_text()


# --------------------------------------------------------------------------- 7 · bad input

SAVE = "保存草稿"


def test_7a_activity_form_empty_and_absurd_values(person):
    need("approved")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    before = activity_count(page)
    new = f"{S['club_url']}/activities/new"

    page.goto(new)
    assert submit(page, page.get_by_role("button", name=SAVE)) == 422
    expect(flash(page, "error")).to_be_visible()
    assert missing_messages(page, "title", "module", "level", "starts_at", "ends_at", "location",
                            "hours") == []
    check_labels(page)
    shot(page, "07a-activity-form-empty")

    page.goto(new)
    fill_plan(page, hours="-3", starts_at=f"{DAY}T12:00", ends_at=f"{DAY}T09:00")
    page.fill("#title", "长" * 20_000)
    assert len(page.input_value("#title")) == 200  # the browser keeps to maxlength
    # A tampered page (or another client) sends all of it: the server says so by the field.
    page.evaluate("document.getElementById('title').removeAttribute('maxlength')")
    page.fill("#title", "长" * 20_000)
    assert submit(page, page.get_by_role("button", name=SAVE)) == 422
    assert missing_messages(page, "title", "hours", "ends_at") == []
    expect(page.locator("#location")).to_have_value(PLAN["location"])  # what was typed stays
    shot(page, "07b-activity-form-absurd", full_page=False)
    assert activity_count(page) == before


def test_7b_csv_that_is_really_a_png(person, tmp_path):
    need("recorded")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    before = record_count(page)
    page.set_input_files("#file", write(tmp_path, "名单.csv", PNG))
    assert submit(page, page.get_by_role("button", name="预览")) == 422
    assert missing_messages(page, "file") == []
    expect(page.locator("#file-msg")).to_contain_text("不是 CSV 文本文件")
    shot(page, "07c-csv-png")
    assert record_count(page) == before


def test_7c_participant_forms_submitted_empty(person):
    need("recorded")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    before = record_count(page)
    assert submit(page, page.get_by_role("button", name="添加")) == 422
    assert missing_messages(page, "student_no") == []
    assert submit(page, page.get_by_role("button", name="预览")) == 422
    assert missing_messages(page, "file") == []
    shot(page, "07d-participants-empty")
    assert record_count(page) == before


ADMIN_FORMS = {
    "units": ("/admin/units", "创建院系", ("code", "name")),
    # no password field is required: an account without one is activated by a link or SSO
    "people": ("/admin/people", "创建用户", ("display_name", "username", "role")),
    "clubs": ("/admin/clubs", "创建社团", ("name", "category", "unit_id")),
}


@pytest.mark.parametrize("form", [
    "units",
    "people",
    "clubs",
])
def test_7d_admin_form_submitted_empty(person, form):
    need("setup")
    path, button, fields = ADMIN_FORMS[form]
    page = person()
    sign_in(page, "office", "/admin")
    page.goto(path)
    rows = page.locator("tbody tr").count()
    assert submit(page, page.get_by_role("button", name=button)) == 422
    missing = missing_messages(page, *fields)
    shot(page, f"07e-admin-{form}-empty")
    page.goto(path)
    assert page.locator("tbody tr").count() == rows, "an empty form stored something"
    assert missing == [], f"no message next to {missing}"


def test_7e_back_and_save_the_plan_again_creates_no_duplicate(person):
    need("approved")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    before = activity_count(page)
    page.goto(f"{S['club_url']}/activities/new")
    fill_plan(page, title="社区环保宣传")
    submit(page, page.get_by_role("button", name=SAVE))
    expect(flash(page)).to_contain_text("活动已保存为草稿")
    first = page.url

    page.go_back()
    expect(page.locator("#title")).to_have_value("社区环保宣传")  # the browser kept what was typed
    submit(page, page.get_by_role("button", name=SAVE))
    shot(page, "07f-plan-saved-again")
    again, said = page.url, page.content()
    assert activity_count(page) == before + 1, "going back and saving again stored a second copy"
    assert again == first or "已存在" in said, "the second save neither led to the saved plan nor said so"


# --------------------------------------------------------------------------- 8 · the record's rules

ON_NOW = "迎新志愿服务"  # an activity going on now: started an hour ago, ends in two hours
OVER_HOURS_REASON = "负责全程布置与收尾"
LATE_REASON = "手机没电，扫码失败"
WITHDRAWAL_REASON = "复核签到表：该生当天未到场"


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_8a_a_plan_takes_no_participants_before_it_is_approved(person):
    need("approved")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    now = datetime.now(SCHOOL_ZONE)
    page.goto(f"{S['club_url']}/activities/new")
    fill_plan(page, title=ON_NOW, hours="2", capacity="2", starts_at=_minute(now - timedelta(hours=1)),
              ends_at=_minute(now + timedelta(hours=2)))
    submit(page, page.get_by_role("button", name=SAVE))
    S["on_now_id"] = int(page.url.rstrip("/").rsplit("/", 1)[1])
    submit(page, page.get_by_role("button", name="提交审批"))
    expect(page.locator("h1 .badge")).to_contain_text("待审批")

    page.goto(f"/activities/{S['on_now_id']}/participants")
    expect(page.locator(".flash.warning")).to_contain_text("只有已批准或已完成的活动才能登记参与人员（当前状态：待审批）")
    expect(page.get_by_role("button", name="添加")).to_have_count(0)
    expect(page.get_by_role("button", name="预览")).to_have_count(0)
    shot(page, "08a-no-records-before-approval")
    S["on_now_submitted"] = True


def test_8b_hours_above_the_activitys_need_a_reason_and_capacity_holds(person):
    need("on_now_submitted")
    organizer = person()
    sign_in(organizer, ORGANIZER["username"], "/organizer")
    submit(organizer, organizer.locator("tbody tr", has_text=ON_NOW).get_by_role("button", name="批准"))
    expect(flash(organizer)).to_contain_text("已批准")

    page = person()
    sign_in(page, LEADER["username"], "/leader")
    page.goto(f"/activities/{S['on_now_id']}/participants")
    expect(page.locator("main")).to_contain_text("共 2 个名额，剩余 2 个")
    page.fill("#student_no", STUDENT["student_no"])
    page.fill("#hours", "5")
    assert submit(page, page.get_by_role("button", name="添加")) == 422
    assert missing_messages(page, "hours_reason") == []
    expect(page.locator("#hours_reason-msg")).to_contain_text("超过活动的 2.0 学时：请填写超时理由")
    shot(page, "08b-hours-above-need-a-reason")
    assert record_count(page, S["on_now_id"]) == 0
    page.fill("#student_no", STUDENT["student_no"])
    page.fill("#hours", "5")
    page.fill("#hours_reason", OVER_HOURS_REASON)
    submit(page, page.get_by_role("button", name="添加"))
    expect(flash(page)).to_contain_text(f"已记录 {STUDENT['student_no']}")

    # A student whose scan failed: the leader's late entry, with a reason, from the activity's page.
    page.goto(f"/activities/{S['on_now_id']}")
    page.get_by_role("button", name="补录").click()
    page.wait_for_url(f"**/activities/{S['on_now_id']}/late-entry")
    check_labels(page)
    page.fill("#student_no", REJECTED["student_no"])
    page.fill("#reason", LATE_REASON)
    submit(page, page.get_by_role("button", name="提交补录"))
    expect(flash(page)).to_contain_text(f"已为 {REJECTED['display_name']} 补录")

    # Two places, two records: a third is refused by the form as the CSV and check-in would be.
    page.fill("#student_no", BY_CSV["student_no"])
    assert submit(page, page.get_by_role("button", name="添加")) == 409
    expect(flash(page, "error")).to_contain_text("活动限 2 人，仅剩 0 个名额")
    shot(page, "08c-capacity-holds")
    assert record_count(page, S["on_now_id"]) == 2
    S["on_now_recorded"] = True


def test_8c_a_made_up_check_in_code_checks_nobody_in(person):
    need("on_now_recorded")
    phone = person(PHONE)
    sign_in(phone, BY_CSV["username"], "/me")
    phone.goto(f"/c/{S['on_now_id']}?c=123456&d=in")  # what a friend's message would carry
    assert submit(phone, phone.get_by_role("button", name="确认签到")) == 422
    expect(flash(phone, "error")).to_contain_text("此签到码已过期或不属于本活动")
    expect(phone.get_by_role("button", name="确认签到")).to_have_count(0)
    shot(phone, "08d-made-up-code-refused")
    leader = person()
    sign_in(leader, LEADER["username"], "/leader")
    rows = leader.locator("section:has(h2:has-text('已记录')) tbody tr")
    leader.goto(f"/activities/{S['on_now_id']}/participants")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=BY_CSV["student_no"])).to_have_count(0)


def test_8d_records_are_signed_off_only_after_the_end_and_the_queue_flags_them(person):
    need("on_now_recorded")
    page = person()
    sign_in(page, ORGANIZER["username"], "/organizer")
    expect(page.locator("section", has_text="待认证记录")).not_to_contain_text(ON_NOW)
    page.goto(f"/activities/{S['on_now_id']}/signoff")
    expect(page.locator(".flash.warning")).to_contain_text("活动结束后才能审核认定")
    expect(page.get_by_role("button", name="认证所选")).to_have_count(0)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    over = page.locator("tbody tr", has_text=STUDENT["student_no"])
    expect(over).to_contain_text("学时超过活动学时")
    expect(over).to_contain_text(f"超时理由：{OVER_HOURS_REASON}")
    late = page.locator("tbody tr", has_text=REJECTED["student_no"])
    expect(late.locator(".badge", has_text="补录")).to_have_count(1)
    expect(late).to_contain_text(f"补录理由：{LATE_REASON}")
    shot(page, "08e-signoff-waits-for-the-end")


def test_8e_the_late_entry_closes_a_week_after_the_end(person):
    need("recorded")
    page = person()
    sign_in(page, LEADER["username"], "/leader")
    page.goto(f"/activities/{S['activity_id']}")
    expect(page.get_by_role("button", name="补录")).to_have_count(0)  # ten days on: not offered
    page.goto(f"/activities/{S['activity_id']}/late-entry")  # and the address typed in says why
    page.fill("#student_no", REJECTED["student_no"])
    page.fill("#reason", LATE_REASON)
    assert submit(page, page.get_by_role("button", name="提交补录")) == 409
    expect(flash(page, "error")).to_contain_text("补录从活动开始起、至活动结束后 7 天内开放")
    shot(page, "08f-late-entry-window-closed")


def test_8f_a_withdrawn_record_amends_the_transcript_the_employer_holds(person):
    need("revoked")
    student = person()
    sign_in(student, STUDENT["username"], "/me")
    submit(student, student.get_by_role("button", name="开具最新成绩单"))
    row = student.locator("#transcripts tbody tr").first
    serial = row.locator("code").inner_text().strip()
    with student.expect_download() as download:
        row.get_by_role("link", name="下载 PDF").click()
    link = scan_qr(open(download.value.path(), "rb").read())
    employer = person()
    employer.goto(link)
    expect(employer.locator(".verdict h1")).to_have_text("有效")

    organizer = person()
    sign_in(organizer, ORGANIZER["username"], "/organizer")
    organizer.goto(f"/activities/{S['activity_id']}/signoff")
    certified = organizer.locator("section", has=organizer.locator("h2", has_text="已认证"))
    row = certified.locator("tbody tr", has_text=STUDENT["student_no"])
    row.locator("summary", has_text="撤销").click()
    row.get_by_label("原因").fill(WITHDRAWAL_REASON)
    submit(organizer, row.get_by_role("button", name="撤销认证"))
    expect(organizer.locator("section", has=organizer.locator("h2", has_text="已驳回或撤销"))).to_contain_text(
        WITHDRAWAL_REASON)

    employer.reload()
    expect(employer.locator(".verdict h1")).to_have_text("已变更")
    expect(employer.locator(".withdrawn-summary")).to_contain_text(
        "学校撤回了 1 条记录：3.0 学时不再认证，仍认证 0.0 学时")
    expect(employer.locator(".withdrawn-list")).to_contain_text(PLAN["title"])
    expect(employer.locator(".withdrawn-list")).to_contain_text(WITHDRAWAL_REASON)
    expect(employer.locator("tr.withdrawn")).to_have_count(1)
    shot(employer, "08g-verify-amended")

    student.goto("/me")
    mine = student.locator("#transcripts tbody tr", has_text=serial)
    expect(mine).to_contain_text("已变更")
    expect(mine).to_contain_text(WITHDRAWAL_REASON)
    shot(student, "08h-student-sees-the-amendment")


def test_8g_a_suspended_club_plans_records_and_signs_off_nothing(person):
    need("on_now_recorded")
    office = person()
    sign_in(office, "office", "/admin")
    office.goto(f"{S['club_url']}")
    office.get_by_role("button", name="编辑").click()
    office.select_option("#status", "suspended")
    submit(office, office.get_by_role("button", name="保存"))
    expect(flash(office)).to_contain_text(f"已保存社团「{CLUB}」")

    leader = person()
    sign_in(leader, LEADER["username"], "/leader")
    expect(leader.get_by_role("button", name="+ 策划新活动")).to_have_count(0)
    leader.goto(f"/activities/{S['on_now_id']}/participants")
    expect(leader.locator(".flash.warning")).to_contain_text(f"{CLUB} 已暂停：其活动与记录只读")
    expect(leader.get_by_role("button", name="添加")).to_have_count(0)
    shot(leader, "08i-suspended-club-read-only")
    organizer = person()
    sign_in(organizer, ORGANIZER["username"], "/organizer")
    organizer.goto(f"/activities/{S['activity_id']}/signoff")
    expect(organizer.locator(".flash.warning")).to_contain_text(f"{CLUB} 已暂停：其活动与记录只读")


# --------------------------------------------------------------------------- gathered on the way


def test_9a_every_form_field_on_the_visited_pages_has_a_label():
    need("setup")
    assert SEEN["unlabelled"] == {}, SEEN["unlabelled"]


def test_9b_no_page_answered_with_a_server_error_or_a_script_error():
    need("setup")
    assert SEEN["server_errors"] == [], SEEN["server_errors"]
    assert SEEN["script_errors"] == [], SEEN["script_errors"]




def test_9c_every_message_by_a_field_speaks_chinese_first():
    need("setup")
    assert SEEN["messages"], "the bad-input steps did not run"
    bad = {text: url for text, url in SEEN["messages"].items()
           if not any("\u4e00" <= ch <= "\u9fff" for ch in text) or "None" in text}
    assert bad == {}, bad

