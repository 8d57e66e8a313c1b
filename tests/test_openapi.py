"""The OpenAPI document at /api/v1/openapi.json, checked by tools nobody here wrote.

openapi-spec-validator says the document is valid OpenAPI; it declares bearer auth on every
operation that wants a token and describes the error shape the API really answers
({"error": {"code", "message", "fields"}}). schemathesis then generates requests from the
document and finds no server error and no response the document does not describe.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from app.models import Membership, ParticipationStatus, User
from app.services import transcripts
from tests.test_api_errors import assert_error

API = "/api/v1"
PUBLIC = {("POST", "/auth/token"), ("POST", "/auth/password-reset"), ("GET", "/verify/{serial}"),
          ("POST", "/verify/pdf")}
EXAMPLES_PER_OPERATION = 12  # 50 operations: about 600 generated requests, the bound of the run


def _document(client) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), path.removeprefix(API), operation


def _resolve(document: dict, ref_or_object: dict) -> dict:
    while "$ref" in ref_or_object:
        node = document
        for part in ref_or_object["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        ref_or_object = node
    return ref_or_object


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_document_is_valid_openapi(client):
    document = _document(client)
    validate(document)  # raises on any violation of the OpenAPI 3.0 schema
    assert document["openapi"].startswith("3.")
    budget = document["components"]["schemas"]["ActivityIn"]["properties"]["budget"]
    assert budget["minimum"] == 0 and budget["type"] == "number"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_operation_that_wants_a_token_declares_bearer_auth(client, make):
    document = _document(client)
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    seen_public = set()
    for method, path, operation in _operations(document):
        if (method, path) in PUBLIC:
            seen_public.add((method, path))
            assert "security" not in operation, (method, path)
            continue
        assert operation.get("security") == [{"bearer": []}], (method, path)
        assert "401" in operation["responses"], (method, path)
        # And it means it: without a token the operation answers 401 in the error shape.
        url = API + re.sub(r"\{[^}]+\}", "1", path)
        assert_error(client.open(url, method=method, json={}), 401, "unauthorized")
    assert seen_public == PUBLIC


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_document_describes_the_real_error_shape(client, make):
    document = _document(client)
    error = _resolve(document, document["components"]["schemas"]["Error"])
    assert error["required"] == ["error"]
    detail = _resolve(document, error["properties"]["error"])
    assert set(detail["required"]) == {"code", "message", "fields"}
    assert detail["properties"]["fields"]["additionalProperties"]["type"] == "array"
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "UNPROCESSABLE_ENTITY",
                 "TOO_MANY_REQUESTS", "DEFAULT_ERROR"):
        schema = document["components"]["responses"][name]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name
    statuses = {status for _, _, op in _operations(document) for status in op["responses"]}
    assert {"401", "403", "404", "409", "422", "429", "default"} <= statuses
    token = document["paths"][f"{API}/auth/token"]["post"]["responses"]
    assert token["429"] == {"$ref": "#/components/responses/TOO_MANY_REQUESTS"}
    activity = document["paths"][f"{API}/activities/{{activity_id}}/approve"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= set(activity)
    # What the document says is what a real error looks like.
    w = make.world()
    fields = assert_error(client.post(f"{API}/clubs/{w.club.id}/activities", json={"title": ""},
                                      headers=make.token(w.admin)), 422, "validation_error")
    assert "title" in fields


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_a_deeply_nested_body_is_a_400_not_a_crash(client, make, body):
    w = make.world()
    for url in (f"{API}/auth/token", f"{API}/activities/{w.activity.id}/participations"):
        r = client.post(url, data=body, content_type="application/json", headers=make.token(w.admin))
        assert_error(r, 400, "bad_request")
    # Brackets inside strings are text, not nesting: such a body is read as usual.
    r = client.post(f"{API}/auth/token", json={"username": "[" * 5000, "password": "{" * 5000})
    assert_error(r, 401)


def _known_rows(session, make, w) -> dict:
    """Path parameters that name real rows: a club, its activity and member, a record, a transcript."""
    record = make.participation(w.activity, w.students[0], status=ParticipationStatus.CERTIFIED)
    membership = Membership(club_id=w.club.id, user_id=w.students[1].id, term="2025-2026-1")
    session.add(membership)
    session.flush()
    transcript = transcripts.issue_transcript(session, w.admin, w.students[0].student_no)
    session.commit()
    from app.services import batch_work, batches

    batch = batches.start_batch(session, w.admin, unit_id=w.unit.id)
    session.commit()
    batch_work.work(session, batch.id, "openapi")
    return {"batch_id": batch.id, "club_id": w.club.id, "activity_id": w.activity.id, "participation_id": record.id,
            "user_id": w.students[1].id, "membership_id": membership.id, "student_no": w.students[0].student_no,
            "serial": transcript.serial}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_schemathesis_finds_no_server_error_and_no_undocumented_response(app, session, make):
    """A bounded, deterministic schemathesis run over every operation of the document.

    Checks: not_a_server_error and response_schema_conformance (each response's body matches
    what the document says for its status). EXAMPLES_PER_OPERATION examples per operation,
    drawn from schemathesis' positive (valid per the document) and negative (invalid)
    generation, derandomized (Hypothesis' fixed seed), without the shrink phase, on SQLite
    only: the contract is the same on PostgreSQL and the suite's time budget is not. Every
    request carries a fresh admin token (an operation such as logout or a password change may
    end the previous one), against one small world (a club, an activity, a member, a certified
    record, an issued transcript) whose ids three cases in four use as path parameters.
    Nothing is excluded.
    """
    w = make.world()
    known = _known_rows(session, make, w)
    admin_id = w.admin.id
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)),
               real=st.integers(0, 3))
        def run(case, real):
            if real:  # three cases in four name rows that exist, so they get past the 404
                case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
            admin = session.get(User, admin_id)
            admin.active = True
            session.commit()
            case.call_and_validate(headers=make.token(admin),
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's findings, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert operations == 88
    assert not failures, "\n\n".join(failures)
