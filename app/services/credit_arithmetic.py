"""The arithmetic of credit rules (#15), in one pure function: no database, no Flask.

Given a rule set (total minimum; per module an optional minimum and cap; the yearly pass and
excellent thresholds) and a student's certified hours — per module, and per academic year —
`progress` answers what counts: a module's hours above its cap are not counted (counted at the cap, as the
rules say), the total counted is the sum of what each module counts, and each year gets its grade.
The services read the hours from the record; this module only adds them up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.0")
PASS, EXCELLENT, FAIL = "pass", "excellent", "fail"


@dataclass(frozen=True)
class ModuleRule:
    min_hours: Decimal = ZERO
    max_hours: Decimal | None = None  # None: no cap

    def __post_init__(self) -> None:
        if self.min_hours < 0 or (self.max_hours is not None and self.max_hours < 0):
            raise ValueError("hours must not be negative")
        if self.max_hours is not None and self.min_hours > self.max_hours:
            raise ValueError("a module's minimum is above its cap")


@dataclass(frozen=True)
class Rules:
    total_min_hours: Decimal = ZERO
    modules: Mapping[str, ModuleRule] = field(default_factory=dict)
    pass_hours: Decimal = ZERO
    excellent_hours: Decimal = ZERO
    years_required: int = 0  # how many years must reach at least a pass

    def __post_init__(self) -> None:
        if self.total_min_hours < 0 or self.pass_hours < 0 or self.excellent_hours < 0:
            raise ValueError("hours must not be negative")
        if self.years_required < 0:
            raise ValueError("years required must not be negative")
        if self.excellent_hours < self.pass_hours:
            raise ValueError("the excellent threshold is below the pass threshold")


@dataclass(frozen=True, slots=True)
class ModuleProgress:
    certified: Decimal
    counted: Decimal
    required: Decimal

    @property
    def met(self) -> bool:
        return self.counted >= self.required


@dataclass(frozen=True, slots=True)
class Progress:
    modules: dict[str, ModuleProgress]
    counted: Decimal
    required: Decimal
    years: dict[str, tuple[Decimal, str]]  # "2025-2026" → (hours, grade)
    years_required: int = 0

    @property
    def total_met(self) -> bool:
        return self.counted >= self.required

    @property
    def years_passed(self) -> int:
        return sum(1 for _, g in self.years.values() if g != FAIL)

    @property
    def years_met(self) -> bool:
        return self.years_passed >= self.years_required

    @property
    def met(self) -> bool:
        """The requirement as a whole: the total, every module's minimum, and the passed years."""
        return self.total_met and self.years_met and all(m.met for m in self.modules.values())

    @property
    def short_by(self) -> Decimal:
        """The hours still to earn in all, counting each module's own shortfall."""
        by_module = ZERO
        for m in self.modules.values():
            short = m.required - m.counted
            if short >= ZERO:
                by_module += short
        return max(self.required - self.counted, by_module, ZERO)


def grade(hours: Decimal, rules: Rules) -> str:
    if rules.excellent_hours and hours >= rules.excellent_hours:
        return EXCELLENT
    return PASS if hours >= rules.pass_hours else FAIL


_NO_RULE = ModuleRule()  # a module the rules do not name: nothing required, no cap


def progress(rules: Rules, hours_by_module: Mapping[str, Decimal], hours_by_year: Mapping[str, Decimal],
             module_keys: tuple[str, ...]) -> Progress:
    """What a student's certified hours count for under `rules`, module by module and year by year.
    (Run once per student of a cohort by the office's report: kept to plain loops.)"""
    modules = {}
    rule_of, hours_in = rules.modules.get, hours_by_module.get
    counted = ZERO
    for key in module_keys:
        rule = rule_of(key, _NO_RULE)
        certified = hours_in(key, ZERO)
        if type(certified) is not Decimal:
            certified = Decimal(certified)
        cap = rule.max_hours
        counts = cap if cap is not None and cap < certified else certified  # min(certified, cap)
        modules[key] = ModuleProgress(certified, counts, rule.min_hours)
        counted += counts
    years = {}
    for year, h in sorted(hours_by_year.items()):
        if type(h) is not Decimal:
            h = Decimal(h)
        years[year] = (h, grade(h, rules))
    return Progress(modules, counted, rules.total_min_hours, years, rules.years_required)
