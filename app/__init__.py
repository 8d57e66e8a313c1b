"""Second Transcript: the application factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, request
from flask_babel import gettext
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.routing import IntegerConverter

from app import i18n, security
from app.config import Defaults, from_environment
from app.extensions import csrf, db, limiter, login_manager, migrate, private_sqlite_file, sqlite_pragmas

ROOT = Path(__file__).resolve().parent.parent


# The two ways a claim and its evidence come in (the API and the page): their bodies may hold
# several files, up to EVIDENCE_MAX_BYTES each; every other request keeps MAX_CONTENT_LENGTH.
EVIDENCE_ENDPOINTS = frozenset({"claims.create_claim", "web.new_claim"})


def _evidence_uploads(app: Flask) -> None:
    @app.before_request
    def room_for_evidence():
        if request.endpoint in EVIDENCE_ENDPOINTS:
            config = app.config
            # One file too large is named by the service; far beyond that the body is refused (413).
            request.max_content_length = 2 * config["EVIDENCE_MAX_FILES"] * config["EVIDENCE_MAX_BYTES"] + 2**20


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
    _evidence_uploads(app)  # before CSRF, whose check reads the form
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    _unit_of_work(app)

    app.url_map.converters["int"] = DatabaseIdConverter
    from app import api, cli, jobs, translate, verify, web

    jobs.init_app(app)  # the job queue, and its jobs enqueued after each commit
    api.init_app(app)
    verify.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    translate.init_app(app)
    _refuse_nul(app)
    security.init_app(app)
    security.trust_proxies(app)  # last: the outermost middleware, before the verify fast path
    return app


def _unit_of_work(app: Flask) -> None:
    """A request is one transaction: services change and flush, and it commits here once.

    A response below 400 commits; an error (a domain error, a refused form, an exception)
    rolls back whatever the services flushed, so a failed use case changes nothing.
    """

    from app.services import tallies

    tallies.install()  # the per-term tallies settle in each commit

    @app.after_request
    def commit_or_roll_back(response):
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response


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
            abort(422, description=gettext("The request contains a NUL character"))
