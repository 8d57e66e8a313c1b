"""The demo school's student year: sign-ups (with a waiting line) for the coming weeks,
achievement claims in every state with real evidence files, and appeals. What the demo's people
wrote (titles, reasons, file names) is data, in demo_student_year.json beside this module."""

from __future__ import annotations

import functools
import io
import json
import random
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Activity, ActivityStatus, Participation, ParticipationStatus, User
from app.services import appeals, claims, registrations
from app.services.errors import DomainError
from app.services.evidence import Upload
from app.timeutil import utcnow


def _certificate_png(title: str, colour: tuple[int, int, int]) -> bytes:
    """A plain certificate-like picture (the default font draws Latin text only)."""
    image = Image.new("RGB", (900, 640), (252, 250, 244))
    pen = ImageDraw.Draw(image)
    pen.rectangle((20, 20, 880, 620), outline=colour, width=8)
    pen.text((80, 120), "CERTIFICATE", fill=colour)
    pen.text((80, 200), title, fill=(40, 40, 40))
    pen.ellipse((660, 420, 820, 580), outline=(200, 30, 30), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _photo_jpeg(rng: random.Random) -> bytes:
    """A 'phone photo' of a certificate: noisy, so it weighs what a photo weighs."""
    image = Image.effect_noise((1200, 900), 40).convert("RGB")
    ImageDraw.Draw(image).rectangle((150, 120, 1050, 780), fill=(235, 230, 215), outline=(90, 60, 30), width=10)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=rng.choice([70, 80]))
    return buffer.getvalue()


def _certificate_pdf(title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    import credentials

    if "DemoCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DemoCJK", str(credentials.FONT_FILE)))  # the transcript's own font
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    page.setFont("DemoCJK", 30)
    page.drawString(72, 700, words()["certificate"])
    page.setFont("Helvetica-Bold", 18)
    page.drawString(72, 668, "Certificate of Achievement")
    page.setFont("DemoCJK", 16)
    page.drawString(72, 620, title)
    page.showPage()
    page.save()
    return buffer.getvalue()


@functools.cache
def words() -> dict:
    return json.loads((Path(__file__).with_name("demo_student_year.json")).read_text("utf-8"))


def load(session: Session, rng: random.Random, today: date, members: list[User], zhang: User,
         reviewer: User) -> None:
    _sign_ups(session, rng, members, zhang)
    _claims(session, rng, today, members, zhang, reviewer)
    _appeal_of_a_rejected_record(session, members)


def _sign_ups(session: Session, rng: random.Random, members: list[User], zhang: User) -> None:
    upcoming = list(session.execute(
        select(Activity).where(Activity.status == ActivityStatus.APPROVED, Activity.starts_at > utcnow())
        .order_by(Activity.starts_at)
    ).scalars())
    for index, activity in enumerate(upcoming):
        if index == 0:
            # One popular activity: a few places and a waiting line behind them.
            activity.capacity = 6
            crowd = [zhang, *rng.sample([m for m in members if m.id != zhang.id], 8)]
        else:
            crowd = rng.sample(members, rng.randrange(3, 12))
            if index == 1 and zhang not in crowd:
                crowd.insert(0, zhang)
        session.flush()
        for student in crowd:
            try:
                registrations.register(session, student, activity.id)
            except DomainError:
                continue  # a leader of the club, say
    # zhang waits in the first line too: he signed up for a friend's place that was taken.
    if upcoming:
        first = upcoming[0]
        registrations.cancel(session, zhang, first.id)  # and a waiting student moved up
        registrations.register(session, zhang, first.id)


def _claims(session: Session, rng: random.Random, today: date, members: list[User], zhang: User,
            reviewer: User) -> None:
    owners = [zhang, zhang, zhang] + [m for m in members if m.id != zhang.id and m.unit_id == zhang.unit_id][:2]
    names, reasons = words()["file_names"], words()["reasons"]
    for row, owner in zip(words()["claims"], owners, strict=False):
        title, kind, outcome = row["title"], row["evidence"], row["outcome"]
        data = {"pdf": lambda t=title: _certificate_pdf(t), "png": lambda t=title: _certificate_png(t, (30, 80, 160)),
                "photo": lambda: _photo_jpeg(rng)}[kind]()
        files = [Upload(names[kind], data)]
        if kind == "pdf":
            files.append(Upload(names["second_photo"], _photo_jpeg(rng)))
        claim = claims.submit_claim(
            session, owner, files, title=title, module=row["module"], level=row["level"],
            occurred_on=today - timedelta(days=row["days_ago"]), hours=row["hours"], award=row["award"],
            description=words()["description"] % {"name": owner.display_name, "title": title},
        )
        if outcome in ("certified", "revoked"):
            claims.certify_claim(session, reviewer, claim.id, reasons["certify"])
        if outcome == "rejected":
            claims.reject_claim(session, reviewer, claim.id, reasons["reject"])
            appeals.open_appeal(session, owner, claim_id=claim.id, reason=reasons["claim_appeal"])
        if outcome == "revoked":
            claims.revoke_claim(session, reviewer, claim.id, reasons["revoke"])


def _appeal_of_a_rejected_record(session: Session, members: list[User]) -> None:
    """A student whose record was rejected appeals; the advisor answers (dismisses) it."""
    rejected = session.execute(
        select(Participation).where(Participation.status == ParticipationStatus.REJECTED).order_by(Participation.id)
    ).scalars().first()
    if rejected is None:
        return
    try:
        appeal = appeals.open_appeal(session, rejected.student, participation_id=rejected.id,
                                     reason=words()["reasons"]["record_appeal"])
    except DomainError:
        return  # its window has passed
    advisor = rejected.activity.club.advisors[0]
    appeals.resolve_appeal(session, advisor, appeal.id, "dismissed", words()["reasons"]["dismiss"])
