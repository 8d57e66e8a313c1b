"""The printed labels: English message ids, their Chinese from the app's catalog, printed
as Chinese + English exactly as the transcript always read."""

from __future__ import annotations

import io

import pdfplumber
import pytest

from credentials import N_, Labels, catalog_translator, make_link, render_pdf, snapshot_digest
from credentials import labels as L
from credentials.sample import SAMPLE_BASE_URL, sample_snapshot

from .conftest import CATALOG, ZH

#: The Chinese the transcript has always printed; the catalog must keep giving it.
PRINTED = {
    L.TITLE: "第二课堂成绩单",
    L.SUBTITLE: "第二课堂活动认证记录",
    L.SERIAL: "编号",
    L.DATE_OF_ISSUE: "签发日期",
    L.NAME: "姓名",
    L.STUDENT_NO: "学号",
    L.SCAN_TO_VERIFY: "扫码验证",
    L.PAGE_OF: "第 %(page)s 页 / 共 %(pages)s 页",
    L.ISSUED: "签发日期",
    L.HOW_TO_VERIFY: "验证方法：扫描右上角二维码，或在 %(url)s 上传本 PDF 文件核验。",
    L.UNIT: "院系",
    L.SCHOOL_CLASS: "班级",
    L.SUMMARY: "学时汇总",
    L.TOTAL_HOURS: "总学时",
    L.HOURS_UNIT: "学时",
    L.ACTIVITIES: "已认证活动",
    L.AWARDS: "获奖",
    L.MODULES: "模块",
    L.RECORDS_SECTION: "活动记录",
    L.CONTINUED: "续",
    L.RECORDS: "项",
    L.HOURS: "学时",
    L.COL_DATE: "日期",
    L.COL_ACTIVITY: "活动名称",
    L.COL_CLUB: "社团 / 组织",
    L.COL_LEVEL: "级别",
    L.CLAIM: "个人申报",
    L.COL_ROLE: "角色",
    L.COL_HOURS: "学时",
    L.COL_AWARD: "奖项",
    L.COL_CERTIFIED_BY: "认证人",
    L.NO_RECORDS: "签发时暂无已认证记录",
    L.END_OF_RECORDS: "以下空白",
    L.CLOSING_NOTE: "说明：本成绩单所列记录均经社团指导教师或校团委审核认证，学时与奖项以认证时为准。",
    L.ISSUED_BY: "签发单位",
    L.DIGITALLY_SIGNED: "电子签名",
    L.REQUIREMENT: "达标情况",
    L.REQUIREMENT_MET: "已达到认定规则 %(rules)s 的要求",
    L.REQUIREMENT_NOT_MET: "未达到认定规则 %(rules)s 的要求（已计 %(counted)s / %(required)s 学时）",
    L.YEARLY_GRADES: "学年认定",
    L.YEARS_PASSED: "合格学年：%(passed)s 个，要求 %(required)s 个",
    L.GRADE_EXCELLENT: "优秀",
    L.GRADE_PASS: "合格",
    L.GRADE_FAIL: "不合格",
}


def test_every_label_is_listed_and_the_catalog_gives_the_printed_chinese():
    assert set(L.ALL) == set(PRINTED)
    labels = Labels(ZH)
    assert {m: labels(m) for m in L.ALL} == PRINTED


def test_ids_are_english_and_a_context_is_not_printed():
    assert N_("Serial") == "Serial"
    labels = Labels(ZH)
    assert labels.both(L.SERIAL) == "编号 Serial"
    assert labels.both(L.NAME) == "姓名 Name" and labels.en(L.NAME) == "Name"
    assert labels.both(L.PAGE_OF, " · ", page=2, pages=3) == "第 2 页 / 共 3 页 · Page 2 of 3"


def test_a_catalog_without_the_chinese_is_refused():
    s = sample_snapshot(3)
    from credentials import generate_key

    key = generate_key()
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
    with pytest.raises(ValueError, match="no Chinese"):
        render_pdf(s, link, key, zh=lambda msgid: msgid)
    with pytest.raises(ValueError, match="translator"):
        render_pdf(s, link, key, zh="zh_CN")
    with pytest.raises(FileNotFoundError):
        catalog_translator(CATALOG / "nowhere")


def test_the_page_prints_each_label_in_both_languages(issued60):
    _s, _link, pdf = issued60
    text = "\n".join(p.extract_text() for p in pdfplumber.open(io.BytesIO(pdf)).pages[:1])
    for words in ("第二课堂成绩单", "Second Transcript", "编号 Serial:", "签发日期 Issued:",
                  "第 1 页 / 共 4 页 · Page 1 of 4", "总学时 Total hours", "已认证活动 Activities",
                  "活动名称", "Activity", "扫码验证 Scan to verify"):
        assert words in text, words
