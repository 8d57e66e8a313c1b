"""E-mail over SMTP (smtplib), on only when MAIL_SERVER is set.

A failed send never loses what it carried: `send` logs the failure and answers which
messages went, so the caller still shows the reset link on the page or the API.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale

from app.i18n import BABEL_LOCALES, DEFAULT, known

log = logging.getLogger(__name__)
TIMEOUT_S = 10


def configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def sender() -> str:
    config = current_app.config
    host = urlsplit(config["PUBLIC_BASE_URL"]).hostname or "localhost"
    return config.get("MAIL_DEFAULT_SENDER") or f"noreply@{host}"


def in_language_of(user):
    """A context in which gettext speaks the recipient's language: their saved choice, else Chinese."""
    return force_locale(BABEL_LOCALES[known(getattr(user, "locale", None)) or DEFAULT])


def message(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from the configured sender."""
    mail = EmailMessage()
    mail["From"] = sender()
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2] or None)
    mail.set_content(body, charset="utf-8")
    return mail


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    if config.get("MAIL_USE_SSL"):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp


def send(messages: list[EmailMessage]) -> list[bool]:
    """Send over one connection; for each message whether the server took it. Never raises."""
    if not messages:
        return []
    if not configured():
        return [False] * len(messages)
    sent = [False] * len(messages)
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail: cannot reach %s:%s (%s); %d message(s) not sent",
                    current_app.config["MAIL_SERVER"], current_app.config.get("MAIL_PORT"), error, len(messages))
        return sent
    try:
        for i, mail in enumerate(messages):
            try:
                smtp.send_message(mail)
                sent[i] = True
            except (smtplib.SMTPServerDisconnected, OSError) as error:
                log.warning("mail: server disconnected (%s); %d message(s) not sent", error, len(messages) - i)
                break
            except smtplib.SMTPException as error:
                log.warning("mail to %s refused: %s", mail["To"], error)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent
