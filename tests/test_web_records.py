"""Pages: record participants (form and CSV preview → import) and sign records off."""

from __future__ import annotations

import io
import re

from app.models import Participation
from tests.factories import PASSWORD

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def upload(client, activity_id, data: bytes, name="名单.csv"):
    return client.post(
        f"/activities/{activity_id}/participants/csv",
        data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data",
    )


def payload_of(html: str) -> str:
    match = re.search(r'name="payload" type="hidden" value="([^"]+)"', html) or re.search(
        r'type="hidden" name="payload" value="([^"]+)"', html) or re.search(
        r'id="payload" name="payload" type="hidden" value="([^"]+)"', html)
    assert match, "no confirm form on the page"
    return match.group(1)


def count(session, activity):
    session.expire_all()
    return session.query(Participation).filter_by(activity_id=activity.id).count()


# ------------------------------------------------------------------ one by one


def test_leader_records_one_participant(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    html = client.get(f"/activities/{w.activity.id}/participants").get_data(as_text=True)
    for name in ("student_no", "role", "hours", "award", "file"):
        assert f'<label for="{name}">' in html, name
    template = client.get(f"/activities/{w.activity.id}/participants/template.csv")
    assert template.mimetype == "text/csv" and "学号" in template.data.decode("utf-8-sig")
    r = client.post(f"/activities/{w.activity.id}/participants", data={
        "student_no": w.students[0].student_no, "role": "awardee", "hours": "2.5",
        "award": "一等奖"})
    assert r.status_code == 302
    record = session.query(Participation).one()
    assert record.role == "awardee" and str(record.hours) == "2.5" and record.award == "一等奖"
    # The same student again (e.g. back and resubmit): a message by the field, no duplicate.
    r = client.post(f"/activities/{w.activity.id}/participants", data={
        "student_no": w.students[0].student_no, "role": "participant"})
    assert r.status_code == 422 and "已记录在本活动中" in r.get_data(as_text=True)
    assert count(session, w.activity) == 1


def test_bad_single_record_names_each_field(client, make, session):
    w = make.world()
    sign_in(client, w.leader)
    r = client.post(f"/activities/{w.activity.id}/participants", data={
        "student_no": "NOPE-1", "role": "king", "hours": "-1", "award": "奖" * 200})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    for name in ("student_no", "role", "hours", "award"):
        assert f'id="{name}-msg" class="field-error"' in html, name
    assert count(session, w.activity) == 0


def test_leader_of_another_club_cannot_record(client, make, session):
    w = make.world()
    stranger = make.leader()
    make.club(leaders=[stranger])
    sign_in(client, stranger)
    assert client.get(f"/activities/{w.activity.id}/participants").status_code == 403
    r = client.post(f"/activities/{w.activity.id}/participants",
                    data={"student_no": w.students[0].student_no})
    assert r.status_code == 403
    csv = f"学号\n{w.students[0].student_no}\n".encode()
    assert upload(client, w.activity.id, csv).status_code == 403
    assert count(session, w.activity) == 0


# ------------------------------------------------------------------ CSV


def test_csv_with_bad_rows_lists_each_with_line_number_and_imports_nothing(client, make, session):
    w = make.world()
    a, b = w.students
    data = (f"学号,角色,学时,奖项\n{a.student_no},志愿者,3,\nNOPE-404,参与者,,\n"
            f"{b.student_no},参与者,-2,\n").encode()
    sign_in(client, w.leader)
    r = upload(client, w.activity.id, data)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "第 3 行" in html and "NOPE-404" in html and "第 4 行" in html
    assert "第 2 行" not in html  # the good row is listed, not as an error
    assert a.display_name in html  # every row is previewed, with the student's name
    assert "确认导入" not in html  # all or nothing: no confirm button
    assert count(session, w.activity) == 0


def test_good_csv_in_gbk_previews_then_imports_all_once(client, make, session):
    w = make.world()
    a, b = w.students
    data = f"学号,角色,学时,奖项\r\n{a.student_no},志愿者,3,\r\n{b.student_no},获奖者,,一等奖\r\n"
    sign_in(client, w.leader)
    r = upload(client, w.activity.id, data.encode("gbk"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:1000]
    assert "一等奖" in html and "获奖者" in html and "确认导入 2 条" in html
    assert count(session, w.activity) == 0  # a preview stores nothing
    payload = payload_of(html)
    r = client.post(f"/activities/{w.activity.id}/participants/csv/confirm",
                    data={"payload": payload})
    assert r.status_code == 302
    assert count(session, w.activity) == 2
    # Back to the preview and confirm again: every row is now "already recorded".
    r = client.post(f"/activities/{w.activity.id}/participants/csv/confirm",
                    data={"payload": payload})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "已记录在本活动中" in html
    assert count(session, w.activity) == 2


def test_csv_utf8_with_bom_imports(client, make, session):
    w = make.world()
    data = ("\ufeffstudent_no,role\n" + "\n".join(s.student_no for s in w.students)).encode()
    sign_in(client, w.leader)
    html = upload(client, w.activity.id, data).get_data(as_text=True)
    r = client.post(f"/activities/{w.activity.id}/participants/csv/confirm",
                    data={"payload": payload_of(html)})
    assert r.status_code == 302 and count(session, w.activity) == 2


def test_tampered_or_foreign_payload_imports_nothing(client, make, session):
    w = make.world()
    other = make.activity(w.club)
    data = f"学号\n{w.students[0].student_no}\n".encode()
    sign_in(client, w.leader)
    payload = payload_of(upload(client, w.activity.id, data).get_data(as_text=True))
    r = client.post(f"/activities/{w.activity.id}/participants/csv/confirm",
                    data={"payload": payload[:-3] + "abc"}, follow_redirects=True)
    assert "上传已失效" in r.get_data(as_text=True)
    r = client.post(f"/activities/{other.id}/participants/csv/confirm",
                    data={"payload": payload}, follow_redirects=True)
    assert "上传已失效" in r.get_data(as_text=True)
    assert count(session, w.activity) == 0 and count(session, other) == 0


def test_png_or_missing_or_huge_file_is_a_message_by_the_field(client, make, session, app):
    w = make.world()
    sign_in(client, w.leader)
    r = upload(client, w.activity.id, PNG, "photo.csv")
    assert r.status_code == 422 and 'id="file-msg" class="field-error"' in r.get_data(as_text=True)
    r = client.post(f"/activities/{w.activity.id}/participants/csv", data={},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择文件" in r.get_data(as_text=True)
    app.config["CSV_IMPORT_MAX_BYTES"] = 64
    r = upload(client, w.activity.id, b"student_no\n" + b"2025000001\n" * 20)
    assert r.status_code == 422 and "文件超过" in r.get_data(as_text=True)
    assert count(session, w.activity) == 0


# ------------------------------------------------------------------ sign-off


def test_select_all_certify(client, make, session):
    w = make.world()
    records = [make.participation(w.activity, s) for s in w.students]
    sign_in(client, w.advisor)
    html = client.get(f"/activities/{w.activity.id}/signoff").get_data(as_text=True)
    assert 'data-select-all="ids"' in html and html.count('name="ids"') == 2
    r = client.post(f"/activities/{w.activity.id}/certify",
                    data={"ids": [str(r.id) for r in records], "note": "核对签到表"})
    assert r.status_code == 302
    r = client.get(r.headers["Location"])
    assert "已认证 2 条记录" in r.get_data(as_text=True)
    session.expire_all()
    assert {p.status for p in session.query(Participation)} == {"certified"}
    assert {p.certified_by_id for p in session.query(Participation)} == {w.advisor.id}


def test_certify_selected_only_and_nothing_selected_is_a_message(client, make, session):
    w = make.world()
    first, second = (make.participation(w.activity, s) for s in w.students)
    sign_in(client, w.advisor)
    r = client.post(f"/activities/{w.activity.id}/certify", data={})
    assert r.status_code == 422 and "请至少选择一条记录" in r.get_data(as_text=True)
    client.post(f"/activities/{w.activity.id}/certify", data={"ids": [str(first.id)]})
    session.expire_all()
    assert session.get(Participation, first.id).status == "certified"
    assert session.get(Participation, second.id).status == "recorded"


def test_reject_needs_reason_then_rejects(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    sign_in(client, w.advisor)
    r = client.post(f"/participations/{record.id}/reject", data={f"r{record.id}-reason": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and f'id="r{record.id}-reason-msg"' in html
    session.expire_all()
    assert session.get(Participation, record.id).status == "recorded"
    r = client.post(f"/participations/{record.id}/reject",
                    data={f"r{record.id}-reason": "未见签到"})
    assert r.status_code == 302
    session.expire_all()
    record = session.get(Participation, record.id)
    assert record.status == "rejected" and record.reject_reason == "未见签到"
    html = client.get(f"/activities/{w.activity.id}/signoff").get_data(as_text=True)
    assert "未见签到" in html


def test_revoke_certified_with_reason(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0], status="certified", certifier=w.advisor)
    sign_in(client, w.advisor)
    r = client.post(f"/participations/{record.id}/revoke",
                    data={f"r{record.id}-reason": "重复记录"})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(Participation, record.id).status == "revoked"
    # A second click: a message, not an error page.
    r = client.post(f"/participations/{record.id}/revoke",
                    data={f"r{record.id}-reason": "重复记录"}, follow_redirects=True)
    assert r.status_code == 200 and "只能撤销已认证的记录" in r.get_data(as_text=True)


def test_leader_cannot_certify(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    sign_in(client, w.leader)
    assert client.get(f"/activities/{w.activity.id}/signoff").status_code == 403
    r = client.post(f"/activities/{w.activity.id}/certify", data={"ids": [str(record.id)]})
    assert r.status_code == 403
    r = client.post(f"/participations/{record.id}/reject", data={f"r{record.id}-reason": "x"})
    assert r.status_code == 403
    session.expire_all()
    assert session.get(Participation, record.id).status == "recorded"


def test_organizer_not_advising_cannot_certify(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    sign_in(client, make.organizer())
    assert client.get(f"/activities/{w.activity.id}/signoff").status_code == 403
    r = client.post(f"/activities/{w.activity.id}/certify", data={"ids": [str(record.id)]})
    assert r.status_code == 403
    session.expire_all()
    assert session.get(Participation, record.id).status == "recorded"


def test_admin_signs_off_any_club(client, make, session):
    w = make.world()
    record = make.participation(w.activity, w.students[0])
    sign_in(client, w.admin)
    assert client.get(f"/activities/{w.activity.id}/signoff").status_code == 200
    client.post(f"/activities/{w.activity.id}/certify", data={"ids": [str(record.id)]})
    session.expire_all()
    assert session.get(Participation, record.id).status == "certified"
