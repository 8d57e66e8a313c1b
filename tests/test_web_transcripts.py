"""Pages: a student issues and downloads a transcript; the admin revokes one."""

from __future__ import annotations

from app.models.transcripts import Transcript
from tests.factories import PASSWORD


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def certified_student(make):
    w = make.world()
    student = w.students[0]
    make.participation(w.activity, student, status="certified", certifier=w.advisor)
    return w, student


def test_student_issues_downloads_and_admin_revokes(client, make, session):
    w, student = certified_student(make)
    sign_in(client, student)
    html = client.get("/me").get_data(as_text=True)
    assert "开具最新成绩单" in html and "还没有开具成绩单" in html
    r = client.post("/me/transcripts", data={"nonce": "issue-once-1"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "成绩单已开具" in html, html[:2000]
    transcript = session.query(Transcript).one()
    assert transcript.serial in html and "有效" in html
    # The same form posted again issues nothing new.
    client.post("/me/transcripts", data={"nonce": "issue-once-1"})
    assert session.query(Transcript).count() == 1
    pdf = client.get(f"/transcripts/{transcript.serial}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    client.post("/logout")

    other = make.student()
    sign_in(client, other)
    assert client.get(f"/transcripts/{transcript.serial}.pdf").status_code == 403
    assert client.get("/admin/transcripts").status_code == 403
    r = client.post(f"/transcripts/{transcript.serial}/revoke", data={"t-reason": "x"})
    assert r.status_code == 403
    client.post("/logout")

    sign_in(client, w.admin)
    html = client.get(f"/admin/transcripts?q={student.student_no}").get_data(as_text=True)
    assert transcript.serial in html
    r = client.post(f"/transcripts/{transcript.serial}/revoke",
                    data={"t-reason": "", "q": student.student_no})
    assert r.status_code == 422 and f'id="t-{transcript.serial}-reason-msg"' in r.get_data(
        as_text=True)
    r = client.post(f"/transcripts/{transcript.serial}/revoke",
                    data={"t-reason": "记录有误", "q": student.student_no}, follow_redirects=True)
    assert "已撤销成绩单" in r.get_data(as_text=True)
    session.expire_all()
    assert session.query(Transcript).one().status == "revoked"


def test_student_without_certified_records_is_told_what_to_do(client, make):
    sign_in(client, make.student())
    html = client.get("/me").get_data(as_text=True)
    assert "还不能开具成绩单" in html and "开具最新成绩单" not in html
    r = client.post("/me/transcripts", follow_redirects=True)
    assert r.status_code == 200 and "还没有已认证的记录" in r.get_data(as_text=True)


# ---- the public verification page reads in the visitor's language -------------------------

def _issued_link(session, make) -> tuple[str, Transcript]:
    from urllib.parse import urlsplit

    from app.services import transcripts

    w, student = certified_student(make)
    transcript = transcripts.issue_transcript(session, student, student.student_no)
    session.commit()
    parts = urlsplit(transcript.link)
    return (f"{parts.path}?{parts.query}" if parts.query else parts.path), transcript


def test_verify_page_is_chinese_by_default_and_english_for_accept_language_en(app, client, make, session):
    url, transcript = _issued_link(session, make)
    fast_path = app.wsgi_app
    to_flask = []
    flask_app = fast_path.next
    fast_path.next = lambda environ, start_response: to_flask.append(1) or flask_app(environ, start_response)
    chinese = client.get(url)
    html = chinese.get_data(as_text=True)
    assert chinese.status_code == 200 and '<html lang="zh-CN">' in html
    assert "<h1>有效</h1>" in html and "签发单位" in html and "Genuine" not in html
    assert "Accept-Language" in chinese.headers.get("Vary", "")
    # the same signed link again, now from an English browser: the page cached in Chinese
    # must not be what the fast path answers
    english = client.get(url, headers={"Accept-Language": "en-US,en;q=0.9"})
    html = english.get_data(as_text=True)
    assert english.status_code == 200 and '<html lang="en">' in html
    assert "<h1>Genuine</h1>" in html and "Institution" in html and "签发单位" not in html
    assert "Accept-Language" in english.headers.get("Vary", "")
    assert to_flask == []  # an anonymous visitor's page is the fast path's, rendered or cached
    # and both are answered again, each in its own language
    assert "<h1>有效</h1>" in client.get(url).get_data(as_text=True)
    assert "<h1>Genuine</h1>" in client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>有效</h1>" in client.get(url, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
                                        ).get_data(as_text=True)
    assert to_flask == []


def test_verify_page_takes_lang_in_the_query_without_breaking_the_signed_link(app, make, session):
    url, transcript = _issued_link(session, make)
    client = app.test_client()
    r = client.get(url + "?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<h1>Genuine</h1>" in html and "Not genuine" not in html
    # remembered in the session: the next visit (the fast path's cache is in Chinese) is English too
    client.get(url, headers={"Accept-Language": "zh-CN"})  # another visitor's request fills nothing new
    assert "<h1>Genuine</h1>" in client.get(url).get_data(as_text=True)
    assert "<h1>有效</h1>" in app.test_client().get(url).get_data(as_text=True)
    back = client.get(url + "?lang=zh_CN").get_data(as_text=True)
    assert "<h1>有效</h1>" in back
    # the page links to itself in the other language, keeping the signed link
    assert f'href="{url}?lang=en"' in back
    # a forged link stays not genuine in either language
    forged = url[:-3] + str((int(url[-3]) + 1) % 10) + url[-2:]
    assert "<h1>Not genuine</h1>" in client.get(forged + "?lang=en").get_data(as_text=True)
    assert "<h1>无效</h1>" in app.test_client().get(forged).get_data(as_text=True)


def test_verify_landing_and_unknown_serial_in_english(client):
    assert "验证第二课堂成绩单" in client.get("/verify").get_data(as_text=True)
    html = client.get("/verify?lang=en").get_data(as_text=True)
    assert "Verify a second transcript" in html and "验证第二课堂成绩单" not in html
    unknown = client.get("/v/AAAAAA-BBBBBB-CCCCCC", headers={"Accept-Language": "en"})
    assert unknown.status_code == 404 and "No transcript with the serial" in unknown.get_data(as_text=True)
