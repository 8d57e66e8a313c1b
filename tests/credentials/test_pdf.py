"""The transcript PDF: read it as a person would, determinism, fonts, bad inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pypdf
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from credentials import (
    FONT_FILE,
    Record,
    extract_embedded,
    get_font,
    render_pdf,
    snapshot_digest,
)
from credentials.pdf import COLUMNS, M_L, M_R, PAGE_H, PAGE_W
from credentials.sample import sample_records, sample_snapshot
from credentials.snapshot import canonical_bytes
from credentials.text_layout import text_width, wrap

from .conftest import CATALOG, CERT, ZH, cases, issue, verify
from .strategies import snapshots

ROOT = Path(__file__).resolve().parents[2]


def page_png(pdf: bytes, page: int = 1, dpi: int = 150) -> Image.Image:
    """Render one page to a picture: pdftoppm (poppler) when present, else pdfium."""
    if shutil.which("pdftoppm"):
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp, "t.pdf")
            src.write_bytes(pdf)
            subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page),
                            "-l", str(page), str(src), str(Path(tmp, "p"))], check=True)
            return Image.open(Path(tmp, "p.png")).copy()
    import pypdfium2

    return pypdfium2.PdfDocument(pdf)[page - 1].render(scale=dpi / 72).to_pil()


def qr_texts(img: Image.Image) -> list[str]:
    qr = zxingcpp.BarcodeFormat.QRCode
    return [r.text for r in zxingcpp.read_barcodes(img) if r.format == qr]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def column_text(pdf: bytes, key: str) -> str:
    """The text of one table column over all pages, lines joined, whitespace removed."""
    x0 = M_L
    for k, _label, width, _align in COLUMNS:
        if k == key:
            break
        x0 += width
    import pypdfium2

    out = []
    for page in pypdfium2.PdfDocument(pdf):
        out.append(page.get_textpage().get_text_bounded(
            left=x0 + 0.5, bottom=0, right=x0 + width - 0.5, top=page.get_height()))
    return squash("".join(out))


# -- reading the PDF as a person would ---------------------------------------------------


def test_qr_code_on_the_rendered_page_is_the_signed_link(issued60):
    _s, link, pdf = issued60
    assert qr_texts(page_png(pdf, 1)) == [link]


def test_qr_code_is_on_every_page(issued60):
    _s, link, pdf = issued60
    n = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert n >= 3
    assert qr_texts(page_png(pdf, n, dpi=100)) == [link]  # the last page, at a lower resolution
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert "/FormXob.TranscriptQR" in page["/Resources"]["/XObject"]
        assert b"/FormXob.TranscriptQR Do" in page.get_contents().get_data()
        (annot,) = [a for a in page["/Annots"] if a.get_object()["/Subtype"] == "/Link"]
        assert annot.get_object()["/A"]["/URI"] == link  # the QR code is also clickable


def test_text_is_extractable_name_and_every_activity_title(issued60):
    s, _link, pdf = issued60
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    assert s.student_name in first and s.student_no in first and s.serial in first
    assert "第二课堂成绩单" in first and "Second Transcript" in first
    everything = squash("".join(p.extract_text() for p in reader.pages))
    for title in ("思想成长", "Ideological growth", "总学时", str(s.total_hours)):
        assert squash(title) in everything
    titles = column_text(pdf, "activity")
    for r in s.records:
        assert squash(r.activity) in titles, r.activity
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert s.student_name in doc.pages[0].extract_text()


def test_every_page_has_serial_page_numbers_and_how_to_verify(issued60):
    s, _link, pdf = issued60
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    for i, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert s.serial in text
        assert f"第 {i} 页 / 共 {n} 页" in text and f"Page {i} of {n}" in text
        assert "https://dekt.example-university.edu.cn/verify" in text
        assert "扫描" in text and "To verify" in text
        assert page.mediabox.width == pytest.approx(595.28, abs=0.01)
        assert page.mediabox.height == pytest.approx(841.89, abs=0.01)


def test_font_is_embedded_as_a_subset(issued60):
    _s, _link, pdf = issued60
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/TrueType"
        assert re.fullmatch(r"/[A-Z]{6}\+WenQuanYiMicroHei-0", font["/BaseFont"])
        assert "/FontFile2" in font["/FontDescriptor"]
        assert "/ToUnicode" in font
    assert len(pdf) < 400_000  # subset, not the 5 MB font
    assert (FONT_FILE.parent / "LICENSE").is_file()


def test_attachments_carry_the_snapshot_and_the_link(issued60):
    s, link, pdf = issued60
    att = pypdf.PdfReader(io.BytesIO(pdf)).attachments
    assert att["transcript-snapshot.json"] == [canonical_bytes(s)]
    assert att["transcript-link.txt"] == [link.encode()]
    assert extract_embedded(pdf) == (s, link)


def test_metadata(issued60):
    s, _link, pdf = issued60
    meta = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert meta["/CreationDate"] == "D:20250630101500+08'00'" == meta["/ModDate"]
    assert s.serial in meta["/Title"] and meta["/TranscriptSerial"] == s.serial


def test_font_is_loaded_once():
    assert get_font() is get_font()


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=300), st.floats(min_value=20, max_value=300),
       st.sampled_from([6.0, 7.5, 10.0]))
def test_wrapped_lines_fit_their_width(text, width, size):
    font = get_font()
    clean = font.clean(text)
    lines = wrap(font, clean, width, size)
    for line in lines:
        assert text_width(font, line, size) <= width + 1e-6 or len(line) == 1
    assert "".join(lines).replace(" ", "") == clean.replace(" ", "")  # nothing lost
    cut = wrap(font, clean, width, size, max_lines=2)
    assert len(cut) <= 2 and all(text_width(font, x, size) <= width + 1e-6 or len(x) == 1 for x in cut)
    assert font.wrap(clean, width, size) == lines  # the font's shortcut is the same breaker


# -- determinism -----------------------------------------------------------------------------


def test_same_inputs_same_bytes(issued60, key):
    s, link, pdf = issued60
    assert render_pdf(s, link, key, zh=ZH, certificate=CERT) == pdf
    assert render_pdf(s, link, key, zh=ZH, certificate=CERT) == pdf
    assert b"/SubFilter /ETSI.CAdES.detached" in pdf  # the signed file, not only the page


_CHILD = """
import hashlib, os, sys, datetime as dt
if os.environ.get("NO_RL_ACCEL"):
    sys.modules["_rl_accel"] = None  # reportlab's pure-Python fallbacks
    from reportlab.lib import rl_accel
    assert not rl_accel._c_funcs
