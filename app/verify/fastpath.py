"""The QR link's page, answered from the rendered-page cache without the web framework.

Every GET of /v/<serial>?… still counts against the client's verification budget, still
reads the transcript's current status from the database, and still checks the link's
signature (cached per link and key set); only a page already rendered for exactly that
state is sent without going through Flask. Anything else — a first visit, an unknown
serial, a spent budget — goes to the Flask view, which renders and fills the cache.
This is the public path employers hit, so it is kept as short as it can be.
"""

from __future__ import annotations

from flask import Flask

from app.security import headers_for
from app.services import transcripts
from app.services.errors import NotFound


class VerifyFastPath:
    def __init__(self, app: Flask):
        self.app = app
        self.next = app.wsgi_app
        self.headers = headers_for(app.config, html=True)

    def __call__(self, environ, start_response):
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith("/v/") and query and "/" not in path[3:]:
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

    def _cached_page(self, environ, path: str, query: str) -> str | None:
        from app.extensions import db
        from app.verify import COUNTED, cached_page, verify_budget_allows

        with self.app.app_context():
            if not verify_budget_allows(self.app.config, environ.get("REMOTE_ADDR", "")):
                return None  # the Flask view answers 429
            environ[COUNTED] = True
            link = f"{self.app.config['PUBLIC_BASE_URL']}{path}?{query}"
            try:
                view = transcripts.public_view(db.engine, path[3:], link)
            except NotFound:
                return None
            return cached_page(view)
