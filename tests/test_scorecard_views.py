"""The scorecard through its doors: the API (API.md), the pages, the radar chart, the files
(CSV with a BOM, .xlsx, the PDF report) — and who may open each."""

from __future__ import annotations

import csv
import io
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from markupsafe import escape

from app.models import ActivityStatus, Membership, ParticipationStatus
from app.services import exports, scorecard
from tests.pdfread import text_of
from tests.test_scorecard import OTHER_TERM, STARTS, TERM, Plan, build
from tests.test_web_records import sign_in

SVG = "{http://www.w3.org/2000/svg}"
#: The statements of one request of the overview, whatever the number of clubs: the signed-in
#: user, the ranking's four (this term and the term before at once), the heat table's one, the
#: filters' three and the menu's unread count.
OVERVIEW_STATEMENTS = 10


@pytest.fixture
def school(make, session):
    """Club A (perfect), club B (plans approved late), club C (no activity), and people."""
    s = type("School", (), {})()
    s.admin, s.student = make.admin(), make.student()
    s.advisor, s.other_advisor = make.organizer(), make.organizer()
    s.leader, s.other_leader = make.leader(), make.leader()
    s.a = build(make, session, Plan(advisors=0, leaders=0), "青年志愿者协会")
    s.b = build(make, session, Plan(advisors=0, leaders=0, approved_late=2), "机器人创新社")
    s.c = make.club(advisors=[s.other_advisor], name="摄影协会")
    s.a.advisors, s.b.advisors = [s.advisor], [s.other_advisor]
    make.put_in_post(s.a, [s.leader])
    make.put_in_post(s.b, [s.other_leader])
    session.commit()
    return s


def api(client, make, user, path):
    headers = make.token(user) if user is not None else {}
    return client.get(f"/api/v1{path}", headers=headers)


# --------------------------------------------------------------------------- API


