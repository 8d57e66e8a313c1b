"""Classes (班级 / 团支部): one unit and one cohort; the office creates them, everyone lists them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import AuditEvent, SchoolClass, User
from tests.factories import PASSWORD


def classes_in(session, unit=None) -> list[tuple[str, int]]:
    session.expire_all()
    query = select(SchoolClass.name, SchoolClass.cohort).order_by(SchoolClass.id)
    if unit is not None:
        query = query.where(SchoolClass.unit_id == unit.id)
    return [tuple(row) for row in session.execute(query)]


def events(session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def sign_in(client, user):
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def test_admin_creates_a_class_and_it_is_audited(client, make, session):
    admin, unit = make.admin(), make.unit(code="CS")
    r = client.post("/api/v1/classes", json={"unit_id": unit.id, "name": " 计算机2301 ", "cohort": 2023},
                    headers=make.token(admin))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body == {"id": body["id"], "unit_id": unit.id, "name": "计算机2301", "cohort": 2023}
    assert classes_in(session, unit) == [("计算机2301", 2023)]
    [event] = events(session, "class.create")
    assert event.actor_id == admin.id and event.object_type == "class" and event.object_id == str(body["id"])
    assert event.data == {"unit_id": unit.id, "unit": "CS", "name": "计算机2301", "cohort": 2023}


def test_class_name_is_unique_within_a_unit(client, make, session):
    admin, cs, ee = make.admin(), make.unit(), make.unit()
    headers = make.token(admin)
    assert client.post("/api/v1/classes", json={"unit_id": cs.id, "name": "2301班", "cohort": 2023},
                       headers=headers).status_code == 201
    r = client.post("/api/v1/classes", json={"unit_id": cs.id, "name": "2301班", "cohort": 2024}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict" and "name" in r.get_json()["error"]["fields"]
    # The same name in another unit is another class.
    assert client.post("/api/v1/classes", json={"unit_id": ee.id, "name": "2301班", "cohort": 2023},
                       headers=headers).status_code == 201
    assert classes_in(session, cs) == [("2301班", 2023)] and classes_in(session, ee) == [("2301班", 2023)]
    assert len(events(session, "class.create")) == 2


def test_bad_class_values_name_their_field_and_create_nothing(client, make, session):
    admin, unit = make.admin(), make.unit()
    headers = make.token(admin)
    cases = [
        ({"unit_id": unit.id, "name": "软件2301", "cohort": 1949}, "cohort"),
        ({"unit_id": unit.id, "name": "软件2301", "cohort": 2201}, "cohort"),
        ({"unit_id": unit.id, "name": "软件2301", "cohort": "2023"}, "cohort"),
        ({"unit_id": unit.id, "name": "   ", "cohort": 2023}, "name"),
        ({"unit_id": unit.id, "name": "班" * 101, "cohort": 2023}, "name"),
        ({"unit_id": 999_999, "name": "软件2301", "cohort": 2023}, "unit_id"),
        ({"name": "软件2301", "cohort": 2023}, "unit_id"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/classes", json=body, headers=headers)
        assert r.status_code == 422, (body, r.get_json())
        assert field in r.get_json()["error"]["fields"], (body, r.get_json())
    assert classes_in(session) == [] and events(session, "class.create") == []
    r = client.post("/api/v1/classes", json={"unit_id": unit.id, "name": "班" * 100, "cohort": 2200}, headers=headers)
    assert r.status_code == 201


def test_only_admin_creates_classes(client, make, session, app):
    unit = make.unit()
    for who in (make.organizer(), make.leader(), make.student()):
        r = client.post("/api/v1/classes", json={"unit_id": unit.id, "name": "软件2301", "cohort": 2023},
                        headers=make.token(who))
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
        with app.test_client() as browser:
            sign_in(browser, who)
            assert browser.get("/admin/classes").status_code == 403
            r = browser.post("/admin/classes", data={"unit_id": unit.id, "name": "软件2301", "cohort": "2023"})
            assert r.status_code == 403
    r = client.post("/api/v1/classes", json={"unit_id": unit.id, "name": "软件2301", "cohort": 2023})
    assert r.status_code == 401
    assert classes_in(session) == [] and events(session, "class.create") == []


def test_signed_in_people_list_classes_by_unit_and_cohort(client, make, session):
    cs, ee = make.unit(), make.unit()
    session.add_all([
        SchoolClass(unit_id=cs.id, name="计算机2301", cohort=2023),
        SchoolClass(unit_id=cs.id, name="计算机2401", cohort=2024),
        SchoolClass(unit_id=ee.id, name="电子2301", cohort=2023),
    ])
    session.commit()
    headers = make.token(make.student())
    everything = client.get("/api/v1/classes", headers=headers).get_json()
    assert everything["total"] == 3 and len(everything["items"]) == 3
    of_cs = client.get(f"/api/v1/classes?unit_id={cs.id}", headers=headers).get_json()
    assert sorted(c["name"] for c in of_cs["items"]) == ["计算机2301", "计算机2401"] and of_cs["total"] == 2
    r = client.get(f"/api/v1/classes?unit_id={cs.id}&cohort=2023", headers=headers).get_json()
    assert [(c["name"], c["cohort"], c["unit_id"]) for c in r["items"]] == [("计算机2301", 2023, cs.id)]
    paged = client.get("/api/v1/classes?per_page=2&page=2", headers=headers).get_json()
    assert paged["total"] == 3 and len(paged["items"]) == 1
    assert client.get("/api/v1/classes?cohort=abc", headers=headers).status_code == 422
    assert client.get("/api/v1/classes").status_code == 401


def test_classes_page_counts_students_and_creates_a_class(client, make, session):
    admin, cs, ee = make.admin(), make.unit(code="CS", name="计算机学院"), make.unit(code="EE", name="电子学院")
    a = SchoolClass(unit_id=cs.id, name="计算机2305", cohort=2023)
    b = SchoolClass(unit_id=ee.id, name="电子2401", cohort=2024)
    session.add_all([a, b])
    session.commit()
    for student in (make.student(unit=cs), make.student(unit=cs), make.student(unit=ee)):
        student.class_id = a.id if student.unit_id == cs.id else b.id
    session.commit()
    sign_in(client, admin)
    html = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/classes"' in html  # in the admin's navigation
    html = client.get("/admin/classes").get_data(as_text=True)
    assert "计算机2305" in html and "电子2401" in html
    assert '<td class="num">2023</td><td class="num">2</td>' in html
    assert '<td class="num">2024</td><td class="num">1</td>' in html
    for name in ("unit_id", "name", "cohort"):
        assert f'<label for="{name}">' in html
    filtered = client.get(f"/admin/classes?unit_id={ee.id}").get_data(as_text=True)
    assert "电子2401" in filtered and "计算机2305" not in filtered
    assert "计算机2305" not in client.get("/admin/classes?cohort=2024").get_data(as_text=True)

    r = client.post("/admin/classes", data={"unit_id": str(cs.id), "name": "计算机2302", "cohort": "2023"})
    assert r.status_code == 302
    assert ("计算机2302", 2023) in classes_in(session, cs)
    again = client.post("/admin/classes", data={"unit_id": str(cs.id), "name": "计算机2302", "cohort": "2023"})
    assert again.status_code == 409 and "已被占用" in again.get_data(as_text=True)
    bad = client.post("/admin/classes", data={"unit_id": "", "name": "", "cohort": "1800"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="unit_id-msg" class="field-error"' in html and 'id="cohort-msg" class="field-error"' in html
    assert session.execute(select(func.count()).select_from(SchoolClass)).scalar_one() == 3
    assert session.execute(select(func.count()).select_from(User).where(User.class_id == a.id)).scalar_one() == 2
