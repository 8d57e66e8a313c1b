"""Second Transcript: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.config import Defaults, from_environment
from sqlalchemy import event

from app.extensions import csrf, db, limiter, login_manager, migrate, sqlite_pragmas

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(Defaults)
    app.config.update(from_environment(Path(app.instance_path)))
    app.config.update(overrides or {})
    if app.config["PUBLIC_BASE_URL"].startswith("https://"):
        app.config.setdefault("SESSION_COOKIE_SECURE", True)
        app.config.setdefault("REMEMBER_COOKIE_SECURE", True)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from app import api, cli, verify, web

    api.init_app(app)
    verify.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    _security_headers(app)
    return app


def _security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html" and "charset" not in (response.content_type or ""):
            response.content_type = "text/html; charset=utf-8"
        return response
