"""Single sign-on (统一身份认证) through the school's identity system: CAS 3.0 and OpenID Connect.

Each protocol is on only when its server is set (`CAS_SERVER_URL`, `OIDC_ISSUER`); off, its
routes answer 404 and the sign-in page shows no button for it. The identity server says who
the person is; `services.sso` finds the account that names (`SSO_MATCH`: by username or by
student number) and never creates one. A success starts the same server-side session as a
password (`begin_session`, audited with the method).

The addresses the identity server sends the browser back to are built from
`PUBLIC_BASE_URL`, so they are the ones registered with the school whatever host a proxy
forwarded: `/login/cas` (the CAS service) and `/login/oidc/callback` (the redirect URI).

CAS: `/login/cas` sends the browser to CAS with a service URL that carries a random value
kept in this session; CAS comes back with `?ticket=`, validated at `p3/serviceValidate` for
exactly that service URL, so a ticket issued to someone else's sign-in (login CSRF) or a
forged one is refused. OpenID Connect: authorization code flow with PKCE (S256), `state`
and `nonce` checked by Authlib, the ID token's signature, issuer and audience verified
against the provider's discovery document.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from cas import CASClient
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from joserfc.errors import JoseError

from app.extensions import db, limiter
from app.i18n import pick
from app.services import auth, sso
from app.services.errors import DomainError, Forbidden, Unauthorized
from app.web import ERROR_TITLES, bp
from app.web.auth import begin_session
from app.web.support import home_url, safe_next

log = logging.getLogger(__name__)

OIDC_CLIENT = "school"
TIMEOUT = 10  # seconds for each call to the identity server
NEXT_KEY = "sso_next"
CAS_STATE_KEY = "sso_cas_state"

# Lazy: each is turned into text (str) in the reader's language when it is raised.
STARTED_ELSEWHERE = _l("This sign-in expired or did not start here; go back to the sign-in page and try again.")
BAD_TICKET = _l("The school sign-in ticket is invalid or expired; please sign in again.")
REFUSED = _l("The school sign-in was cancelled or refused; please sign in again.")
UNREACHABLE = _l("The school sign-in service cannot be reached; try again later.")


class Unreachable(DomainError):
    status = 502
    code = "bad_gateway"


@bp.record_once
def _configure(state) -> None:
    """Check the settings when the app starts and register the OpenID Connect client."""
    app = state.app
    sso.check_match_field(app.config.get("SSO_MATCH") or "username")
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    if not app.config.get("OIDC_CLIENT_ID"):
        raise ValueError("OIDC_ISSUER is set, so OIDC_CLIENT_ID (and OIDC_CLIENT_SECRET) must be too")
    oauth = OAuth(app)
    oauth.register(
        OIDC_CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET") or None,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile", "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT},
    )


def _public_url(endpoint: str, **params) -> str:
    """This endpoint on the public origin: what is registered with the identity server."""
    path = url_for(endpoint)
    query = f"?{urlencode(params)}" if params else ""
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}{query}"


def _refused(error: DomainError, method: str, value: str | None = None):
    """The bilingual page that says why, with the way back to the sign-in page; no session."""
    db.session.rollback()
    log.warning("single sign-on (%s) refused%s: %s", method, f" for {value!r}" if value else "", error.message)
    auth.record_refused_sign_in(db.session, method, value, error.code, client=request.remote_addr or "")
    return render_template("web/sso_error.html", code=error.status, title=_title(error.status),
                           message=error.message), error.status


def _title(status: int) -> str:
    if status == 403:
        return _("Cannot sign in")
    title = ERROR_TITLES.get(status)
    if title is None:
        return _("Sign-in failed")
    return pick(title) if isinstance(title, tuple) else str(title)


def _remember_next() -> None:
    target = safe_next(request.args.get("next"))
    if target:
        session[NEXT_KEY] = target
    else:
        session.pop(NEXT_KEY, None)


def _sign_in(value: str | None, method: str):
    """The account the identity names, signed in; or the page that says why not."""
    try:
        user = sso.account_for_identity(db.session, current_app.config["SSO_MATCH"], value)
    except DomainError as error:
        session.pop(NEXT_KEY, None)
        return _refused(error, method, value)
    target = safe_next(session.pop(NEXT_KEY, None))
    begin_session(user, method)
    flash(_("Welcome, %(name)s", name=user.display_name), "success")
    return redirect(target or home_url(user))


# ---- CAS 3.0 ---------------------------------------------------------------------------------

class _TimeoutSession(requests.Session):
    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


def _cas_client(state: str) -> CASClient:
    server = current_app.config["CAS_SERVER_URL"]
    return CASClient(
        version=3,
        server_url=server if server.endswith("/") else server + "/",  # login, p3/serviceValidate
        service_url=_public_url("web.sso_cas", state=state),
        session=_TimeoutSession(),
    )


def _cas_identity(user: str, attributes: dict | None) -> str | None:
    name = current_app.config.get("CAS_USER_ATTRIBUTE")
    if not name:
        return user
    value = (attributes or {}).get(name)
    if isinstance(value, list):  # a multi-valued attribute: the first names the account
        value = value[0] if value else None
    if value is None:
        raise Forbidden(
            _("The school sign-in did not release the attribute %(name)s; ask the IT office.", name=name)
        )
    return str(value)


@bp.get("/login/cas")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def sso_cas():
    if not current_app.config.get("CAS_SERVER_URL"):
        abort(404)
    ticket = request.args.get("ticket")
    if not ticket:
        if current_user.is_authenticated and not request.args.get("next"):
            return redirect(home_url(current_user))
        _remember_next()
        state = secrets.token_urlsafe(16)
        session[CAS_STATE_KEY] = state
        return redirect(_cas_client(state).get_login_url())

    expected = session.pop(CAS_STATE_KEY, None)
    given = request.args.get("state", "")
    if not expected or not hmac.compare_digest(expected, given):
        return _refused(DomainError(str(STARTED_ELSEWHERE)), "cas")
    try:
        user, attributes, _ = _cas_client(expected).verify_ticket(ticket)
    except requests.RequestException as error:
        log.warning("CAS validation failed: %s", error)
        return _refused(Unreachable(str(UNREACHABLE)), "cas")
    except Exception as error:  # an answer that is not CAS XML
        log.warning("CAS validation answer unreadable: %r", error)
        return _refused(Unauthorized(str(BAD_TICKET)), "cas")
    if not user:
        return _refused(Unauthorized(str(BAD_TICKET)), "cas")
    try:
        value = _cas_identity(user, attributes)
    except DomainError as error:
        return _refused(error, "cas", user)
    return _sign_in(value, "cas")


# ---- OpenID Connect --------------------------------------------------------------------------

def _oidc_client():
    if not current_app.config.get("OIDC_ISSUER"):
        abort(404)
    return current_app.extensions["authlib.integrations.flask_client"].create_client(OIDC_CLIENT)


@bp.get("/login/oidc")
def sso_oidc():
    client = _oidc_client()
    if current_user.is_authenticated and not request.args.get("next"):
        return redirect(home_url(current_user))
    _remember_next()
    try:
        return client.authorize_redirect(_public_url("web.sso_oidc_callback"))
    except (requests.RequestException, ValueError) as error:  # discovery failed
        log.warning("OpenID Connect discovery failed: %s", error)
        return _refused(Unreachable(str(UNREACHABLE)), "oidc")


def _check_issuer(client, iss: str | None) -> None:
    """The discovery document and the answer (RFC 9207 `iss`) name the issuer we were given."""
    issuer = current_app.config["OIDC_ISSUER"].rstrip("/")
    named = (client.load_server_metadata().get("issuer") or "").rstrip("/")
    if named != issuer or (iss is not None and iss.rstrip("/") != issuer):
        log.warning("OpenID Connect issuer mismatch: configured %r, discovery %r, answer %r", issuer, named, iss)
        raise Unauthorized(str(BAD_TICKET))


def _oidc_identity(client, token: dict) -> str | None:
    """The configured claim (OIDC_CLAIM), from the ID token or else the userinfo endpoint."""
    claims = dict(token.get("userinfo") or {})
    name = current_app.config.get("OIDC_CLAIM") or "preferred_username"
    if not claims.get("sub"):
        raise Unauthorized(str(BAD_TICKET))
    if name not in claims and client.load_server_metadata().get("userinfo_endpoint"):
        extra = client.userinfo(token=token)
        if extra.get("sub") != claims["sub"]:  # OIDC Core 5.3.2: must be the same person
            raise Unauthorized(str(BAD_TICKET))
        claims.update({k: v for k, v in extra.items() if k not in claims})
    value = claims.get(name) or claims["sub"]
    return str(value)


@bp.get("/login/oidc/callback")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def sso_oidc_callback():
    client = _oidc_client()
    try:
        _check_issuer(client, request.args.get("iss"))
        token = client.authorize_access_token()  # state, then code + PKCE verifier, then ID token
        value = _oidc_identity(client, token)
    except MismatchingStateError:  # no sign-in with this state was started in this browser
        session.pop(NEXT_KEY, None)
        return _refused(DomainError(str(STARTED_ELSEWHERE)), "oidc")
    except DomainError as error:
        return _refused(error, "oidc")
    except OAuthError as error:  # the provider said no (error=…), or refused the code
        log.warning("OpenID Connect refused: %s %s", error.error, error.description)
        return _refused(Unauthorized(str(REFUSED)), "oidc")
    except JoseError as error:  # a bad ID token: signature, issuer, audience, nonce, expiry
        log.warning("OpenID Connect ID token refused: %s", error)
        return _refused(Unauthorized(str(BAD_TICKET)), "oidc")
    except requests.RequestException as error:
        log.warning("OpenID Connect token request failed: %s", error)
        return _refused(Unreachable(str(UNREACHABLE)), "oidc")
    return _sign_in(value, "oidc")
