"""How raw figures become 0–100 scores: the data the indicators read (``Facts``), the
results (``Indicator``, ``Dimension``, ``Scorecard``) and the rules (``score_facts``).

Pure: nothing here touches the database (see ``facts``); the thresholds and the vocabulary
are in ``indicators``.  An indicator's raw figures in words (``Indicator.detail``) are a
lazy message, rendered in the reader's language when read.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from flask_babel import force_locale, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.i18n import BABEL_LOCALES, pick
from app.services.scorecard.indicators import (
    ACTIVE_SHARE_FULL,
    APPROVED_SHARE_FULL,
    ATTENDANCE_SHARE_FULL,
    AWARD_POINTS_FULL,
    DIMENSION_KEYS,
    DIMENSION_LABELS,
    HOURS_PER_MEMBER_FULL,
    INDICATORS,
    MIN_ADVISORS,
    MIN_LEADERS,
    OUTCOME_REPORTS_FULL,
    OUTCOME_SHARE_FULL,
    PARTNER_SHARE_FULL,
    PLAN_SHARE_FULL,
    REACH_SHARE_FULL,
    REJECTED_SHARE_ZERO,
    SIGNOFF_LATE_DAYS,
    SIGNOFF_PROMPT_DAYS,
    VOLUNTEER_HOURS_FULL,
    WEAK_SCORE,
)


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is used (``_of``)."""
    return message


# =========================================================================== data


@dataclass
class Facts:
    """The raw figures of one club in one term, as counted from the records."""

    advisors: int = 0
    leaders: int = 0
    charter: bool = False
    roster: int = 0
    active_roster: int = 0
    elections: int = 0
    activities: int = 0
    planned: int = 0
    completed: int = 0
    completed_with_outcome: int = 0
    started: int = 0
    approved_before_start: int = 0
    ended: int = 0
    ended_with_records: int = 0
    partnered: int = 0
    reaching: int = 0
    records: int = 0
    rejected: int = 0
    certified_hours: float = 0.0
    volunteer_hours: float = 0.0
    awards: int = 0
    award_points: int = 0
    active: int = 0
    signoff_days: list[float] = field(default_factory=list)


def in_language(text: str | LazyString, language: str) -> str:
    """A lazy message in one language ('zh_CN' or 'en'), whatever the reader's (for what
    prints both, like the term report).  Outside an app context there is no catalog: the id."""
    with force_locale(BABEL_LOCALES[language]):
        return str(text)


@dataclass
class Indicator:
    key: str
    value: float | int | bool | None
    score: float | None
    #: the raw figures in words, a lazy message: rendered in the reader's language
    note: str | LazyString
    figures: dict = field(default_factory=dict)

    @property
    def dimension(self) -> str:
        return INDICATORS[self.key][0]

    @property
    def label_zh(self) -> str:
        return INDICATORS[self.key][1]

    @property
    def label_en(self) -> str:
        return INDICATORS[self.key][2]

    @property
    def label(self) -> str:
        """The name in the reader's language."""
        return pick((self.label_zh, self.label_en))

    @property
    def detail(self) -> str:
        """The raw figures in the reader's language."""
        return str(self.note)

    @property
    def detail_zh(self) -> str:
        return in_language(self.note, "zh_CN")

    @property
    def detail_en(self) -> str:
        return in_language(self.note, "en")

    @property
    def weak(self) -> bool:
        return self.score is not None and self.score < WEAK_SCORE

    @property
    def hint_zh(self) -> str | None:
        return INDICATORS[self.key][3] if self.weak else None

    @property
    def hint_en(self) -> str | None:
        return INDICATORS[self.key][4] if self.weak else None

    @property
    def hint(self) -> str | None:
        """How to improve a weak indicator, in the reader's language; None when not weak."""
        return pick((self.hint_zh, self.hint_en)) if self.weak else None


@dataclass
class Dimension:
    key: str
    score: float | None
    indicators: list[Indicator]

    @property
    def label_zh(self) -> str:
        return DIMENSION_LABELS[self.key][0]

    @property
    def label_en(self) -> str:
        return DIMENSION_LABELS[self.key][1]

    @property
    def label(self) -> str:
        """The name in the reader's language."""
        return pick(DIMENSION_LABELS[self.key])


@dataclass
class ClubInfo:
    id: int
    name: str
    category: str
    unit_id: int
    unit_name: str
    charter: bool
    advisors: int
    leaders: int


