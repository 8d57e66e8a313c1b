"""The office's module list and the credit requirement in a snapshot: optional in its bytes,
validated, printed in both languages on the summary, and verified like everything else."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import (
    CLAIM,
    MODULES,
    Record,
    Requirement,
    Snapshot,
    canonical_bytes,
    snapshot_digest,
    snapshot_from_bytes,
    snapshot_of_digest,
)
from credentials.sample import sample_snapshot

from .conftest import issue, verify, write_roots
from .test_pdf import assert_cells_do_not_overflow, assert_inside_the_page, page_png, qr_texts, squash

CN = dt.timezone(dt.timedelta(hours=8))
#: The seven national modules, one renamed, and two the office added.
OFFICE_MODULES = (
    *MODULES[:2],
    ("volunteering", "志愿服务与公益", "Volunteering and public service"),
    *MODULES[3:],
    ("labour", "劳动教育", "Labour education"),
    ("wellbeing", "身心健康", "Health and wellbeing"),
)
MET = Requirement(rules="2023 v2", met=True, counted=Decimal("64"), required=Decimal("60"),
                  years=(("2024-2025", Decimal("19.5"), "excellent"),
                         ("2023-2024", Decimal("12"), "pass")),
                  years_required=4, years_passed=2)
SHORT = Requirement(rules="2024 v1", met=False, counted=Decimal("31.5"), required=Decimal("60"),
                    years=(("2024-2025", Decimal("6"), "fail"),), years_required=4, years_passed=0)


def _record(module: str, **kw) -> Record:
    base = dict(date=dt.date(2024, 3, 1), activity="活动", club="社团", module=module,
                level="school", role="participant", hours=Decimal("2.0"), award=None,
                certified_by="王老师")
    return Record(**(base | kw))


def _with(s: Snapshot, **changes) -> Snapshot:
    return Snapshot(**({f: getattr(s, f) for f in Snapshot.__dataclass_fields__} | changes))


def test_a_snapshot_without_rules_or_office_modules_keeps_its_bytes():
    plain = sample_snapshot(12)
    as_json = json.loads(canonical_bytes(plain))
    assert "modules" not in as_json and "requirement" not in as_json
    # giving the seven national modules explicitly is the same snapshot, byte for byte
    assert canonical_bytes(_with(plain, modules=tuple(list(m) for m in MODULES))) == canonical_bytes(plain)


def test_the_office_modules_and_the_requirement_are_signed_and_round_trip():
    s = sample_snapshot(30, modules=OFFICE_MODULES, requirement=MET)
    data = canonical_bytes(s)
    as_json = json.loads(data)
    assert as_json["modules"][2] == ["volunteering", "志愿服务与公益", "Volunteering and public service"]
    assert as_json["requirement"] == {
        "rules": "2023 v2", "met": True, "counted": "64.0", "required": "60.0",
        "years": [{"year": "2023-2024", "hours": "12.0", "grade": "pass"},
                  {"year": "2024-2025", "hours": "19.5", "grade": "excellent"}],
        "years_required": 4, "years_passed": 2}
    back = snapshot_from_bytes(data)
    assert back == s and back.modules == OFFICE_MODULES and back.requirement == MET
    # each of them is in the digest
    assert snapshot_digest(_with(s, requirement=SHORT)) != snapshot_digest(s)
    assert snapshot_digest(_with(s, requirement=None)) != snapshot_digest(s)
    renamed = (*OFFICE_MODULES[:2], ("volunteering", "志愿服务", "Volunteering"), *OFFICE_MODULES[3:])
    assert snapshot_digest(_with(s, modules=renamed)) != snapshot_digest(s)


def test_records_follow_the_order_of_the_snapshot_modules():
    recs = (_record("wellbeing"), _record("ideology"), _record("labour"), _record("skills"))
    s = sample_snapshot(0, records=recs, modules=OFFICE_MODULES)
    assert [r.module for r in s.records] == ["ideology", "skills", "labour", "wellbeing"]
    assert list(s.hours_by_module) == [m[0] for m in OFFICE_MODULES]
    assert s.hours_by_module["labour"] == Decimal("2.0")


@pytest.mark.parametrize("modules", [
    (), [("a", "甲", "A")] * 2, [("Bad", "甲", "A")], [("a", "", "A")], [("a", "甲")],
    [(f"m{i}", "甲", "A") for i in range(21)], [("a", "甲" * 41, "A")], "ideology",
])
def test_a_malformed_module_list_is_refused(modules):
    with pytest.raises(ValueError, match="modules"):
        sample_snapshot(0, records=(), modules=modules)


def test_a_record_in_a_module_the_snapshot_does_not_list_is_refused():
    with pytest.raises(ValueError, match="unknown module 'labour'"):
        sample_snapshot(0, records=(_record("labour"),))
    assert sample_snapshot(0, records=(_record("labour"),), modules=OFFICE_MODULES).records


@pytest.mark.parametrize("changes,field", [
    ({"rules": ""}, "rules"), ({"rules": "规则"}, "rules"), ({"rules": "x" * 41}, "rules"),
    ({"met": "yes"}, "met"), ({"counted": "-1"}, "counted"), ({"required": "NaN"}, "required"),
    ({"years": (("2024-2026", "1", "pass"),)}, "years"),
    ({"years": (("2024-2025", "1", "good"),)}, "grade"),
    ({"years": (("2024-2025", "1", "pass"), ("2024-2025", "2", "pass"))}, "twice"),
    ({"years_passed": 3}, "years_passed"), ({"years_required": -1}, "years_required"),
    ({"years_required": True}, "years_required"),
])
def test_a_malformed_requirement_is_refused(changes, field):
    fields = {f: getattr(MET, f) for f in Requirement.__dataclass_fields__} | changes
    with pytest.raises(ValueError, match=field):
        Requirement(**fields)


@pytest.mark.parametrize("damage", [
    lambda d: d["requirement"].pop("met"),
    lambda d: d["requirement"].update(extra=1),
    lambda d: d["requirement"]["years"][0].update(grade="great"),
    lambda d: d.update(modules=[list(m) for m in MODULES]),  # the default is never written
    lambda d: d["records"][0].update(module="nowhere"),
])
def test_bytes_with_a_damaged_requirement_or_module_list_are_refused(damage):
    d = json.loads(canonical_bytes(sample_snapshot(10, modules=OFFICE_MODULES, requirement=MET)))
    damage(d)
    with pytest.raises(ValueError):
        snapshot_from_bytes(json.dumps(d, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")).encode())


years = st.lists(st.tuples(st.integers(2000, 2090).map(lambda y: f"{y}-{y + 1}"),
                           st.decimals(min_value=0, max_value=999, places=1),
                           st.sampled_from(["excellent", "pass", "fail"])),
                 max_size=6, unique_by=lambda y: y[0])


@st.composite
def requirements(draw):
    ys = draw(years)
    return Requirement(rules=draw(st.from_regex(r"20[0-9]{2} v[1-9][0-9]?", fullmatch=True)),
                       met=draw(st.booleans()),
                       counted=draw(st.decimals(min_value=0, max_value=9999, places=1)),
                       required=draw(st.decimals(min_value=0, max_value=9999, places=1)),
                       years=tuple(ys), years_required=draw(st.integers(0, 8)),
                       years_passed=draw(st.integers(0, len(ys))))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=requirements(), n=st.integers(0, 25), seed=st.integers(0, 99))
def test_any_requirement_round_trips_through_the_bytes(q, n, seed):
    s = sample_snapshot(n, seed=seed, modules=OFFICE_MODULES, requirement=q)
    assert snapshot_from_bytes(canonical_bytes(s)) == s
    # and the issuer's stored copy, read by its digest on every verification, with a class and a claim too
    claim = Record(date=dt.date(2024, 5, 1), activity="挑战杯省赛", club="", module=OFFICE_MODULES[0][0],
                   level="provincial", role="awardee", hours=Decimal("4.0"), award="一等奖", certified_by="王老师",
                   source=CLAIM)
    s = _with(s, school_class="计算机2023级1班", records=(*s.records, claim))
    assert snapshot_of_digest(canonical_bytes(s), snapshot_digest(s)) == s


def _first_page_text(pdf: bytes) -> str:
    return squash(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text())


def test_the_summary_prints_the_verdict_and_the_yearly_grades_in_both_languages(key):
    s = sample_snapshot(40, requirement=MET)
    link, pdf = issue(s, key)
    text = _first_page_text(pdf)
    assert squash("已达到认定规则 2023 v2 的要求") in text
    assert squash("Requirement met under rule set 2023 v2") in text
    assert squash("2023-2024 合格 Pass 12.0 h") in text and squash("2024-2025 优秀 Excellent 19.5 h") in text
    assert squash("合格学年：2 个，要求 4 个") in text and squash("Years passed: 2 of 4 required") in text
    assert_inside_the_page(pdf)
    assert_cells_do_not_overflow(pdf)
    assert verify(pdf, key).genuine
    assert qr_texts(page_png(pdf)) == [link]


def test_a_student_short_of_the_rules_reads_by_how_much(key):
    _link, pdf = issue(sample_snapshot(20, requirement=SHORT), key)
    text = _first_page_text(pdf)
    assert squash("未达到认定规则 2024 v1 的要求（已计 31.5 / 60.0 学时）") in text
    assert squash("Requirement not met under rule set 2024 v1 (counted 31.5 of 60.0 h)") in text
    assert squash("2024-2025 不合格 Fail 6.0 h") in text
    assert verify(pdf, key).genuine


def test_the_office_modules_print_with_their_own_names_and_count(key):
    recs = (_record("labour", activity="农场劳动实践", hours=Decimal("6")),
            _record("volunteering", activity="社区服务"), _record("ideology"))
    s = sample_snapshot(0, records=recs, modules=OFFICE_MODULES, requirement=MET)
    _link, pdf = issue(s, key)
    assert assert_inside_the_page(pdf) == 1
    text = _first_page_text(pdf)
    assert "3/9" in text  # modules used of the office's nine
    for zh, en in (("劳动教育", "Labour education"), ("身心健康", "Health and wellbeing"),
                   ("志愿服务与公益", "Volunteering")):
        assert squash(zh) in text and squash(en) in text
    assert verify(pdf, key).genuine


def test_a_transcript_without_rules_prints_no_requirement(key):
    _link, pdf = issue(sample_snapshot(20), key)
    text = _first_page_text(pdf)
    assert "Requirement" not in text and "Yearly" not in text and "7/7" in text


def test_the_offline_verifier_reads_the_requirement(tmp_path, key):
    import subprocess
    import sys

    from .test_verify import ROOT

    _link, pdf = issue(sample_snapshot(12, modules=OFFICE_MODULES, requirement=SHORT), key)
    (tmp_path / "t.pdf").write_bytes(pdf)
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [key.public_jwk()]}))
    roots = write_roots(tmp_path / "root.pem")
    run = subprocess.run([sys.executable, "-m", "credentials", "verify", str(tmp_path / "t.pdf"), "--jwks",
                          str(tmp_path / "jwks.json"), "--roots", roots], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    assert "requirement under rule set 2024 v1: not met (31.5 of 60.0 hours)" in run.stdout
    assert "2024-2025: 6.0 hours, fail" in run.stdout
    as_json = subprocess.run([sys.executable, "-m", "credentials", "verify", str(tmp_path / "t.pdf"), "--jwks",
                              str(tmp_path / "jwks.json"), "--roots", roots, "--json"], capture_output=True, text=True,
                             env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    snapshot = json.loads(as_json.stdout)["snapshot"]
    assert snapshot["requirement"]["rules"] == "2024 v1" and snapshot["modules"][-1][0] == "wellbeing"


def test_the_class_is_printed_and_signed_when_the_student_has_one(key):
    plain = sample_snapshot(10)
    with_class = _with(plain, school_class="计算机2023级1班")
    assert json.loads(canonical_bytes(with_class))["school_class"] == "计算机2023级1班"
    assert "school_class" not in json.loads(canonical_bytes(plain))
    assert snapshot_from_bytes(canonical_bytes(with_class)) == with_class
    assert snapshot_digest(with_class) != snapshot_digest(plain)
    _link, pdf = issue(with_class, key)
    text = _first_page_text(pdf)
    assert squash("班级 Class 计算机2023级1班") in text
    assert verify(pdf, key).genuine
    d = json.loads(canonical_bytes(plain)) | {"school_class": ""}
    with pytest.raises(ValueError, match="school_class"):
        snapshot_from_bytes(json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
