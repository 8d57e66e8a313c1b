"""Settings read from the environment (API.md, "Running it"); every one optional locally."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def _instance_secret(instance_path: Path) -> str:
    """Keep a generated SECRET_KEY under instance/ so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process (a second worker) made it first: use theirs
        return _written_secret(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _written_secret(path: Path) -> str:
    """The other process's key, once it has finished writing it."""
    for _ in range(100):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} stays empty")


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        instance_path.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{instance_path / 'second_transcript.db'}"
    # Heroku-style URLs name the old driver; psycopg 3 is what we install.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def from_environment(instance_path: Path) -> dict:
    env = os.environ
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or _instance_secret(instance_path),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "INSTITUTION_NAME": env.get("INSTITUTION_NAME", "示范大学 Demo University"),  # data: the demo school
        "SIGNING_KEY_DIR": env.get("SIGNING_KEY_DIR", str(instance_path / "keys")),
        # The transcripts' PDF (PAdES) signature: the school's certificate chain and key (PEM), or a
        # PKCS#12 file with its password; unset, a self-signed school certificate under SIGNING_KEY_DIR.
        "SIGNING_CERT": env.get("SIGNING_CERT", "").strip(),
        "SIGNING_CERT_KEY": env.get("SIGNING_CERT_KEY", "").strip(),
        "SIGNING_CERT_PASSWORD": env.get("SIGNING_CERT_PASSWORD", ""),
        # An RFC 3161 timestamp server: the signature gets a timestamp and a document timestamp (B-LTA).
        "TSA_URL": env.get("TSA_URL", "").strip(),
        "TRANSCRIPT_DIR": env.get("TRANSCRIPT_DIR", str(instance_path / "transcripts")),
        # Achievement claims' evidence files, by content hash: outside the web root, in the backup.
        "EVIDENCE_DIR": env.get("EVIDENCE_DIR", str(instance_path / "evidence")),
        "EVIDENCE_MAX_BYTES": int(env.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024))),
        "EVIDENCE_MAX_FILES": int(env.get("EVIDENCE_MAX_FILES", "5")),
        # A claim is worth at most this many hours; longer outside work is several claims.
        "CLAIM_MAX_HOURS": env.get("CLAIM_MAX_HOURS", "40"),
        # A rejection (or a missing record) may be appealed up to this many days after it.
        "APPEAL_DAYS": int(env.get("APPEAL_DAYS", "30")),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "local://"),
        "TIMEZONE": env.get("TIMEZONE", "Asia/Shanghai"),
        "TOKEN_LIFETIME_HOURS": int(env.get("TOKEN_LIFETIME_HOURS", "12")),
        # A browser session ends after this long even if its cookie is kept.
        "SESSION_LIFETIME_HOURS": int(env.get("SESSION_LIFETIME_HOURS", "12")),
        # Wrong passwords per account (API.md: after 10 misses in 15 minutes the account waits).
        "ACCOUNT_LOCKOUT": env.get("ACCOUNT_LOCKOUT", "10 per 15 minutes"),
        # How many proxy hops (load balancer, nginx) put the client's address in X-Forwarded-For.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Per client address: enough for an employer, too few to walk through serials.
        "VERIFY_RATE_LIMIT": env.get("VERIFY_RATE_LIMIT", "60 per minute; 600 per hour"),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute; 100 per hour"),
        "VERIFY_MAX_UPLOAD": int(env.get("VERIFY_MAX_UPLOAD", str(5 * 1024 * 1024))),
        # Single sign-on (统一身份认证): each protocol is on only when its server is given.
        "CAS_SERVER_URL": env.get("CAS_SERVER_URL", "").strip(),
        "CAS_USER_ATTRIBUTE": env.get("CAS_USER_ATTRIBUTE", "").strip(),  # empty: the CAS user
        "OIDC_ISSUER": env.get("OIDC_ISSUER", "").strip().rstrip("/"),
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET", ""),
        "OIDC_CLAIM": env.get("OIDC_CLAIM", "").strip() or "preferred_username",
        "SSO_MATCH": env.get("SSO_MATCH", "").strip() or "username",  # or student_no
        # One-time password links (activation of an imported account, a reset): a link mailed at
        # the start of term must survive a weekend.
        "PASSWORD_RESET_HOURS": int(env.get("PASSWORD_RESET_HOURS", "72")),
        # E-mail (the reset links): on only when MAIL_SERVER is given.
        "MAIL_SERVER": env.get("MAIL_SERVER", "").strip(),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "").strip(),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "").strip().lower() in ("1", "true", "yes", "on"),  # STARTTLS
        # The job queue (Huey) that mails the notifications and runs the organizers' daily digest:
        # SQLite on one machine (`make run`), Redis in production; `flask --app app worker` consumes it.
        "JOB_QUEUE_URL": env.get("JOB_QUEUE_URL", "").strip() or f"sqlite:///{instance_path / 'jobs.db'}",
        "JOB_QUEUE_NAME": env.get("JOB_QUEUE_NAME", "").strip() or "second-transcript",  # its keys in Redis
        # A mail the server did not take is tried again this many seconds later (3 times).
        "JOB_RETRY_DELAY_S": int(env.get("JOB_RETRY_DELAY_S", "30")),
        # On-site check-in: the venue's QR code changes every period; the previous one still works.
        "CHECK_IN_PERIOD_S": int(env.get("CHECK_IN_PERIOD_S", "15")),
        # A leader's late entry for a failed scan: up to this many days after the end.
        "LATE_ENTRY_DAYS": int(env.get("LATE_ENTRY_DAYS", "7")),
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "").strip().lower() in ("1", "true", "yes", "on"),  # port 465
        # The graduation batch (services/batches): students per chunk a worker claims, and how long a
        # claimed chunk may go without a heartbeat before another worker takes it over (its worker died).
        "BATCH_CHUNK_SIZE": int(env.get("BATCH_CHUNK_SIZE", "20")),
        "BATCH_CLAIM_TIMEOUT_S": int(env.get("BATCH_CLAIM_TIMEOUT_S", "60")),
    }


class Defaults:
    """Values that do not depend on the environment."""

    API_TITLE = "Second Transcript API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    # Off: the X-RateLimit headers cost one more storage round trip on every request.
    RATELIMIT_HEADERS_ENABLED = False
    JSON_SORT_KEYS = False
    # Argon2 at the library's defaults; tests lower it (PASSWORD_HASH_FAST) to stay quick.
    PASSWORD_HASH_FAST = False
