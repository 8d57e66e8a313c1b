"""The credit rules' arithmetic (#15): properties that hold for any rule set and any hours."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.credit_arithmetic import EXCELLENT, FAIL, PASS, ModuleRule, Rules, grade, progress

MODULES = ("ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills")
tenths = st.integers(min_value=0, max_value=4000).map(lambda n: Decimal(n) / 10)


@st.composite
def rule_sets(draw):
    modules = {}
    for key in draw(st.lists(st.sampled_from(MODULES), unique=True)):
        low = draw(tenths)
        cap = draw(st.none() | tenths.map(lambda h, low=low: low + h))
        modules[key] = ModuleRule(low, cap)
    passing = draw(tenths)
    return Rules(draw(tenths), modules, passing, passing + draw(tenths))


hours = st.dictionaries(st.sampled_from(MODULES), tenths)


@given(rule_sets(), hours)
def test_counted_hours_respect_the_module_cap(rules, by_module):
    result = progress(rules, by_module, {}, MODULES)
    for key, module in result.modules.items():
        cap = rules.modules.get(key, ModuleRule()).max_hours
        assert module.counted <= module.certified
        if cap is not None:
            assert module.counted <= cap
    assert result.counted == sum(m.counted for m in result.modules.values())


@given(rule_sets(), hours, st.sampled_from(MODULES), tenths)
def test_met_is_monotone_in_hours(rules, by_module, module, more):
    before = progress(rules, by_module, {}, MODULES)
    after = progress(rules, {**by_module, module: by_module.get(module, Decimal(0)) + more}, {}, MODULES)
    assert after.counted >= before.counted
    assert after.met or not before.met
    assert after.short_by <= before.short_by


@given(rule_sets(), hours, st.sampled_from(MODULES), tenths)
def test_a_revoked_record_never_raises_progress(rules, by_module, module, revoked):
    before = progress(rules, by_module, {}, MODULES)
    left = max(by_module.get(module, Decimal(0)) - revoked, Decimal(0))
    after = progress(rules, {**by_module, module: left}, {}, MODULES)
    assert after.counted <= before.counted and (before.met or not after.met)


@pytest.mark.parametrize(("hours", "expected"), [
    ("0", FAIL), ("11.9", FAIL), ("12", PASS), ("17.9", PASS), ("18", EXCELLENT), ("40", EXCELLENT),
])
def test_yearly_grade_thresholds(hours, expected):
    rules = Rules(pass_hours=Decimal(12), excellent_hours=Decimal(18))
    assert grade(Decimal(hours), rules) == expected
    assert progress(rules, {}, {"2025-2026": Decimal(hours)}, MODULES).years["2025-2026"][1] == expected


def test_a_minimum_above_the_cap_is_refused():
    with pytest.raises(ValueError):
        ModuleRule(Decimal(10), Decimal(8))
    with pytest.raises(ValueError):
        Rules(pass_hours=Decimal(18), excellent_hours=Decimal(12))