from credentials import (catalog_translator, make_link, render_pdf, snapshot_digest, load_key,
                         school_certificate_in_dir)
from credentials.sample import sample_snapshot
s = sample_snapshot(60)
key = load_key(sys.argv[1])
cert = school_certificate_in_dir(sys.argv[3])
link = make_link("https://dekt.example-university.edu.cn", s.serial, snapshot_digest(s),
                 s.issued_at, key)
print(hashlib.sha256(render_pdf(s, link, key, zh=catalog_translator(sys.argv[2]),
                                certificate=cert)).hexdigest())
"""


def test_same_bytes_in_another_process_hash_seed_and_time_zone(tmp_path, key, snap60):
    """Also without reportlab's C accelerator (issuing has rl_accel; a verifier that renders again
    may not)."""
    from reportlab.lib import rl_accel

    from credentials import save_key, save_school_certificate

    assert "fp_str" in rl_accel._c_funcs  # installed with reportlab[accel]

    save_key(key, tmp_path / "k.pem")
    save_school_certificate(CERT, tmp_path / "keys")
    link, pdf = issue(snap60, key)
    want = hashlib.sha256(pdf).hexdigest()
    for seed, tz, accel in (("1", "America/New_York", ""), ("4242", "Asia/Shanghai", ""), ("7", "UTC", "off")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz, "PYTHONPATH": str(ROOT), "NO_RL_ACCEL": accel}
        out = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "k.pem"), str(CATALOG),
                              str(tmp_path / "keys")], env=env,
                             capture_output=True, text=True, check=True, cwd=tmp_path)
        assert out.stdout.strip() == want


def test_render_refuses_a_link_for_another_snapshot(issued60, key, other_key):
    s, link, _pdf = issued60
    other = sample_snapshot(3)
    with pytest.raises(ValueError):
        render_pdf(other, link, zh=ZH)
    with pytest.raises(ValueError):
        render_pdf(s, link, other_key, zh=ZH)  # not the key that signed the link
    with pytest.raises(ValueError):
        render_pdf(s, "https://example.com/", zh=ZH)


# -- bad inputs: render, wrap, never overflow --------------------------------------------------


def assert_inside_the_page(pdf: bytes, pages: list[int] | None = None) -> int:
    """Every character, rule and fill lies inside the margins (on ``pages``, 1-based)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for i, page in enumerate(doc.pages, start=1):
            if pages is not None and i not in pages and i - len(doc.pages) - 1 not in pages:
                continue
            for ch in page.chars:
                assert M_L - 0.5 <= ch["x0"] and ch["x1"] <= PAGE_W - M_R + 0.5, ch["text"]
                assert 20 <= ch["top"] and ch["bottom"] <= PAGE_H - 20, ch["text"]
            for r in page.rects + page.lines:
                assert M_L - 1 <= r["x0"] and r["x1"] <= PAGE_W - M_R + 1
        return len(doc.pages)


