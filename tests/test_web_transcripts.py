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
