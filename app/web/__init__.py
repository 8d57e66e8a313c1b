"""Signed-in pages (placeholder until the page set lands)."""

from __future__ import annotations

from flask import Flask, render_template_string
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.models import User
from app.services.errors import DomainError

_ERROR_PAGE = """<!doctype html><meta charset="utf-8"><title>{{ code }}</title>
<h1>{{ code }}</h1><p>{{ message }}</p>"""


def render_http_error(error: HTTPException):
    return render_template_string(_ERROR_PAGE, code=error.code, message=error.description), error.code


def render_domain_error(error: DomainError):
    return render_template_string(_ERROR_PAGE, code=error.status, message=error.message), error.status


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def init_app(app: Flask) -> None:
    pass
