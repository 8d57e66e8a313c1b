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
    club: ClubInfo
    term: str
    overall: float | None
    dimensions: dict[str, Dimension]
    facts: Facts

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
        return {key: d.score for key, d in self.dimensions.items()}


# =========================================================================== scoring


def _ramp(value: float, zero: float, full: float) -> float:
    """0 at ``zero``, 100 at ``full``, a straight line between, clamped (either direction)."""
    share = (value - zero) / (full - zero)
    return round(100.0 * min(1.0, max(0.0, share)), 1)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _num(value: float) -> str:
    """1 decimal, without a trailing .0 (3 → "3", 3.25 → "3.3")."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _of(key: str, part: int, whole: int, what: str, none: LazyString, full: float) -> Indicator:
    """A share indicator: ``what`` a message (marked with ``N_``) with ``%(count)s`` of
    ``%(total)s`` ("7 of 9 activities…"); ``none`` when 0 of 0."""
    share = _share(part, whole)
    if share is None:
        return Indicator(key, None, None, none, {"count": 0, "of": 0})
    return Indicator(
        key, round(share, 3), _ramp(share, 0.0, full), _l(what, count=part, total=whole),
        {"count": part, "of": whole},
    )


def score_facts(facts: Facts) -> tuple[float | None, dict[str, Dimension]]:
    """Turn one club-term's raw figures into indicators, dimensions and the overall score.

    Pure: the rules of the scorecard, with no database; ``compute`` feeds it.
    """
    f = facts
    no_data = f.activities == 0
    ended = f.ended > 0
    items: list[Indicator] = []
    no_activities = _l("no activities this term")
    not_ended = _l("no activity has ended yet")

    # organized ---------------------------------------------------------------------------
    items.append(Indicator(
        "advisors", f.advisors, 100.0 if f.advisors >= MIN_ADVISORS else 0.0,
        lazy_ngettext("%(num)s advisor", "%(num)s advisors", f.advisors),
        {"count": f.advisors},
    ))
    items.append(Indicator(
        "leaders", f.leaders, 100.0 if f.leaders >= MIN_LEADERS else 0.0,
        lazy_ngettext("%(num)s leader", "%(num)s leaders", f.leaders),
        {"count": f.leaders},
    ))
    items.append(Indicator(
        "charter", f.charter, 100.0 if f.charter else 0.0,
        _l("charter on file") if f.charter else _l("no charter"),
        {"present": f.charter},
    ))
    if f.roster:
        share = f.active_roster / f.roster
        items.append(Indicator(
            "active_members", round(share, 3), _ramp(share, 0.0, ACTIVE_SHARE_FULL),
            _l("%(count)s of %(total)s roster members took part in an activity",
               count=f.active_roster, total=f.roster),
            {"count": f.active_roster, "of": f.roster},
        ))
    else:  # a club without a roster this term is not organized: zero, not "no data"
        items.append(Indicator(
            "active_members", None, 0.0, _l("no roster for this term"),
            {"count": 0, "of": 0},
        ))
    items.append(Indicator(
        "election", f.elections, 100.0 if f.elections else 0.0,
        lazy_ngettext("%(num)s election recorded this term", "%(num)s elections recorded this term",
            f.elections)
        if f.elections else _l("no election or handover recorded this term"),
        {"count": f.elections},
    ))

    # activities as projects --------------------------------------------------------------
    items.append(_of("plans", f.planned, f.activities,
                     N_("%(count)s of %(total)s activities have objectives and a budget"),
                     no_activities, PLAN_SHARE_FULL))
    items.append(_of("outcome_share", f.completed_with_outcome, f.completed,
                     N_("%(count)s of %(total)s completed activities have an outcome report"),
                     _l("no completed activity yet"), OUTCOME_SHARE_FULL))

    # standardized ------------------------------------------------------------------------
    items.append(_of("approved_before_start", f.approved_before_start, f.started,
                     N_("%(count)s of %(total)s activities approved before start"),
                     _l("no activity has started yet"), APPROVED_SHARE_FULL))
    items.append(_of("attendance", f.ended_with_records, f.ended,
                     N_("%(count)s of %(total)s ended activities have attendance recorded"),
                     not_ended, ATTENDANCE_SHARE_FULL))
    if f.signoff_days:
        median = statistics.median(f.signoff_days)
        n = len(f.signoff_days)
        items.append(Indicator(
            "signoff_days", round(median, 1), _ramp(median, SIGNOFF_LATE_DAYS, SIGNOFF_PROMPT_DAYS),
            lazy_ngettext("median %(days)s days from end to sign-off over %(num)s activity",
                "median %(days)s days from end to sign-off over %(num)s activities",
                n, days=_num(median)),
            {"median_days": round(median, 1), "activities": n},
        ))
    else:
        items.append(Indicator("signoff_days", None, None, _l("no records to sign off yet"),
                               {"median_days": None, "activities": 0}))
    share = _share(f.rejected, f.records)
    items.append(Indicator(
        "rejected_share", None if share is None else round(share, 3),
        None if share is None else _ramp(share, REJECTED_SHARE_ZERO, 0.0),
        _l("%(count)s of %(total)s records rejected or revoked", count=f.rejected, total=f.records)
        if f.records else _l("no participation records yet"),
        {"count": f.rejected, "of": f.records},
    ))

    # results (nothing to show before an activity has ended) -------------------------------
    if ended:
        per = f.certified_hours / f.active if f.active else 0.0
        items.append(Indicator(
            "hours_per_member", round(per, 1), _ramp(per, 0.0, HOURS_PER_MEMBER_FULL),
            _l("%(hours)s certified hours for %(members)s active members (%(each)s each)",
               hours=_num(f.certified_hours), members=f.active, each=_num(per)),
            {"certified_hours": round(f.certified_hours, 1), "active_members": f.active},
        ))
        items.append(Indicator(
            "awards", f.award_points, _ramp(f.award_points, 0.0, AWARD_POINTS_FULL),
            lazy_ngettext("%(num)s award, %(points)s weighted points",
                "%(num)s awards, %(points)s weighted points", f.awards, points=f.award_points),
            {"awards": f.awards, "points": f.award_points},
        ))
        items.append(Indicator(
            "outcome_reports", f.completed_with_outcome,
            _ramp(f.completed_with_outcome, 0.0, OUTCOME_REPORTS_FULL),
            lazy_ngettext("%(num)s outcome report", "%(num)s outcome reports", f.completed_with_outcome),
            {"count": f.completed_with_outcome},
        ))
    else:
        for key in ("hours_per_member", "awards", "outcome_reports"):
            items.append(Indicator(key, None, None, not_ended))

    # socialized --------------------------------------------------------------------------
    items.append(_of("partners", f.partnered, f.activities,
                     N_("%(count)s of %(total)s activities have an external partner"),
                     no_activities, PARTNER_SHARE_FULL))
    if ended:
        items.append(Indicator(
            "volunteer_hours", round(f.volunteer_hours, 1),
            _ramp(f.volunteer_hours, 0.0, VOLUNTEER_HOURS_FULL),
            _l("%(hours)s certified volunteering hours", hours=_num(f.volunteer_hours)),
            {"hours": round(f.volunteer_hours, 1)},
        ))
    else:
        items.append(Indicator("volunteer_hours", None, None, not_ended))
    items.append(_of("reach", f.reaching, f.activities,
                     N_("%(count)s of %(total)s activities at school level or above, "
                        "or with other schools"),
                     no_activities, REACH_SHARE_FULL))

    if no_data:  # no activity this term: the figures stay visible, the scores do not exist
        for item in items:
            item.score = None
    dimensions = {
        key: Dimension(key, None, [i for i in items if i.dimension == key])
        for key in DIMENSION_KEYS
    }
    for dim in dimensions.values():
        dim.score = _mean(i.score for i in dim.indicators)
    overall = _mean(d.score for d in dimensions.values())
    return overall, dimensions


