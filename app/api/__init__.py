"""The JSON API under /api/v1: parse → service → dump, errors in API.md's shape."""

from __future__ import annotations

from functools import wraps

from flask import Flask, g, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from app.extensions import csrf, db
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


def error_body(status: int, message: str, fields: dict | None = None, code: str | None = None):
    return {"error": {"code": code or _SLUGS.get(status, "error"), "message": message,
                      "fields": fields or {}}}


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
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def is_api_request() -> bool:
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


class JsonErrorApi(Api):
    """flask-smorest, with its HTTP errors in API.md's shape (and HTML left to the pages)."""

    def handle_http_exception(self, error: HTTPException):
        if not is_api_request():
            from app.web import render_http_error

            return render_http_error(error)
        data = getattr(error, "data", None) or {}
        fields = _flatten(data["messages"]) if "messages" in data else {}
        message = data.get("message") or error.description or error.name
        if error.code == 422:
            message = "输入有误 Invalid input"
        elif error.code == 400 and "Invalid JSON" in str(message):
            message = "请求体不是合法的 JSON The body is not valid JSON"
        response = jsonify(error_body(error.code or 500, str(message), fields))
        response.status_code = error.code or 500
        for key, value in error.get_headers():
            if key.lower() != "content-type":  # e.g. Allow on a 405, Retry-After on a 429
                response.headers[key] = value
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response


api = JsonErrorApi()


def current_actor():
    return g.actor


def token_required(view):
    """Bearer token auth: a missing or bad token is 401 before anything else happens."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = user_for_token(db.session, token.strip())
        if user is None:
            response = jsonify(error_body(401, "需要有效的令牌 A valid bearer token is required"))
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        g.actor, g.token = user, token.strip()
        return view(*args, **kwargs)

    return wrapper


def init_app(app: Flask) -> None:
    app.config.setdefault("API_SPEC_OPTIONS", {
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
        }},
        "info": {"description": "第二课堂成绩单 Second Transcript — the JSON contract (API.md)."},
    })
    api.init_app(app)
    from app.api import activities, auth, classes, clubs, people, scorecards, transcripts

    for module in (auth, people, classes, clubs, activities, transcripts, scorecards):
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
    def json_only():
        if (
            is_api_request()
            and request.method in ("POST", "PUT", "PATCH")
            and (request.content_length or 0) > 0
            and request.mimetype not in BODY_TYPES
        ):
            response = jsonify(error_body(415, "请求体须为 JSON Send the body as application/json"))
            response.status_code = 415
            return response
