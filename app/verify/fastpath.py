"""The public verifications, answered without the web framework's request handling.

A QR link's page (/v/<serial>?… or /V/<serial>/<digits>) and the JSON verify
(GET /api/v1/verify/<serial>) asked by an anonymous visitor are answered here: still counted
against the client's verification budget, the transcript's status read from the database and the
link's signature checked on every request, the page rendered with the view's own template and
the JSON with the API's own schema — only Flask's dispatch is skipped (its hooks, the rate
limiter's, the session's, the unit of work's commit): on the big school that dispatch cost as
much as the bare view bench/scale.py holds these answers to (bench/_scale_floor.py), and these
are the requests every employer's scan makes. Anything else — an unknown serial, a spent
budget, a signed-in visitor, a chosen language, an error — goes to the Flask views, which
answer it properly.

The answer is in the visitor's language, chosen as app/i18n.py chooses it. Only the browser's
Accept-Language can be read without Flask: a `?lang=` (which is remembered in the session) or a
session cookie (which may carry a choice, or a signed-in account's) goes to the view.
"""

from __future__ import annotations

from flask import Flask, Response, g
from flask_babel import force_locale, refresh
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header, parse_cookie

from app import i18n
from app.api import PREFIX
from app.security import headers_for
from app.services import verification
from app.services.errors import NotFound

JSON_PATH = f"{PREFIX}/verify/"


class VerifyFastPath:
    def __init__(self, app: Flask):
        self.app = app
        self.next = app.wsgi_app
        self.html_headers = [*headers_for(app.config, html=True), ("Vary", "Accept-Language")]
        self.json_headers = [*headers_for(app.config, html=False), ("Vary", "Accept-Language")]
        self.session_cookie = app.config.get("SESSION_COOKIE_NAME") or "session"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and (path[:3] in ("/v/", "/V/") or path.startswith(JSON_PATH)) \
                and self.anonymous(environ):
            try:
                response = self._answer(environ, path, environ.get("QUERY_STRING", ""))
            except Exception:  # noqa: BLE001 — whatever went wrong, the Flask view handles it properly
                response = None
            if response is not None:
                return response(environ, start_response)
        return self.next(environ, start_response)

    def anonymous(self, environ) -> bool:
        """No session (which may hold a language or a signed-in account): only the view can tell."""
        return self.session_cookie not in parse_cookie(environ.get("HTTP_COOKIE", ""))

    @staticmethod
    def language(environ) -> str:
        """'zh_CN' or 'en' as app/i18n.py chooses it for an anonymous visitor who asked no ?lang=."""
        accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
        return i18n.known(accept.best_match(i18n.ACCEPTED)) or i18n.DEFAULT

    def _answer(self, environ, path: str, query: str) -> Response | None:
        from app.api.transcripts import verification_body
        from app.verify import presented_link, signed_query, verify_page

        if "\x00" in path or "%00" in query:
            return None  # refused by the app (app._refuse_nul)
        if path.startswith(JSON_PATH):
            serial = path[len(JSON_PATH):]
            if not serial or "/" in serial or query:
                return None  # /verify/pdf is a POST; a ?lang= choice is the view's
            # No request to speak of: the JSON needs the visitor's language, not their session.
            with self.app.app_context(), force_locale(i18n.BABEL_LOCALES[self.language(environ)]):
                view = self._counted_view(environ, serial, None)
                if view is None:
                    return None
                response = self.app.json.response(verification_body(view))  # as jsonify makes it
            response.headers.extend(self.json_headers)
            return response
        presented = presented_link(self.app.config["PUBLIC_BASE_URL"], path, query)
        if presented is None or presented[1] is None or signed_query(query) != query \
                or (query and presented[2] != query):
            return None  # a ?lang= choice, no signed link: the view answers (and remembers)
        serial, link, key = presented
        with self.app.request_context(environ):
            # As the app's first hooks do (i18n, web.auth): `g` outlives a request when an app
            # context was open already (a test), and the language and the visitor are this one's.
            g.pop("chosen_locale", None)
            g.pop("_login_user", None)
            refresh()
            view = self._counted_view(environ, serial, link)
            if view is None:
                return None
            return Response(verify_page(view, key), 200, self.html_headers, mimetype="text/html")

    def _counted_view(self, environ, serial: str, link: str | None) -> verification.PublicView | None:
        """The transcript as the public sees it, this verification counted; None when the view
        must answer (a spent budget: 429; an unknown serial: 404)."""
        from app.extensions import db
        from app.verify import COUNTED, verify_budget_allows

        if not verify_budget_allows(self.app.config, environ.get("REMOTE_ADDR", "")):
            return None
        environ[COUNTED] = True
        try:
            return verification.public_view(db.engine, serial, link)
        except NotFound:
            return None