def assert_cells_do_not_overflow(pdf: bytes, pages: list[int] | None = None) -> None:
    """No character straddles a vertical grid line of the table (or the info block)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for i, page in enumerate(doc.pages, start=1):
            if pages is not None and i not in pages and i - len(doc.pages) - 1 not in pages:
                continue
            verticals = [(ln["x0"], ln["top"], ln["bottom"]) for ln in page.lines
                         if abs(ln["x0"] - ln["x1"]) < 0.01]
            for ch in page.chars:
                cy = (ch["top"] + ch["bottom"]) / 2
                for x, top, bottom in verticals:
                    if top <= cy <= bottom:
                        assert not (ch["x0"] < x - 0.01 and ch["x1"] > x + 0.01), ch["text"]


def _record(**kw) -> Record:
    base = dict(date=dt.date(2024, 3, 1), activity="活动", club="社团", module="culture_sports",
                level="school", role="participant", hours=Decimal("2.0"), award=None,
                certified_by="王老师")
    base.update(kw)
    return Record(**base)


def test_no_records(key):
    s = sample_snapshot(0)
    link, pdf = issue(s, key)
    assert assert_inside_the_page(pdf) == 1
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "No certified records" in text and "第 1 页 / 共 1 页" in text
    assert verify(pdf, key).genuine


def test_long_names_and_titles_wrap_inside_their_cells(key):
    name = "欧阳" + "龘" * 98 + "𠮷" + "x" * 99  # 200 characters
    title = ("国际大学生创新创业大赛暨“互联网+”项目路演与 Demo Day " * 8)[:200]
    recs = (
        _record(activity=title, club="Robotics Club 机器人社" * 9, award="一等奖" * 30,
                certified_by="Dr. Emily Zhao 赵老师" * 10),
        _record(activity="A" * 200, club="B" * 200, module="skills"),
        _record(activity="Supercalifragilisticexpialidocious " * 6, module="skills"),
    ) + sample_records(20)
    s = sample_snapshot(0, student_name=name, records=recs, institution="示例大学" * 50,
                        unit="学院" * 100)
    link, pdf = issue(s, key)
    assert_inside_the_page(pdf)
    assert_cells_do_not_overflow(pdf)
    titles = column_text(pdf, "activity")
    assert squash(title) in titles and "A" * 200 in titles
    first = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "欧阳龘龘" in first
    assert verify(pdf, key).genuine


def test_rare_characters_do_not_crash_and_stay_searchable(key):
    recs = (_record(activity="𠮷野家 龘 𪚥 活动"),
            _record(activity="Ünïcødé café — 中英 mixed 混排"),
            _record(activity="控制\x00字符\x07与\u200b零宽\u202e方向", award="\U0001F389 优秀"))
    s = sample_snapshot(0, student_name="𠮷田 龘", records=recs)
    link, pdf = issue(s, key)
    assert_inside_the_page(pdf)
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "龘" in text and "𠮷" in text  # the text layer keeps characters the font lacks
    assert "Ünïcødé café" in text and "中英 mixed 混排" in text
    assert verify(pdf, key).genuine


def test_500_records(key):
    s = sample_snapshot(500)
    link, pdf = issue(s, key)
    n = assert_inside_the_page(pdf, pages=[1, 2, 9, -2, -1])  # pdfplumber is slow: a sample
    assert_cells_do_not_overflow(pdf, pages=[1, 10, -1])
    assert 15 <= n <= 30
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert f"第 {n} 页 / 共 {n} 页" in reader.pages[-1].extract_text()
    titles = column_text(pdf, "activity")
    missing = [r.activity for r in s.records if squash(r.activity) not in titles]
    assert missing == []
    assert verify(pdf, key).genuine


@settings(max_examples=cases(12, 60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(snapshots)
def test_any_valid_snapshot_renders_inside_the_page_and_verifies(key, s):
    link, pdf = issue(s, key, sign_file=False)
    assert_inside_the_page(pdf)
    assert verify(pdf, key).genuine
    assert snapshot_digest(extract_embedded(pdf)[0]) == snapshot_digest(s)


def test_transcripts_rendered_in_threads_at_once_are_the_files_rendered_one_by_one(key):
    """A worker issues in two threads: reportlab's font subsetting, shared by them, must not mix
    one file's glyphs into another's (it did: KeyError in makeSubset, or a wrong glyph drawn)."""
    from concurrent.futures import ThreadPoolExecutor

    snapshots = [sample_snapshot(12 + i % 5, seed=100 + i, serial=f"ST2025-{i:08d}") for i in range(24)]
    alone = [issue(s, key, sign_file=False)[1] for s in snapshots]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda s: issue(s, key, sign_file=False)[1], snapshots * 3))
    assert together == alone * 3

