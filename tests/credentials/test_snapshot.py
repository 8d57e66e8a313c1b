"""The snapshot's canonical bytes: round trips, order independence, stable bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import (
    MODULES,
    Record,
    Snapshot,
    canonical_bytes,
    snapshot_digest,
    snapshot_from_bytes,
    snapshot_from_dict,
    snapshot_of_digest,
    snapshot_to_dict,
)

from .strategies import records, snapshots

CN = dt.timezone(dt.timedelta(hours=8))
PROPS = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def fixed_snapshot() -> Snapshot:
    return Snapshot(
        institution="示例大学",
        serial="K7QM-4XJ9-PW2D-HT8R-N3",
        issued_at=dt.datetime(2025, 6, 30, 10, 15, tzinfo=CN),
        student_name="张三",
        student_no="2021001",
        unit="计算机学院",
        records=(
            Record(dt.date(2024, 5, 1), "社区义务支教", "青年志愿者协会", "volunteering", "school",
                   "volunteer", Decimal("12.5"), None, "王老师"),
            Record(dt.date(2023, 11, 2), "数学建模竞赛", "数学建模协会", "innovation", "national",
                   "awardee", Decimal("8"), "一等奖", "李老师",
                   dt.datetime(2023, 11, 20, 9, 0, tzinfo=CN)),
        ),
    )


GOLDEN = (
    '{"institution":"示例大学","issued_at":"2025-06-30T10:15:00+08:00","records":['
    '{"activity":"社区义务支教","award":null,"certified_at":null,"certified_by":"王老师",'
    '"club":"青年志愿者协会","date":"2024-05-01","hours":"12.5","level":"school",'
    '"module":"volunteering","role":"volunteer"},'
    '{"activity":"数学建模竞赛","award":"一等奖","certified_at":"2023-11-20T09:00:00+08:00",'
    '"certified_by":"李老师","club":"数学建模协会","date":"2023-11-02","hours":"8.0",'
    '"level":"national","module":"innovation","role":"awardee"}],'
    '"serial":"K7QM-4XJ9-PW2D-HT8R-N3","student_name":"张三","student_no":"2021001",'
    '"unit":"计算机学院","version":1}'
)


def test_canonical_bytes_are_exactly_the_documented_form():
    s = fixed_snapshot()
    assert canonical_bytes(s) == GOLDEN.encode("utf-8")
    assert snapshot_digest(s) == hashlib.sha256(GOLDEN.encode("utf-8")).hexdigest()
    assert len(snapshot_digest(s)) == 64


def test_totals():
    s = fixed_snapshot()
    assert s.total_hours == Decimal("20.5")
    assert list(s.hours_by_module) == [m[0] for m in MODULES]
    assert s.hours_by_module["volunteering"] == Decimal("12.5")
    assert s.hours_by_module["innovation"] == Decimal("8.0")
    assert s.hours_by_module["ideology"] == Decimal("0.0")
    assert (s.activity_count, s.award_count) == (2, 1)
    assert s.issued_on == dt.date(2025, 6, 30)


def test_records_are_put_in_canonical_order():
    s = fixed_snapshot()
    flipped = Snapshot(**{**{f: getattr(s, f) for f in Snapshot.__dataclass_fields__},
                          "records": s.records[::-1]})
    assert flipped == s
    assert [r.module for r in flipped.records] == ["volunteering", "innovation"]  # module order


def test_hours_are_one_decimal():
    r = fixed_snapshot().records[0]
    for given_, expected in (("3", "3.0"), ("2.25", "2.3"), (Decimal("0.04"), "0.0"), (7, "7.0"),
                             (1.5, "1.5"), ("-0.0", "0.0")):
        assert str(Record(**{**_fields(r), "hours": given_}).hours) == expected
    for bad in ("-1", "NaN", "Infinity", "abc", True, None, "100000"):
        with pytest.raises(ValueError):
            Record(**{**_fields(r), "hours": bad})


def _fields(r: Record) -> dict:
    return {f: getattr(r, f) for f in Record.__dataclass_fields__}


@pytest.mark.parametrize("field,value", [
    ("module", "Sports"), ("module", ""), ("module", "a" * 33), ("level", "city"), ("role", "boss"), ("activity", ""),
    ("activity", "  "), ("activity", "x" * 1001), ("activity", "bad \ud800 surrogate"),
    ("date", dt.datetime(2024, 1, 1)), ("date", "2024-01-01"), ("activity", 12),
])
def test_record_rejects_bad_fields(field, value):
    with pytest.raises(ValueError):
        Record(**{**_fields(fixed_snapshot().records[0]), field: value})


def test_snapshot_needs_an_aware_issue_time():
    s = fixed_snapshot()
    with pytest.raises(ValueError):
        Snapshot(**{**{f: getattr(s, f) for f in Snapshot.__dataclass_fields__},
                    "issued_at": dt.datetime(2025, 1, 1)})


@PROPS
@given(snapshots)
def test_round_trip_bytes(s):
    b = canonical_bytes(s)
    again = snapshot_from_bytes(b)
    assert again == s
    assert canonical_bytes(again) == b  # stable bytes
    assert snapshot_digest(again) == snapshot_digest(s)


@PROPS
@given(snapshots)
def test_the_issuers_stored_copy_reads_back_the_same_by_its_digest(s):
    b = canonical_bytes(s)
    assert snapshot_of_digest(b, snapshot_digest(s)) == snapshot_from_bytes(b) == s


def test_a_stored_copy_that_is_not_the_digests_is_refused():
    s = fixed_snapshot()
    b = canonical_bytes(s)
    changed = b.replace("张三".encode(), "李四".encode())
    with pytest.raises(ValueError, match="digest"):
        snapshot_of_digest(changed, snapshot_digest(s))
    with pytest.raises(ValueError, match="digest"):  # not even re-encoded: the exact bytes
        snapshot_of_digest(json.dumps(json.loads(b), sort_keys=True).encode(), snapshot_digest(s))


@PROPS
@given(snapshots)
def test_round_trip_dict_through_json(s):
    d = snapshot_to_dict(s)
    assert snapshot_from_dict(json.loads(json.dumps(d))) == s


@PROPS
@given(snapshots, st.randoms(use_true_random=False))
def test_key_and_record_order_do_not_change_the_bytes(s, rnd):
    d = snapshot_to_dict(s)

    def shuffled(obj):
        if isinstance(obj, dict):
            items = list(obj.items())
            rnd.shuffle(items)
            return {k: shuffled(v) for k, v in items}
        if isinstance(obj, list):
            return [shuffled(v) for v in obj]
        return obj

    d2 = shuffled(d)
    rnd.shuffle(d2["records"])
    text = json.dumps(d2, ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, 2]))
    s2 = snapshot_from_dict(json.loads(text))
    assert s2 == s
    assert canonical_bytes(s2) == canonical_bytes(s)
    # The bytes themselves are the canonical spelling: anything else is refused.
    if text.encode() != canonical_bytes(s):
        with pytest.raises(ValueError):
            snapshot_from_bytes(text.encode())


@PROPS
@given(st.lists(records, min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_record_order_independence(recs, rnd):
    s1 = fixed_snapshot()
    a = Snapshot(**{**{f: getattr(s1, f) for f in Snapshot.__dataclass_fields__},
                    "records": tuple(recs)})
    rnd.shuffle(recs)
    b = Snapshot(**{**{f: getattr(s1, f) for f in Snapshot.__dataclass_fields__},
                    "records": tuple(recs)})
    assert canonical_bytes(a) == canonical_bytes(b)


def test_canonical_form_shape():
    b = canonical_bytes(fixed_snapshot())
    assert "社区义务支教".encode() in b  # UTF-8, not \\u escapes
    assert b"\\u" not in b and b": " not in b and b", " not in b and b"\n" not in b
    assert b'"hours":"12.5"' in b and b'"version":1' in b


def _mutants() -> list[bytes]:
    good = GOLDEN
    d = json.loads(good)
    out = [
        good.replace(",", ", ", 1),
        " " + good,
        good + "\n",
        good.replace('"version":1', '"version":2'),
        good.replace('"version":1', '"version":1.0'),
        good.replace('"version":1', '"version":true'),
        good.replace('"hours":"12.5"', '"hours":12.5'),
        good.replace('"hours":"12.5"', '"hours":"12.50"'),
        good.replace('"hours":"12.5"', '"hours":"NaN"'),
        good.replace('"date":"2024-05-01"', '"date":"2024-5-1"'),
        good.replace('"date":"2024-05-01"', '"date":"2024-02-30"'),
        good.replace("T10:15:00+08:00", "T10:15:00"),
        good.replace("2025-06-30T10:15:00+08:00", "2025-06-30 10:15:00+08:00"),
        good.replace('"module":"volunteering"', '"module":"sports"'),
        good.replace('"unit":"计算机学院"', '"unit":"计算机学院","extra":1'),
        good.replace('"unit":"计算机学院",', ""),
        good.replace('"serial"', '"serial":"X","serial"'),
        good.replace("示例大学", "\\u793a\\u4f8b\\u5927\\u5b66"),
        good.replace('"records":[', '"records":{').replace("}],", "}},"),
        json.dumps({**d, "records": d["records"][::-1]}, ensure_ascii=False, sort_keys=True,
                   separators=(",", ":")),
        "[]", "null", "1", '""', "{}", "",
    ]
    return [m.encode("utf-8") for m in out] + [
        GOLDEN.encode("utf-16"), GOLDEN.encode()[:-1], b"\xff" + GOLDEN.encode(),
        GOLDEN.encode().replace("张三".encode(), b"\xe5\xbc"), b"[" * 100000,
    ]


@pytest.mark.parametrize("data", _mutants())
def test_from_bytes_rejects_anything_not_canonical(data):
    with pytest.raises(ValueError):
        snapshot_from_bytes(data)


def test_from_bytes_rejects_random_damage():
    good = GOLDEN.encode()
    rnd = random.Random(4)
    for _ in range(300):
        b = bytearray(good)
        i = rnd.randrange(len(b))
        b[i] = rnd.randrange(256)
        if bytes(b) == good:
            continue
        try:
            s = snapshot_from_bytes(bytes(b))
        except ValueError:
            continue
        # A change that still parses must be a different snapshot, with another digest.
        assert snapshot_digest(s) != snapshot_digest(fixed_snapshot())


def test_from_bytes_rejects_non_bytes():
    for bad in (None, "text", 12, GOLDEN):
        with pytest.raises(ValueError):
            snapshot_from_bytes(bad)