def test_club_scorecard_api_answers_as_api_md_says(client, make, school):
    r = api(client, make, school.admin, f"/clubs/{school.b.id}/scorecard?term={TERM}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["club_id"] == school.b.id and body["term"] == TERM
    assert body["club"] == "机器人创新社" and body["no_data"] is False
    assert set(body["dimensions"]) == {"organized", "projects", "standardized", "results",
                                       "socialized"}
    assert {k: d["score"] for k, d in body["dimensions"].items()} == {
        "organized": 100.0, "projects": 100.0, "standardized": 87.5, "results": 100.0,
        "socialized": 100.0}
    assert body["overall"] == 97.5
    approved = next(i for i in body["dimensions"]["standardized"]["indicators"]
                    if i["key"] == "approved_before_start")
    assert approved["score"] == 50.0 and approved["value"] == 0.5
    # In the reader's language (Chinese by default), and each language on its own.
    assert approved["detail"] == approved["detail_zh"] == "4 项中 2 项在开始前获批"
    assert approved["detail_en"] == "2 of 4 activities approved before start"
    assert approved["label"] == approved["label_zh"] == "先审批后开展"
    assert approved["label_en"] == "Approved before the start"
    assert approved["weak"] is True and approved["hint"]
    for dim in body["dimensions"].values():
        for item in dim["indicators"]:
            assert {"key", "label", "value", "score", "detail"} <= set(item)
    english = api(client, make, school.admin,
                  f"/clubs/{school.b.id}/scorecard?term={TERM}&lang=en").get_json()
    approved = next(i for i in english["dimensions"]["standardized"]["indicators"]
                    if i["key"] == "approved_before_start")
    assert approved["detail"] == "2 of 4 activities approved before start"
    assert approved["label"] == "Approved before the start"
    assert english["dimensions"]["standardized"]["label"] == "Standardized"
    # No data: nulls, not zeros.
    empty = api(client, make, school.admin, f"/clubs/{school.c.id}/scorecard?term={TERM}")
    body = empty.get_json()
    assert empty.status_code == 200 and body["overall"] is None and body["no_data"] is True
    assert all(d["score"] is None for d in body["dimensions"].values())


def test_club_scorecard_api_permissions(client, make, school):
    path = f"/clubs/{school.a.id}/scorecard?term={TERM}"
    for user, status in ((school.admin, 200), (school.advisor, 200), (school.leader, 200),
                         (school.other_advisor, 403), (school.other_leader, 403),
                         (school.student, 403)):
        r = api(client, make, user, path)
        assert r.status_code == status, (user.role, r.get_json())
        if status == 403:
            assert r.get_json()["error"]["code"] == "forbidden"
    r = api(client, make, None, path)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert api(client, make, school.admin, "/clubs/999999/scorecard").status_code == 404
    bad = api(client, make, school.admin, f"/clubs/{school.a.id}/scorecard?term=2026-2028-1")
    assert bad.status_code == 422 and "term" in bad.get_json()["error"]["fields"]


def test_overview_api_ranks_clubs_for_the_admin_only(client, make, school):
    r = api(client, make, school.admin, f"/scorecards?term={TERM}")
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 3
    assert [(i["club"], i["overall"], i["rank"]) for i in body["items"]] == [
        ("青年志愿者协会", 100.0, 1), ("机器人创新社", 97.5, 2), ("摄影协会", None, None)]
    assert body["items"][1]["dimensions"]["standardized"] == 87.5
    assert body["items"][2]["dimensions"] == {k: None for k in body["items"][2]["dimensions"]}
    one_unit = api(client, make, school.admin, f"/scorecards?term={TERM}&unit={school.b.unit_id}")
    assert [i["club_id"] for i in one_unit.get_json()["items"]] == [school.b.id]
    assert api(client, make, school.admin, "/scorecards?unit=999999").status_code == 422
    assert api(client, make, school.admin, "/scorecards?term=2026").status_code == 422
    for user in (school.advisor, school.leader, school.student):
        assert api(client, make, user, f"/scorecards?term={TERM}").status_code == 403
    assert api(client, make, None, "/scorecards").status_code == 401


# --------------------------------------------------------------------------- pages


def test_pages_show_each_viewer_what_they_may_see(client, school):
    page = f"/clubs/{school.a.id}/scorecard?term={TERM}"
    assert client.get(page).status_code == 302  # signed out → sign in
    for user, status in ((school.admin, 200), (school.advisor, 200), (school.leader, 200),
                         (school.other_leader, 403), (school.student, 403)):
        client.post("/logout")
        sign_in(client, user)
        r = client.get(page)
        assert r.status_code == status, user.role
        html = r.get_data(as_text=True)
        if status == 200:
            assert "青年志愿者协会" in html and 'class="radar"' in html and "先审批后开展" in html
        overview = client.get(f"/scorecards?term={TERM}")
        if user is school.student:
            assert overview.status_code == 403
            continue
        text = overview.get_data(as_text=True)
        assert overview.status_code == 200
        assert ("机器人创新社" in text) == (user is school.admin or user is school.other_leader)
    client.post("/logout")
    sign_in(client, school.admin)
    html = client.get(f"/clubs/{school.b.id}/scorecard?term={TERM}").get_data(as_text=True)
    assert "待改进" in html and "提前提交活动计划" in html  # the hint of its weak indicator
    empty = client.get(f"/clubs/{school.c.id}/scorecard?term={TERM}").get_data(as_text=True)
    assert "暂无评分" in empty
    overview = client.get(f"/scorecards?term={TERM}").get_data(as_text=True)
    assert "各院系模块学时" in overview and "志愿公益" in overview


def ranked_club(make, session, n: int, *, certified_before: int):
    """A club with two completed activities in TERM, one in the term before with
    ``certified_before`` of its two records certified (so each club's change is its own)."""
    leader = make.leader()
    club = make.club(advisors=[make.organizer()], leaders=[leader], name=f"排名社团{n:03d}")
    for start in STARTS[:2]:
        activity = make.activity(club, status=ActivityStatus.COMPLETED, starts_at=start,
                                 approved_at=start - timedelta(days=2))
        make.participation(activity, make.student(), status=ParticipationStatus.CERTIFIED)
    before = make.activity(club, status=ActivityStatus.COMPLETED, starts_at=datetime(2025, 10, 10, 1, tzinfo=UTC))
    for i in range(2):
        status = ParticipationStatus.CERTIFIED if i < certified_before else ParticipationStatus.REJECTED
        make.participation(before, make.student(), status=status)
    session.add(Membership(club_id=club.id, user_id=leader.id, term=TERM, role="会长"))
    session.commit()


def ranking_on(html: str) -> dict[int, list[str]]:
    """The ranking's rows: club id → the text of each cell."""
    rows = re.findall(r'<tr data-club="(\d+)">(.*?)</tr>', html, re.S)
    return {int(club): [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for club, row in rows}


def test_the_overview_page_reads_the_same_statements_for_a_few_or_many_clubs(client, make, session, count_queries):
    admin = make.admin()
    sign_in(client, admin)
    client.get(f"/scorecards?term={TERM}")  # the first request reads the office's module list once
    made = 0
    for total in (3, 12):
        while made < total:
            ranked_club(make, session, made, certified_before=made % 3)
            made += 1
        with count_queries() as counted:
            response = client.get(f"/scorecards?term={TERM}")
        assert response.status_code == 200
        assert counted.count == OVERVIEW_STATEMENTS, total
        shown = ranking_on(response.get_data(as_text=True))
        assert len(shown) == total
    # Every row: the scores of TERM, the term before's overall and the change, as the services say.
    ranking = scorecard.my_overview(session, admin, TERM)
    assert ranking.previous_term == OTHER_TERM
    for row in ranking.rows:
        cells = shown[row.card.club.id]
        assert cells[3:9] == [f"{v:g}" for v in (row.card.overall, *row.card.scores().values())]
        assert cells[9] == f"{row.previous.overall:g}"
        assert cells[10] == ("0" if row.change == 0 else f"{'▲' if row.change > 0 else '▼'} {abs(row.change):g}")
    assert {row.change for row in ranking.rows} != {0}


CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _without_user_data(html: str, session) -> str:
    """The page less what people typed in (names of clubs, units, categories, people; the
    institution's name in the settings) and the language switcher's 中文, marked lang="zh-CN"."""
    from flask import current_app
    from sqlalchemy import select

    from app.models import Club, Unit, User

    html = re.sub(r'<(a|span)\b[^>]*\blang="zh-CN"[^>]*>[^<]*</\1>', "", html)
    words = set(session.execute(select(Club.name)).scalars())
    words |= set(session.execute(select(Club.category)).scalars())
    words |= set(session.execute(select(Unit.name)).scalars())
    words |= set(session.execute(select(User.display_name)).scalars())
    words.add(current_app.config["INSTITUTION_NAME"])
    for word in sorted(words, key=len, reverse=True):
        html = html.replace(str(escape(word)), "").replace(word, "")
    return html


def test_the_pages_in_english_have_no_chinese_but_the_data(client, session, school):
    sign_in(client, school.admin)
    # In Chinese first (which also shows the sign-in's welcome, said in Chinese)…
    chinese = client.get(f"/scorecards?term={TERM}").get_data(as_text=True)
    assert "五化评分总览" in chinese and "Five-izations overview" not in chinese
    # …then in English: no Chinese but what people typed in.
    r = client.get(f"/scorecards?term={TERM}&lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="en"' in html and "Five-izations overview" in html
    assert "Certified hours per module per unit" in html and "Volunteering" in html
    left = CJK.findall(_without_user_data(html, session))
    assert not left, "".join(left)
    # A club's page too: names, raw figures and hints (club B has a weak indicator).
    html = client.get(f"/clubs/{school.b.id}/scorecard?term={TERM}").get_data(as_text=True)
    assert "To improve" in html and "Submit plans early" in html and "2 of 4 activities" in html
    left = CJK.findall(_without_user_data(html, session))
    assert not left, "".join(left)


def _svg_scores(root) -> dict[str, float | None]:
    axes = root.findall(f"{SVG}line[@class='axis']")
    return {a.get("data-key"): (float(a.get("data-score")) if a.get("data-score") else None)
            for a in axes}


def test_radar_svg_has_five_axes_with_the_right_values(client, make, school):
    sign_in(client, school.admin)
    r = client.get(f"/clubs/{school.b.id}/scorecard/radar.svg?term={TERM}")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    root = ET.fromstring(r.data)
    assert root.tag == f"{SVG}svg"
    want = api(client, make, school.admin,
               f"/clubs/{school.b.id}/scorecard?term={TERM}").get_json()["dimensions"]
    scores = _svg_scores(root)
    assert list(scores) == ["organized", "projects", "standardized", "results", "socialized"]
    assert scores == {k: d["score"] for k, d in want.items()}
    cx, cy, radius = (float(root.get(k)) for k in ("data-cx", "data-cy", "data-r"))
    polygon = root.find(f"{SVG}polygon[@class='values']")
    points = [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]
    assert len(points) == 5
    for (x, y), score in zip(points, scores.values(), strict=True):
        assert math.hypot(x - cx, y - cy) == pytest.approx(radius * score / 100, abs=0.02)
    assert points[0][0] == pytest.approx(cx) and points[0][1] < cy  # the first axis points up
    # The same drawing is inline in the page.
    page = client.get(f"/clubs/{school.b.id}/scorecard?term={TERM}").get_data(as_text=True)
    inline = ET.fromstring(re.search(r"<svg[^>]*class=\"radar\".*?</svg>", page, re.S).group(0))
    assert _svg_scores(inline) == scores
    # No data: the axes, no polygon, and it says so.
    empty = ET.fromstring(client.get(f"/clubs/{school.c.id}/scorecard/radar.svg?term={TERM}").data)
    assert set(_svg_scores(empty).values()) == {None}
    assert empty.find(f"{SVG}polygon[@class='values']") is None
    assert any(t.text == "无数据" for t in empty.iter(f"{SVG}text"))


# --------------------------------------------------------------------------- files


def test_tables_download_as_csv_with_bom_and_as_xlsx(client, school):
    sign_in(client, school.admin)
    r = client.get(f"/scorecards/ranking.csv?term={TERM}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    assert r.data.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    # The headings in the requester's language: Chinese by default, English on request.
    assert rows[0][:5] == ["排名", "社团", "院系", "类别", "总分"]
    assert rows[1][:2] == ["1", "青年志愿者协会"] and rows[1][4] == "100.0"
    assert rows[3][1] == "摄影协会" and rows[3][4] == "无数据"
    english = client.get(f"/scorecards/ranking.csv?term={TERM}&lang=en")
    rows = list(csv.reader(io.StringIO(english.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Rank", "Club", "Unit", "Category", "Overall"]
    assert rows[1][4] == "100.0" and rows[3][4] == "No data"

    r = client.get(f"/clubs/{school.b.id}/scorecard/indicators.csv?term={TERM}&lang=zh")
    text = r.data.decode("utf-8")
    assert text.startswith("\ufeff") and "先审批后开展" in text and "4 项中 2 项在开始前获批" in text
    r = client.get(f"/clubs/{school.b.id}/scorecard/indicators.csv?term={TERM}&lang=en")
    text = r.data.decode("utf-8")
    assert "Approved before the start" in text and "2 of 4 activities" in text
    client.get("/scorecards?lang=zh")  # back to Chinese for what follows

    r = client.get(f"/scorecards/ranking.xlsx?term={TERM}")
    assert r.mimetype == exports.FORMATS["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert sheet["B1"].value == "社团" and sheet["B2"].value == "青年志愿者协会"
    assert sheet["E3"].value == 97.5
    heat = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/scorecards/heat.xlsx?term={TERM}").data)).active
    header = [c.value for c in heat[1]]
    assert header[0] == "院系" and "志愿公益" in header
    column = header.index("志愿公益") + 1
    assert sorted(heat.cell(row=r, column=column).value for r in (2, 3)) == [48.0, 48.0]
    trend = client.get(f"/clubs/{school.a.id}/scorecard/trend.csv")
    assert trend.status_code == 200 and TERM in trend.data.decode("utf-8-sig")
    assert client.get(f"/scorecards/ranking.pdf?term={TERM}").status_code == 404
    client.post("/logout")
    sign_in(client, school.student)
    assert client.get(f"/scorecards/ranking.csv?term={TERM}").status_code == 403
    assert client.get(f"/clubs/{school.a.id}/scorecard/indicators.xlsx").status_code == 403


def test_text_that_looks_like_a_formula_stays_text():
    table = exports.Table("t", ["社团"], [["=HYPERLINK(\"http://x\")"], ["-1+2"], [-3.5]], "t")
    rows = list(csv.reader(io.StringIO(exports.to_csv(table).decode("utf-8-sig"))))
    assert rows[1:] == [["'=HYPERLINK(\"http://x\")"], ["'-1+2"], ["-3.5"]]
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(table))).active
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\")" and sheet["A4"].value == -3.5


def test_term_report_pdf(client, school):
    sign_in(client, school.leader)
    r = client.get(f"/clubs/{school.a.id}/scorecard/report.pdf?term={TERM}")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:5] == b"%PDF-"
    text = text_of(r.data)
    for words in ("社团五化建设学期报告", "青年志愿者协会", "组织化", "先审批后开展", TERM):
        assert words in text, words
    assert b"WenQuanYiMicroHei" in r.data  # the transcript's embedded CJK font
    assert client.get(f"/clubs/{school.b.id}/scorecard/report.pdf").status_code == 403
