"""The printed labels of the transcript, as English message ids of the app's catalogs.

The transcript is bilingual by design: each label prints as its Chinese and its English
("编号 Serial: …").  The English is the message id below; the Chinese comes from a
translator the caller passes (a callable msgid → Chinese, e.g. the ``gettext`` of the
compiled zh_CN catalog), so the words on the paper and on the pages come from the same
catalog.  ``N_`` only marks an id for ``pybabel extract`` (babel.cfg reads this package
with the keyword ``N_``); it returns the id unchanged.

The library imports nothing from the app: the app passes
``app.i18n.catalog("zh_CN").gettext``; used alone (tests, ``python -m credentials``),
:func:`catalog_translator` reads a catalog directory such as ``app/translations``.

The vocabulary (modules, levels, roles) is data with both halves, in
:mod:`credentials.snapshot`, not here.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable
from pathlib import Path

Translator = Callable[[str], str]

#: The full-width colon of Chinese typesetting, after a bilingual label ("院系 Unit：…").
ZH_COLON = "\uff1a"
#: The folder of the Chinese catalog under a catalog directory (Babel's name for zh_CN).
ZH_LOCALE = "zh_Hans_CN"


def N_(msgid: str) -> str:  # noqa: N802 — the conventional name of a no-op marker
    """Mark ``msgid`` for extraction; translated when printed, by the caller's catalog."""
    return msgid


# the band at the top of every page
TITLE = N_("Second Transcript")
SUBTITLE = N_("Certified record of extracurricular activities")
SERIAL = N_("Serial")
DATE_OF_ISSUE = N_("Date of issue")
NAME = N_("transcript|Name")
STUDENT_NO = N_("Student No.")
SCAN_TO_VERIFY = N_("Scan to verify")
# the footer
PAGE_OF = N_("Page %(page)s of %(pages)s")
ISSUED = N_("transcript|Issued")
HOW_TO_VERIFY = N_("To verify: scan the QR code at the top right, or upload this PDF at %(url)s.")
# the student's details
UNIT = N_("College / Unit")
SCHOOL_CLASS = N_("Class")
# the summary
SUMMARY = N_("transcript|Summary")
TOTAL_HOURS = N_("Total hours")
HOURS_UNIT = N_("transcript|h")
ACTIVITIES = N_("transcript|Activities")
AWARDS = N_("transcript|Awards")
MODULES = N_("Modules")
# the requirement, under the summary (only when the cohort has credit rules)
REQUIREMENT = N_("transcript|Requirement")
REQUIREMENT_MET = N_("Requirement met under rule set %(rules)s")
REQUIREMENT_NOT_MET = N_("Requirement not met under rule set %(rules)s "
                         "(counted %(counted)s of %(required)s h)")
YEARLY_GRADES = N_("Yearly grades")
YEARS_PASSED = N_("Years passed: %(passed)s of %(required)s required")
GRADE_EXCELLENT = N_("Excellent")
GRADE_PASS = N_("Pass")
GRADE_FAIL = N_("Fail")
# the records
RECORDS_SECTION = N_("Certified records, grouped by module")
CONTINUED = N_("transcript|continued")
RECORDS = N_("transcript|records")
HOURS = N_("hours")
COL_DATE = N_("Date")
COL_ACTIVITY = N_("transcript|Activity")
COL_CLUB = N_("Club / organiser")
COL_LEVEL = N_("Level")
CLAIM = N_("Achievement claim")
COL_ROLE = N_("Role")
COL_HOURS = N_("Hours")
COL_AWARD = N_("Award")
COL_CERTIFIED_BY = N_("Certified by")
NO_RECORDS = N_("No certified records at the time of issue")
# the end of the records
END_OF_RECORDS = N_("End of records")
CLOSING_NOTE = N_("Note: every record listed was certified by the club's advisor or the Youth "
                  "League office; hours and awards are as certified.")
ISSUED_BY = N_("Issued by")
DIGITALLY_SIGNED = N_("Digitally signed")

ALL: tuple[str, ...] = tuple(v for k, v in sorted(globals().items())
                             if k.isupper() and isinstance(v, str) and k not in ("ZH_LOCALE", "ZH_COLON"))


class Labels:
    """The labels' Chinese, looked up once per document from the caller's translator.

    A label the catalog does not translate is an error, not an English-only line on a
    certificate: ``ValueError`` names the missing ids.
    """

    __slots__ = ("zh",)

    def __init__(self, zh: Translator, ids: tuple[str, ...] = ALL) -> None:
        if not callable(zh):
            raise ValueError("zh: expected a translator (a callable msgid -> Chinese)")
        table = {msgid: zh(msgid) for msgid in ids}
        missing = [m for m, t in table.items() if not t or t == m]
        if missing:
            raise ValueError("the catalog has no Chinese for: " + ", ".join(map(repr, missing)))
        self.zh = table

    @staticmethod
    def en(msgid: str, **values: object) -> str:
        """The English of ``msgid``: the id less its context, placeholders filled."""
        text = msgid.rpartition("|")[2]
        return text % values if values else text

    def __call__(self, msgid: str, **values: object) -> str:
        """The Chinese of ``msgid``, its named placeholders filled."""
        text = self.zh[msgid]
        return text % values if values else text

    def both(self, msgid: str, sep: str = " ", **values: object) -> str:
        """Chinese, ``sep``, English: "编号 Serial"."""
        return f"{self(msgid, **values)}{sep}{self.en(msgid, **values)}"


def catalog_translator(directory: str | os.PathLike[str], locale: str = ZH_LOCALE,
                       domain: str = "messages") -> Translator:
    """The ``gettext`` of a compiled catalog: ``directory/<locale>/LC_MESSAGES/<domain>.mo``.

    ``FileNotFoundError`` if there is none (a transcript is never printed without its
    Chinese).
    """
    path = Path(directory) / locale / "LC_MESSAGES" / f"{domain}.mo"
    with path.open("rb") as f:
        return gettext.GNUTranslations(f).gettext
