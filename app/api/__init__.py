"""The JSON API under /api/v1: parse → service → dump, errors in API.md's shape."""

from __future__ import annotations

import re
from copy import deepcopy
from functools import wraps

import marshmallow as ma
from apispec import BasePlugin
from flask import Flask, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_babel.speaklater import LazyString
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.api.reasons import in_reader_language
from app.extensions import csrf, db
from app.i18n import known
from app.services.auth import user_for_token
from app.services.errors import DomainError

PREFIX = "/api/v1"
BODY_TYPES = {"application/json", "multipart/form-data"}

_SLUGS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


# The message of an HTTP error that says nothing more than its status (werkzeug's own text).
_MESSAGES = {
    400: _l("The request could not be understood"),
    401: _l("Sign-in required"),
    403: _l("Forbidden"),
    404: _l("Nothing here: check the address"),
    405: _l("This method is not allowed here"),
    409: _l("Conflict"),
    413: _l("The body is too large"),
    415: _l("Send the body as application/json"),
    422: _l("Invalid input"),
    429: _l("Too many requests; try again later"),
    500: _l("Internal server error"),
}


def error_body(status: int, message: str, fields: dict | None = None, code: str | None = None):
    """API.md's error shape; `message` and the reasons of `fields` are already in the reader's language."""
    return {"error": {"code": code or _SLUGS.get(status, "error"), "message": str(message),
                      "fields": {name: [str(r) for r in reasons] for name, reasons in (fields or {}).items()}}}


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests errors by location, field and list index; API.md wants dotted names."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if prefix == "" and key in ("json", "query", "form", "files", "path", "view_args"):
                out.update(_flatten(value, ""))
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str | LazyString) for m in messages):
        out[prefix or "_schema"] = [in_reader_language(m) for m in messages]
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


MAX_JSON_DEPTH = 32  # the deepest body of API.md is 3; json.loads recurses and would raise RecursionError
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+"')
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in raw JSON, without parsing it (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub(b'""', raw)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "A stable slug, e.g. validation_error"})
    message = ma.fields.String(required=True, metadata={"description": "Human text"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), required=True,
                            metadata={"description": "Reasons by dotted field name; empty when none"})


class ErrorSchema(ma.Schema):
    """Every error of the API: {"error": {"code", "message", "fields"}} (error_body)."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


SECURITY = [{"bearer": []}]


class ErrorResponsesPlugin(BasePlugin):
    """Documents the errors each operation can answer, all in ErrorSchema (an apispec plugin).

    401/403 where a token is required, 404 where the path names something, 409 where a
    protected operation changes state. 422 comes from @blp.arguments and 429 from
    @blp.alt_response next to the rate limits; any other status is the `default` response.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in [k for k in responses if isinstance(k, int)]:
                responses[str(status)] = responses.pop(status)
            protected = operation.get("security") == SECURITY
            if protected:
                responses.setdefault("401", "UNAUTHORIZED")
                responses.setdefault("403", "FORBIDDEN")
            if "{" in (path or ""):
                responses.setdefault("404", "NOT_FOUND")
            if protected and method.lower() in ("post", "put", "patch", "delete"):
                responses.setdefault("409", "CONFLICT")


class JsonErrorApi(Api):
    """flask-smorest, with its HTTP errors in API.md's shape (and HTML left to the pages)."""

    ERROR_SCHEMA = ErrorSchema  # what the document shows for every error response

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            from app.web import render_http_error

            return render_http_error(error)
        data = getattr(error, "data", None) or {}
        fields = _flatten(data["messages"]) if "messages" in data else {}
        message = data.get("message") or error.description or error.name
        if error.code == 422:
            message = _("Invalid input")
        elif error.code == 400 and "Invalid JSON" in f"{message} {fields}":
            message = _("The body is not valid JSON")
        elif error.code == 429 or error.description == type(error).description or (error.code or 500) >= 500:
            # werkzeug's English default (or a limit like "3 per 1 minute"): say it in the reader's language
            message = _MESSAGES.get(error.code or 500, message)
        response = jsonify(error_body(error.code or 500, str(message), fields))
        response.status_code = error.code or 500
        for key, value in error.get_headers():
            if key.lower() != "content-type":  # e.g. Allow on a 405, Retry-After on a 429
                response.headers[key] = value
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response


api = JsonErrorApi(spec_kwargs={"extra_plugins": [ErrorResponsesPlugin()]})


def current_actor():
    return g.actor


def _speak_the_accounts_language(user) -> None:
    """A token carries no session, so the account's saved language is read here (after ?lang=)."""
    saved = known(getattr(user, "locale", None))
    if saved and not getattr(g, "chosen_locale", None):
        g.chosen_locale = saved
        refresh()


def token_required(view):
    """Bearer token auth: a missing or bad token is 401 before anything else happens."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = user_for_token(db.session, token.strip())
        if user is None:
            response = jsonify(error_body(401, _("A valid bearer token is required")))
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        g.actor, g.token = user, token.strip()
        _speak_the_accounts_language(user)
        return view(*args, **kwargs)

    # The document says so: flask-smorest reads _apidoc["manual_doc"] as @blp.doc(security=...) writes it.
    wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    wrapper._apidoc.setdefault("manual_doc", {})["security"] = SECURITY
    return wrapper


def init_app(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
        }},
        "info": {"description": "Second Transcript — the JSON contract (API.md)."},
    })
    api.init_app(app)
    from app.api import (
        activities,
        audit,
        auth,
        batches,
        check_in,
        claims,
        classes,
        clubs,
        my_data,
        notifications,
        people,
        rules,
        scorecards,
        transcripts,
    )

    for module in (auth, people, classes, clubs, activities, check_in, claims, transcripts, scorecards, audit,
                   notifications, my_data, rules, batches):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if not is_api_request():
            from app.web import render_domain_error

            return render_domain_error(error)
        response = jsonify(error_body(error.status, error.message, error.fields, error.code))
        response.status_code = error.status
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.before_request
    def shallow_json_only():
        """A body nested deeper than MAX_JSON_DEPTH is refused before anything parses it recursively."""
        if is_api_request() and request.mimetype == "application/json":  # also a chunked body
            if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
                response = jsonify(error_body(400, _("The JSON body is nested deeper than %(max)s levels",
                                                     max=MAX_JSON_DEPTH)))
                response.status_code = 400
                return response

    @app.before_request
    def json_only():
        if (
            is_api_request()
            and request.method in ("POST", "PUT", "PATCH")
            and (request.content_length or 0) > 0
            and request.mimetype not in BODY_TYPES
        ):
            response = jsonify(error_body(415, _("Send the body as application/json")))
            response.status_code = 415
            return response
