"""Security headers, cookies and the client address: one place for the whole site.

- Every response: no sniffing, no framing, same-origin referrers; HSTS when the site is https.
- Every HTML page: a Content-Security-Policy that allows no inline or foreign script
  (app.js is the only script), so an injected `<script>` cannot run.
- Cookies are `Secure` whenever PUBLIC_BASE_URL is https.
- Behind a load balancer, TRUSTED_PROXIES hops of X-Forwarded-For/-Proto are believed
  (werkzeug's ProxyFix), so rate limits and the audit log see the real client; no hop is
  believed unless configured, since anyone can send the header.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

BASE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
# Inline styles stay allowed (a few bars are sized in the markup); scripts do not.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def is_https(config) -> bool:
    return config["PUBLIC_BASE_URL"].startswith("https://")


def headers_for(config, html: bool) -> list[tuple[str, str]]:
    """The security headers of one response (the verify fast path sends these too)."""
    headers = list(BASE_HEADERS)
    if html:
        headers.append(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
    if is_https(config):
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def secure_cookies(app: Flask, overrides: dict) -> None:
    """https sites send their session cookies only over https (unless a test says otherwise)."""
    if is_https(app.config):
        for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            if key not in overrides:
                app.config[key] = True


def trust_proxies(app: Flask) -> None:
    """Believe exactly TRUSTED_PROXIES hops of the forwarding headers (outermost middleware)."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response):
        html = response.mimetype == "text/html"
        for name, value in headers_for(app.config, html):
            response.headers.setdefault(name, value)
        if html and "charset" not in (response.content_type or ""):
            response.content_type = "text/html; charset=utf-8"
        return response
