"""The QR link's page, answered from the rendered-page cache without the web framework.

Every GET of a QR link (/v/<serial>?… or /V/<serial>/<digits>) still counts against the
client's verification budget, still reads the transcript's current status from the database,
and still checks the link's signature (cached per link and key set); only a page already rendered for exactly that
state is sent without going through Flask. Anything else — a first visit, an unknown
serial, a spent budget — goes to the Flask view, which renders and fills the cache.
This is the public path employers hit, so it is kept as short as it can be.

The page is in the visitor's language, chosen as app/i18n.py chooses it. Only the browser's
Accept-Language can be read without Flask: a `?lang=` (which is remembered in the session)
or a session cookie (which may carry a choice, or a signed-in account's) goes to the view.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from app import i18n
from app.security import headers_for
from app.services import verification
from app.services.errors import NotFound


class VerifyFastPath:
    def __init__(self, app: Flask):
        self.app = app
        self.next = app.wsgi_app
        self.headers = [*headers_for(app.config, html=True), ("Vary", "Accept-Language")]
        self.session_cookie = app.config.get("SESSION_COOKIE_NAME") or "session"

    def __call__(self, environ, start_response):
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "GET" and path[:3] in ("/v/", "/V/"):
            try:
                html = self._cached_page(environ, path, query)
            except Exception:  # noqa: BLE001 — whatever went wrong, the Flask view handles it properly
                html = None
            if html is not None:
                body = html.encode("utf-8")
                start_response("200 OK", [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    *self.headers,
                ])
                return [body]
        return self.next(environ, start_response)

    def language(self, environ) -> str | None:
        """'zh_CN' or 'en' as the view would choose it, or None when only the view can tell."""
        if self.session_cookie in parse_cookie(environ.get("HTTP_COOKIE", "")):
            return None
        accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        return i18n.known(accept.best_match(i18n.ACCEPTED)) or i18n.DEFAULT

    def _cached_page(self, environ, path: str, query: str) -> str | None:
        from app.extensions import db
        from app.verify import COUNTED, VIEW, cached_page, presented_link, signed_query, verify_budget_allows

        language = self.language(environ)
        presented = presented_link(self.app.config["PUBLIC_BASE_URL"], path, query)
        if language is None or presented is None or presented[1] is None or signed_query(query) != query \
                or (query and presented[2] != query):
            return None  # a ?lang= choice, a session, no signed link: the view answers (and remembers)
        serial, link, key = presented
        with self.app.app_context():
            if not verify_budget_allows(self.app.config, environ.get("REMOTE_ADDR", "")):
                return None  # the Flask view answers 429
            environ[COUNTED] = True
            try:
                view = verification.public_view(db.engine, serial, link)
            except NotFound:
                return None
            html = cached_page(view, language, key)
            if html is None:  # the view renders it: with this state, not read and checked twice
                environ[VIEW] = (serial, link, view)
            return html
