"""Clubs after creation: the office edits them, leaders keep the roster."""

from __future__ import annotations

from app.models import Club, Membership
from tests.test_web_auth import sign_in


def test_admin_patches_a_club_and_unnamed_fields_keep_their_values(client, make, session):
    w = make.world()
    w.club.charter, w.club.status = "旧章程", "suspended"
    session.commit()
    r = client.patch(f"/api/v1/clubs/{w.club.id}", headers=make.token(w.admin), json={"charter": "新章程"})
    assert r.status_code == 200, r.get_json()
    club = session.get(Club, w.club.id)
    session.refresh(club)
    assert club.charter == "新章程" and club.status == "suspended"
    assert [u.id for u in club.advisors] == [w.advisor.id] and [u.id for u in club.leaders] == [w.leader.id]
    bad = client.patch(f"/api/v1/clubs/{w.club.id}", headers=make.token(w.admin), json={"leader_ids": [w.advisor.id]})
    assert bad.status_code == 422 and "leader_ids" in bad.get_json()["error"]["fields"]


def test_leader_keeps_the_roster_and_a_student_is_on_it_once_a_term(client, make, session):
    w = make.world()
    lead = make.token(w.leader)
    url = f"/api/v1/clubs/{w.club.id}/members"
    body = {"student_no": w.students[0].student_no, "term": "2026-2027-1", "role": "干事"}
    assert client.post(url, headers=lead, json=body).status_code == 201
    assert client.post(url, headers=lead, json=body).status_code == 409
    unknown = client.post(url, headers=lead, json={**body, "student_no": "99999999"})
    assert unknown.status_code == 422 and "student_no" in unknown.get_json()["error"]["fields"]
    bad_term = client.post(url, headers=lead, json={**body, "term": "2026秋"})
    assert bad_term.status_code == 422
    roster = client.get(url, headers=make.token(w.advisor)).get_json()
    assert roster["total"] == 1  # lists answer {items, total} (API.md "Additions")
    assert [(m["student_no"], m["role"]) for m in roster["items"]] == [(w.students[0].student_no, "干事")]
    assert session.query(Membership).count() == 1


def test_admin_edits_a_club_on_its_page_and_others_cannot(client, make, session):
    w = make.world()
    sign_in(client, w.admin)
    page = client.get(f"/admin/clubs/{w.club.id}/edit")
    assert page.status_code == 200 and w.club.name in page.get_data(as_text=True)
    r = client.post(f"/admin/clubs/{w.club.id}/edit", data={
        "name": "青年志愿者协会（新）", "category": "志愿公益", "unit_id": w.unit.id, "status": "active",
        "advisor_ids": [w.advisor.id], "leader_ids": [w.leader.id], "charter": "章程第一条",
    })
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.get(Club, w.club.id).name == "青年志愿者协会（新）"
    client.post("/logout")
    sign_in(client, w.advisor)
    assert client.get(f"/admin/clubs/{w.club.id}/edit").status_code == 403
    assert client.post(f"/admin/clubs/{w.club.id}/edit", data={"name": "改名"}).status_code == 403
    session.expire_all()
    assert session.get(Club, w.club.id).name == "青年志愿者协会（新）"


def test_club_unit_and_member_lists_are_paged_items_with_a_total(client, make, session):
    w = make.world()
    make.club(advisors=[w.advisor])
    admin = make.token(w.admin)
    for url in ("/api/v1/clubs", "/api/v1/units"):
        whole = client.get(url, headers=admin).get_json()
        assert set(whole) == {"items", "total"} and whole["total"] >= 2
        first = client.get(f"{url}?per_page=1&page=2", headers=admin).get_json()
        assert first["total"] == whole["total"] and first["items"] == whole["items"][1:2]
    assert client.get("/api/v1/units?per_page=500", headers=admin).status_code == 422
