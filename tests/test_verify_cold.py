"""The public verifications a transcript is asked once (#17): every employer scans another QR code,
so the page and the JSON are bounded for a transcript nobody asked before, not only when cached.

Each is one statement by the serial (its status, the holder's choice, the withdrawals' count and
the snapshot), two more when records were withdrawn; the link we issued is not checked again
with its signature but any other link is; the answer carries the site's security headers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

import credentials
from app.services import participations, transcripts, verification
from app.verify import css_string

# The statements of a first verification (nothing cached), page or JSON.
COLD_STATEMENTS = 1
WITHDRAWN_STATEMENTS = COLD_STATEMENTS + 2  # and the records and claims withdrawn


@pytest.fixture
def issued(make, session):
    """Two graduates, each with a signed transcript carrying two records."""
    w = make.world()
    out = []
    for student in w.students:
        records = []
        for title in ("敬老院志愿服务", "挑战杯项目路演"):
            activity = make.activity(w.club, title=f"{title}·{student.student_no}")
            records.append(make.participation(activity, student, status="certified", certifier=w.advisor))
        out.append((transcripts.issue_transcript(session, w.admin, student.student_no), records))
    session.commit()
    return w, out


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_a_first_verification_reads_one_statement(client, count_queries, issued):
    _w, carried = issued
    for serial, link in [(t.serial, t.link) for t, _records in carried]:
        with count_queries() as page:
            html = client.get(path_of(link)).get_data(as_text=True)
        with count_queries() as body:
            answer = client.get(f"/api/v1/verify/{serial}").get_json()
        assert "<h1>有效</h1>" in html and answer["status"] == "valid"
        assert (page.count, body.count) == (COLD_STATEMENTS, COLD_STATEMENTS)


def test_withdrawn_records_are_read_only_when_there_are_some(client, count_queries, session, issued):
    w, carried = issued
    transcript, records = carried[0]
    participations.revoke(session, w.advisor, records[0].id, "签到记录有误")
    session.commit()
    link, other = transcript.link, carried[1][0].serial
    with count_queries() as page:
        html = client.get(path_of(link)).get_data(as_text=True)
    assert "<h1>已变更</h1>" in html and page.count == WITHDRAWN_STATEMENTS
    with count_queries() as untouched:
        assert client.get(f"/api/v1/verify/{other}").get_json()["withdrawn"] == []
    assert untouched.count == COLD_STATEMENTS


def test_the_issued_link_is_not_checked_again_but_any_other_is(client, monkeypatch, issued):
    _w, carried = issued
    checked = []
    real = credentials.verify_link
    monkeypatch.setattr(credentials, "verify_link", lambda *a, **k: checked.append(a[0]) or real(*a, **k))
    genuine, forged = carried[0][0], carried[1][0]
    assert "<h1>有效</h1>" in client.get(path_of(genuine.link)).get_data(as_text=True)
    assert checked == []
    changed = forged.link[:-5] + str((int(forged.link[-5]) + 1) % 10) + forged.link[-4:]
    html = client.get(path_of(changed)).get_data(as_text=True)
    assert "<h1>无效</h1>" in html
    assert checked == [changed]


def test_an_anonymous_visitors_answers_carry_the_sites_headers(client, issued):
    transcript = issued[1][0][0]
    page = client.get(path_of(transcript.link), headers={"Accept-Language": "en"})
    body = client.get(f"/api/v1/verify/{transcript.serial}")
    assert page.mimetype == "text/html" and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert body.mimetype == "application/json" and body.get_json()["serial"] == transcript.serial
    for response in (page, body):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Accept-Language" in response.headers["Vary"]


def test_a_phones_record_cards_are_labelled_in_the_readers_language(client, issued):
    transcript = issued[1][0][0]
    zh = client.get(path_of(transcript.link)).get_data(as_text=True)
    en = client.get(path_of(transcript.link), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'table.records td:nth-child(1)::before { content: "日期"; }' in zh
    assert 'table.records td:nth-child(7)::before { content: "Hours"; }' in en
    assert "data-label" not in zh  # once per page, not on every cell of every row


def test_a_css_label_cannot_end_its_string_or_the_style():
    assert css_string('学时 (h)') == '"学时 (h)"'
    assert css_string('a"b\\c</style>') == '"a\\22 b\\5c c\\3c \\2f style\\3e "'


def test_a_stored_snapshot_that_is_not_the_signed_one_is_not_shown(session, issued):
    transcript = issued[1][1][0]
    transcript.snapshot = transcript.snapshot.replace("敬老院志愿服务", "国家级竞赛一等奖")
    session.commit()
    with pytest.raises(ValueError, match="digest"):
        verification.public_view(session, transcript.serial, transcript.link)


def test_the_catalog_bound_for_a_render_translates_as_flask_babel_does(app):
    from app import i18n

    template = app.jinja_env.from_string(
        "{{ _('Genuine') }}|{{ _('Issued on %(day)s, not in the future', day='<b>2026</b>') }}|"
        "{{ ngettext('The school withdrew %(num)d record after this transcript was issued: %(hours)s h are no "
        "longer certified; %(still)s h still are.', 'The school withdrew %(num)d records after this transcript "
        "was issued: %(hours)s h are no longer certified; %(still)s h still are.', 2, hours=4, still=8) }}")
    for language in ("zh-CN", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            assert template.render(**i18n.template_gettext()) == template.render()
            assert "&lt;b&gt;" in template.render(**i18n.template_gettext())  # the values escaped
