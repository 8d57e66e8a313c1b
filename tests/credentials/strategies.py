"""Hypothesis strategies for snapshots and records."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from credentials.snapshot import LEVELS, MODULES, ROLES, Record, Snapshot

CJK_SAMPLES = [
    "张三", "李明轩", "欧阳娜娜", "𠮷田", "龘", "青年志愿者协会", "“挑战杯”竞赛",
    "ACM-ICPC 程序设计竞赛",
    "Model UN 模拟联合国", "一等奖", "王老师", "数学建模（省级）", "Ünïcødé café", "emoji 🎉 活动",
]
_chars = st.characters(blacklist_categories=("Cs",))  # anything encodable
text = st.one_of(
    st.sampled_from(CJK_SAMPLES),
    st.text(_chars, min_size=1, max_size=40),
    st.text(st.sampled_from("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会"
                            "可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度"
                            "家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合"
                            "还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看"
                            "原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并"
                            "提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图"
                            "山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处"
                            "理 ABCxyz0123-（）：，。"), min_size=1, max_size=80),
).filter(lambda s: s.strip() != "")

tz = st.sampled_from([
    dt.UTC,
    dt.timezone(dt.timedelta(hours=8)),
    dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
])
aware = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31),
                     timezones=tz)

records = st.builds(
    Record,
    date=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
    activity=text,
    club=st.one_of(st.just(""), text),
    module=st.sampled_from([m[0] for m in MODULES]),
    level=st.sampled_from([x[0] for x in LEVELS]),
    role=st.sampled_from([x[0] for x in ROLES]),
    hours=st.decimals(min_value=0, max_value=999, places=1),
    award=st.one_of(st.none(), text),
    certified_by=st.one_of(st.just(""), text),
    certified_at=st.one_of(st.none(), aware, st.datetimes(min_value=dt.datetime(2000, 1, 1),
                                                            max_value=dt.datetime(2099, 1, 1))),
)

SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
serials = st.text(st.sampled_from(SERIAL_ALPHABET), min_size=16, max_size=24).map(
    lambda s: "-".join(s[i:i + 6] for i in range(0, len(s), 6))
)

snapshots = st.builds(
    Snapshot,
    institution=text,
    serial=serials,
    issued_at=aware,
    student_name=text,
    student_no=st.text(st.sampled_from("0123456789AB"), min_size=4, max_size=14),
    unit=st.one_of(st.just(""), text),
    records=st.lists(records, max_size=12).map(tuple),
)
