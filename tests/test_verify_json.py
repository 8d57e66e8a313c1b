"""The public verify answer's records, built directly, are what the record schema dumps."""

from __future__ import annotations

from hypothesis import given, settings

from app.schemas.transcripts import VerificationSchema, VerifiedRecordSchema, record_json
from tests.credentials.strategies import records


@settings(max_examples=300, deadline=None)
@given(records)
def test_each_record_in_the_verify_answer_is_what_the_record_schema_dumps(record):
    assert record_json(record) == VerifiedRecordSchema().dump(record)


def test_the_openapi_document_still_describes_each_record():
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec("t", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Verification", schema=VerificationSchema)
    schemas = spec.to_dict()["components"]["schemas"]
    records = schemas["Verification"]["properties"]["records"]
    assert records["type"] == "array" and records["items"] == {"$ref": "#/components/schemas/VerifiedRecord"}
    assert set(schemas["VerifiedRecord"]["properties"]) == set(VerifiedRecordSchema().fields)
