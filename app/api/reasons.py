"""marshmallow's own reasons ("Missing data for required field.") in the reader's language.

Our fields give their reasons through gettext already; the library's built-in ones are fixed
English text, some with a number or a list filled in. They are matched here, once, when the
API answers 422 — the error codes and field names are never touched, only the human text.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

FIXED = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Field may not be null.": _l("Field may not be null."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Invalid input type."),
    "Invalid type.": _l("Invalid type."),
    "Invalid value.": _l("Invalid value."),
    "Invalid input.": _l("Invalid input."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Not a valid boolean.": _l("Not a valid boolean."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid mapping type."),
    "Not a valid datetime.": _l("Not a valid date and time."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid email address.": _l("Not a valid email address."),
    "Not a valid URL.": _l("Not a valid URL."),
    "Number too large.": _l("Number too large."),
    "Special numeric values (nan or infinity) are not permitted.": _l("NaN and infinity are not numbers here."),
    "String does not match expected pattern.": _l("Not in the expected form."),
}


def _shorter(m: re.Match) -> str:
    return _("Shorter than %(min)s characters.", min=m["min"])


def _longer(m: re.Match) -> str:
    return _("Longer than %(max)s characters.", max=m["max"])


def _between(m: re.Match) -> str:
    return _("Length must be between %(min)s and %(max)s.", min=m["min"], max=m["max"])


def _one_of(m: re.Match) -> str:
    return _("Must be one of: %(choices)s.", choices=m["choices"])


def _range(m: re.Match) -> str:
    return _("Must be from %(min)s to %(max)s.", min=m["min"], max=m["max"])


def _at_least(m: re.Match) -> str:
    return _("Must be at least %(min)s.", min=m["min"])


def _at_most(m: re.Match) -> str:
    return _("Must be at most %(max)s.", max=m["max"])


PATTERNS = (
    (re.compile(r"Shorter than minimum length (?P<min>\d+)\."), _shorter),
    (re.compile(r"Longer than maximum length (?P<max>\d+)\."), _longer),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."), _between),
    (re.compile(r"Must be one of: (?P<choices>.*)\."), _one_of),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\."),
     _range),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+)\."), _at_least),
    (re.compile(r"Must be less than or equal to (?P<max>\S+)\."), _at_most),
)


def in_reader_language(reason: object) -> str:
    """The reason as text in the reader's language (ours are lazy strings already)."""
    text = str(reason)
    fixed = FIXED.get(text)
    if fixed is not None:
        return str(fixed)
    for pattern, render in PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return render(m)
    return text
