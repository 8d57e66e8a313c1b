"""Signed-in pages: forms → one service call → template or redirect (Post/Redirect/Get).

One blueprint, `web`, split over modules by subject (auth, home, admin, activities,
records). Domain errors that a form can show go next to its fields; the rest become an
error page in the layout. `render_http_error` and `render_domain_error` are also used by
the API blueprint for every non-API path.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Flask, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.services.errors import DomainError
from app.timeutil import to_local

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: ("请求有误", "Bad request"),
    401: ("请先登录", "Sign-in required"),
    403: ("无权访问", "Forbidden"),
    404: ("找不到页面", "Not found"),
    405: ("不支持的操作", "Method not allowed"),
    409: ("操作冲突", "Conflict"),
    413: ("上传内容太大", "Too large"),
    415: ("不支持的格式", "Unsupported media type"),
    422: ("输入有误", "Invalid input"),
    429: ("请求太频繁", "Too many requests"),
    500: ("服务器出错了", "Server error"),
}
ERROR_HINTS = {
    403: "你的账号不能打开这个页面。如需权限，请联系校团委。 "
         "Your account cannot open this page; ask the Youth League office if you need access.",
    404: "链接可能已失效，或记录已不存在。 The link may be old, or the record no longer exists.",
    409: "记录已被修改，请刷新后再试。 The record changed meanwhile; reload and try again.",
    413: "文件太大，请拆分后再上传。 The file is too large; split it and upload again.",
    429: "请稍后再试。 Please wait a moment and try again.",
    500: "请稍后再试；如果一直出现，请联系管理员。 "
         "Try again later; if it persists, tell the admin.",
}


def _error_page(code: int, message: str, fields: dict | None = None):
    zh, en = ERROR_TITLES.get(code, ("出错了", "Error"))
    try:
        html = render_template(
            "web/error.html", code=code, title_zh=zh, title_en=en, message=message,
            hint=ERROR_HINTS.get(code), fields=fields or {},
        )
    except Exception:  # the layout needs the database; never fail while reporting a failure
        log.exception("error page could not be rendered")
        html = (f'<!doctype html><meta charset="utf-8"><title>{code}</title>'
                f"<h1>{code} {zh} {en}</h1><p>{escape(message)}</p>")
    return html, code


def render_http_error(error: HTTPException):
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - a broken connection must not hide the error
        log.exception("rollback failed")
    if isinstance(error, CSRFError):
        message = ("表单已过期或来源不明，请返回刷新后重试。 "
                   "The form expired; go back, reload and try again.")
    elif (error.code or 500) >= 500:
        message = "服务器内部错误 Internal server error"
    else:
        message = error.description or error.name
    response = _error_page(error.code or 500, message)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        return (*response, {"Allow": ", ".join(error.valid_methods)})
    return response


def render_domain_error(error: DomainError):
    db.session.rollback()
    page = _error_page(error.status, error.message, error.fields)
    if getattr(error, "retry_after", None):  # a locked account (429)
        return (*page, {"Retry-After": str(error.retry_after)})
    return page


def _hours(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):.1f}"
    except InvalidOperation:  # a raw CSV cell being previewed
        return str(value)


def _local(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(moment)
    return local.strftime(fmt) if local else "—"


def _page_url(page: int, **extra) -> str:
    from flask import url_for

    args = {**request.view_args, **request.args.to_dict(), **extra, "page": page}
    return url_for(request.endpoint, **args)


def init_app(app: Flask) -> None:
    from app.web import (  # noqa: F401  each module adds its views to the blueprint
        activities,
        admin,
        auth,
        club_roster,
        home,
        people,
        records,
        roster,
        sso,
        transcripts,
    )

    login_manager.login_view = "web.login"
    login_manager.login_message = "请先登录 Please sign in"
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    app.config.setdefault("CSV_IMPORT_MAX_BYTES", 256 * 1024)
    app.jinja_env.filters["hours"] = _hours
    app.jinja_env.filters["local"] = _local
    app.jinja_env.globals["page_url"] = _page_url
    app.context_processor(home.navigation)
    app.register_blueprint(bp)
    from app.web.scorecards import bp as scorecards_bp

    app.register_blueprint(scorecards_bp)