@dataclass
class Scorecard:
    """One club's scorecard in a term. The scores are worked out when it is made (``score_only``:
    a few sums, for every club of a ranking); the indicators with their figures in words
    (``dimensions``), when first read: only a club's own page and its report show them."""

    club: ClubInfo
    term: str
    facts: Facts
    overall: float | None = field(init=False)
    _scores: dict[str, float | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.overall, self._scores = score_only(self.facts)

    @cached_property
    def dimensions(self) -> dict[str, Dimension]:
        return score_facts(self.facts)[1]

    @property
    def club_id(self) -> int:
        return self.club.id

    @property
    def no_data(self) -> bool:
        return self.overall is None

    @property
    def weak(self) -> list[Indicator]:
        return [i for d in self.dimensions.values() for i in d.indicators if i.weak]

    def scores(self) -> dict[str, float | None]:
        """Each dimension's score (what the ranking shows), without building the indicators."""
        return dict(self._scores)


# =========================================================================== scoring


def _ramp(value: float, zero: float, full: float) -> float:
    """0 at ``zero``, 100 at ``full``, a straight line between, clamped (either direction)."""
    share = (value - zero) / (full - zero)
    # (compared, not min/max: as fast for every club of the ranking; <= turns -0.0 into 0)
    return 0.0 if share <= 0.0 else 100.0 if share >= 1.0 else round(100.0 * share, 1)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _num(value: float) -> str:
    """1 decimal, without a trailing .0 (3 → "3", 3.25 → "3.3")."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _of(part: int, whole: int, full: float) -> tuple[float | None, float | None]:
    """A share indicator's value and score (both None when 0 of 0)."""
    if not whole:
        return None, None
    share = part / whole
    return round(share, 3), _ramp(share, 0.0, full)


def _all_or_nothing(present: bool) -> float:
    return 100.0 if present else 0.0


#: The indicators' keys per dimension, in the order they are shown.
_KEYS_OF: dict[str, tuple[str, ...]] = {
    dim: tuple(key for key, row in INDICATORS.items() if row[0] == dim) for dim in DIMENSION_KEYS
}


def indicator_values(facts: Facts) -> dict[str, tuple[float | int | bool | None, float | None]]:
    """The rules: each indicator's raw measure and its 0–100 score (None: no data), by key.

    Pure, and the one place the scores are worked out: ``score_only`` combines them, and
    ``score_facts`` puts the figures in words beside them.
    """
    f = facts
    ended = f.ended > 0
    rejected = _share(f.rejected, f.records)
    median = statistics.median(f.signoff_days) if f.signoff_days else None
    per_member = (f.certified_hours / f.active if f.active else 0.0) if ended else None
    values: dict[str, tuple] = {
        # organized
        "advisors": (f.advisors, _all_or_nothing(f.advisors >= MIN_ADVISORS)),
        "leaders": (f.leaders, _all_or_nothing(f.leaders >= MIN_LEADERS)),
        "charter": (f.charter, _all_or_nothing(f.charter)),
        # a club without a roster this term is not organized: zero, not "no data"
        "active_members": ((round(f.active_roster / f.roster, 3),
                            _ramp(f.active_roster / f.roster, 0.0, ACTIVE_SHARE_FULL))
                           if f.roster else (None, 0.0)),
        "election": (f.elections, _all_or_nothing(bool(f.elections))),
        # activities as projects
        "plans": _of(f.planned, f.activities, PLAN_SHARE_FULL),
        "outcome_share": _of(f.completed_with_outcome, f.completed, OUTCOME_SHARE_FULL),
        # standardized
        "approved_before_start": _of(f.approved_before_start, f.started, APPROVED_SHARE_FULL),
        "attendance": _of(f.ended_with_records, f.ended, ATTENDANCE_SHARE_FULL),
        "signoff_days": ((round(median, 1), _ramp(median, SIGNOFF_LATE_DAYS, SIGNOFF_PROMPT_DAYS))
                         if median is not None else (None, None)),
        "rejected_share": ((round(rejected, 3), _ramp(rejected, REJECTED_SHARE_ZERO, 0.0))
                           if rejected is not None else (None, None)),
        # results (nothing to show before an activity has ended)
        "hours_per_member": ((round(per_member, 1), _ramp(per_member, 0.0, HOURS_PER_MEMBER_FULL))
                             if ended else (None, None)),
        "awards": ((f.award_points, _ramp(f.award_points, 0.0, AWARD_POINTS_FULL))
                   if ended else (None, None)),
        "outcome_reports": ((f.completed_with_outcome,
                             _ramp(f.completed_with_outcome, 0.0, OUTCOME_REPORTS_FULL))
                            if ended else (None, None)),
        # socialized
        "partners": _of(f.partnered, f.activities, PARTNER_SHARE_FULL),
        "volunteer_hours": ((round(f.volunteer_hours, 1), _ramp(f.volunteer_hours, 0.0, VOLUNTEER_HOURS_FULL))
                            if ended else (None, None)),
        "reach": _of(f.reaching, f.activities, REACH_SHARE_FULL),
    }
    if f.activities == 0:  # no activity this term: the figures stay visible, the scores do not exist
        values = {key: (value, None) for key, (value, _score) in values.items()}
    return values


def _combined(values: dict[str, tuple]) -> tuple[float | None, dict[str, float | None]]:
    """A dimension is the mean of its indicators with data, the overall the mean of the dimensions."""
    scores = {dim: _mean([values[key][1] for key in keys]) for dim, keys in _KEYS_OF.items()}
    return _mean(scores.values()), scores


def score_only(facts: Facts) -> tuple[float | None, dict[str, float | None]]:
    """The overall score and each dimension's, without the indicators' figures in words (a ranking)."""
    return _combined(indicator_values(facts))


def _explained(f: Facts) -> dict[str, tuple[str | LazyString, dict]]:
    """Each indicator's raw figures in words (a lazy message) and as data, by key."""
    no_activities = _l("no activities this term")
    not_ended = _l("no activity has ended yet")

    def share(what: str, part: int, whole: int, none: LazyString) -> tuple:
        """``what`` a message (marked with ``N_``) with ``%(count)s`` of ``%(total)s``
        ("7 of 9 activities…"); ``none`` when 0 of 0."""
        if not whole:
            return none, {"count": 0, "of": 0}
        return _l(what, count=part, total=whole), {"count": part, "of": whole}

    out: dict[str, tuple] = {
        "advisors": (lazy_ngettext("%(num)s advisor", "%(num)s advisors", f.advisors),
                     {"count": f.advisors}),
        "leaders": (lazy_ngettext("%(num)s leader", "%(num)s leaders", f.leaders),
                    {"count": f.leaders}),
        "charter": (_l("charter on file") if f.charter else _l("no charter"), {"present": f.charter}),
        "active_members": (
            (_l("%(count)s of %(total)s roster members took part in an activity",
                count=f.active_roster, total=f.roster), {"count": f.active_roster, "of": f.roster})
            if f.roster else (_l("no roster for this term"), {"count": 0, "of": 0})),
        "election": (
            lazy_ngettext("%(num)s election recorded this term", "%(num)s elections recorded this term",
                          f.elections)
            if f.elections else _l("no election or handover recorded this term"),
            {"count": f.elections}),
        "plans": share(N_("%(count)s of %(total)s activities have objectives and a budget"),
                       f.planned, f.activities, no_activities),
        "outcome_share": share(N_("%(count)s of %(total)s completed activities have an outcome report"),
                               f.completed_with_outcome, f.completed, _l("no completed activity yet")),
        "approved_before_start": share(N_("%(count)s of %(total)s activities approved before start"),
                                       f.approved_before_start, f.started, _l("no activity has started yet")),
        "attendance": share(N_("%(count)s of %(total)s ended activities have attendance recorded"),
                            f.ended_with_records, f.ended, not_ended),
        "rejected_share": (
            _l("%(count)s of %(total)s records rejected or revoked", count=f.rejected, total=f.records)
            if f.records else _l("no participation records yet"),
            {"count": f.rejected, "of": f.records}),
        "partners": share(N_("%(count)s of %(total)s activities have an external partner"),
                          f.partnered, f.activities, no_activities),
        "reach": share(N_("%(count)s of %(total)s activities at school level or above, "
                          "or with other schools"), f.reaching, f.activities, no_activities),
    }
    if f.signoff_days:
        median, n = statistics.median(f.signoff_days), len(f.signoff_days)
        out["signoff_days"] = (
            lazy_ngettext("median %(days)s days from end to sign-off over %(num)s activity",
                          "median %(days)s days from end to sign-off over %(num)s activities",
                          n, days=_num(median)),
            {"median_days": round(median, 1), "activities": n})
    else:
        out["signoff_days"] = (_l("no records to sign off yet"), {"median_days": None, "activities": 0})
    if f.ended:
        per = f.certified_hours / f.active if f.active else 0.0
        out["hours_per_member"] = (
            _l("%(hours)s certified hours for %(members)s active members (%(each)s each)",
               hours=_num(f.certified_hours), members=f.active, each=_num(per)),
            {"certified_hours": round(f.certified_hours, 1), "active_members": f.active})
        out["awards"] = (
            lazy_ngettext("%(num)s award, %(points)s weighted points",
                          "%(num)s awards, %(points)s weighted points", f.awards, points=f.award_points),
            {"awards": f.awards, "points": f.award_points})
        out["outcome_reports"] = (
            lazy_ngettext("%(num)s outcome report", "%(num)s outcome reports", f.completed_with_outcome),
            {"count": f.completed_with_outcome})
        out["volunteer_hours"] = (
            _l("%(hours)s certified volunteering hours", hours=_num(f.volunteer_hours)),
            {"hours": round(f.volunteer_hours, 1)})
    else:
        for key in ("hours_per_member", "awards", "outcome_reports", "volunteer_hours"):
            out[key] = (not_ended, {})
    return out


def score_facts(facts: Facts) -> tuple[float | None, dict[str, Dimension]]:
    """Turn one club-term's raw figures into indicators, dimensions and the overall score.

    Pure: the rules of the scorecard (``indicator_values``) with the figures in words beside
    them; ``compute`` feeds it.
    """
    values = indicator_values(facts)
    explained = _explained(facts)
    overall, scores = _combined(values)
    dimensions = {
        dim: Dimension(dim, scores[dim], [Indicator(key, *values[key], *explained[key]) for key in keys])
        for dim, keys in _KEYS_OF.items()
    }
    return overall, dimensions
