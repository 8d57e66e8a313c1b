"""Second Transcript: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.routing import IntegerConverter

from app import security
from app.config import Defaults, from_environment
from app.extensions import csrf, db, limiter, login_manager, migrate, private_sqlite_file, sqlite_pragmas

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
    security.secure_cookies(app, overrides or {})

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
        private_sqlite_file(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", sqlite_pragmas)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    app.url_map.converters["int"] = DatabaseIdConverter
    from app import api, cli, verify, web

    api.init_app(app)
    verify.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    _refuse_nul(app)
    security.init_app(app)
    security.trust_proxies(app)  # last: the outermost middleware, before the verify fast path
    return app


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every route: ids past the 32-bit range name no row, so they are a 404."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul(app: Flask) -> None:
    @app.before_request
    def no_nul_characters():
        """A NUL byte in a path, query or form is never a person's text (PostgreSQL refuses it)."""
        if "\x00" in request.path:
            abort(404)
        values = list(request.args.values())
        # Multipart bodies are left unread here: their views set their own size limit first.
        if request.mimetype == "application/x-www-form-urlencoded":
            values += list(request.form.values())
        if any("\x00" in v for v in values):
            abort(422, description="请求中含有非法字符 The request contains a NUL character")
