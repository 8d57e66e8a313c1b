"""Transcript PDF benchmark: ours against a floor and a peer, measured in the same run.

* ours   — ``credentials.render_pdf`` (layout, wrapping, paging, QR, attachments),
           fonts already loaded, unsigned; and "signed": the same plus the PAdES
           signature by the school certificate (RSA 3072, B-LT, visible seal), what
           issuing a transcript renders;
* floor  — the same content drawn with plain reportlab canvas calls at fixed positions:
           no wrapping, no measuring, a fixed number of rows per page, the same font,
           the same QR code as a form, page compression on and ASCII85 off (the cheapest
           plain canvas can be);
* peer   — the same transcript as HTML through WeasyPrint (60 records only; it is slow).

    .venv/bin/python bench/pdf.py [--quick]

Prints a table of medians and, last, one line:
``pdf: 60 records median X ms, floor Y ms, ratio R, signed S ms, weasyprint W ms``.
Targets: R <= 2.0 (unsigned against the floor), S < 150 ms (issuing signs) and WeasyPrint
>= 50x slower than ours.
"""

from __future__ import annotations

import gc
import html
import io
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab import rl_config  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from credentials.certificate import make_school_certificate  # noqa: E402
from credentials.fonts import FONT_NAME, get_font  # noqa: E402
from credentials.keys import generate_key  # noqa: E402
from credentials.labels import catalog_translator  # noqa: E402
from credentials.links import make_link, verify_page_url  # noqa: E402
from credentials.pdf import render_pdf  # noqa: E402
from credentials.qr import draw_qr, qr_modules, qr_rects  # noqa: E402
from credentials.sample import SAMPLE_BASE_URL, sample_snapshot  # noqa: E402
from credentials.snapshot import LEVELS, MODULES, ROLES, snapshot_digest  # noqa: E402

SIZES = (10, 60, 200)
#: The labels' Chinese, from the app's compiled catalog (as when the app issues).
ZH = catalog_translator(Path(__file__).resolve().parent.parent / "app" / "translations")
_LEVEL = {k: (zh, en) for k, zh, en in LEVELS}
_ROLE = {k: (zh, en) for k, zh, en in ROLES}
_MOD = {k: (zh, en) for k, zh, en in MODULES}
COLS = (("日期", "Date", 50), ("活动名称", "Activity", 128), ("社团 / 组织", "Club", 80),
        ("级别", "Level", 42), ("角色", "Role", 42), ("学时", "Hours", 32),
        ("奖项", "Award", 66), ("认证人", "Certified by", 70))


def floor_pdf(s, link: str) -> bytes:
    """The same strings, bars and QR code with plain canvas calls and no layout."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    w, h = A4
    c.beginForm("qr", 0, 0, 92, 92)
    draw_qr(c, link, 0, 0, 92)
    c.endForm()
    recs = list(s.records)
    first, per_page = 12, 26
    chunks = [recs[:first]] + [recs[i:i + per_page] for i in range(first, len(recs), per_page)]
    n_pages = len(chunks)
    verify = verify_page_url(link)
    by_module = s.hours_by_module
    for page_no, chunk in enumerate(chunks, start=1):
        c.setFont(FONT_NAME, 15)
        c.drawString(42, h - 51, s.institution)
        c.setFont(FONT_NAME, 24)
        c.drawString(42, h - 82, "第二课堂成绩单")
        c.setFont(FONT_NAME, 13)
        c.drawString(218, h - 82, "Second Transcript")
        c.setFont(FONT_NAME, 8)
        c.drawString(42, h - 97,
                     "第二课堂活动认证记录 · Certified record of extracurricular activities")
        c.drawString(42, h - 114, f"编号 Serial: {s.serial}    签发日期 Date of issue: "
                                  f"{s.issued_on.isoformat()}")
        c.drawString(42, h - 128,
                     f"姓名 Name: {s.student_name}    学号 Student No.: {s.student_no}")
        c.drawString(480, h - 135, "扫码验证 Scan to verify")
        c.saveState()
        c.translate(w - 42 - 92, h - 36 - 92)
        c.doForm("qr")
        c.restoreState()
        c.linkURL(link, (w - 134, h - 128, w - 42, h - 36))
        c.line(42, h - 142, w - 42, h - 142)
        y = h - 160
        if page_no == 1:
            info = (("姓名 Name", s.student_name), ("学号 Student No.", s.student_no),
                    ("院系 Unit", s.unit), ("签发日期 Date of issue", s.issued_on.isoformat()))
            for i, (label, value) in enumerate(info):
                c.drawString(48 + (i % 2) * 255, y - (i // 2) * 26, label)
                c.drawString(112 + (i % 2) * 255, y - (i // 2) * 26, value)
            y -= 70
            c.drawString(48, y, f"总学时 Total hours {s.total_hours}")
            c.drawString(48, y - 18, f"已认证活动 Activities {s.activity_count}")
            c.drawString(48, y - 36, f"获奖 Awards {s.award_count}")
            for key, zh, en in MODULES:
                y -= 14
                c.drawString(190, y, f"{zh} {en}")
                c.rect(340, y, float(by_module[key]), 8, stroke=0, fill=1)
                c.drawString(520, y, str(by_module[key]))
            y -= 30
        x = 42
        for zh, en, cw in COLS:
            c.drawString(x + 3, y, zh)
            c.drawString(x + 3, y - 8, en)
            x += cw
        y -= 22
        module = None
        for r in chunk:
            if r.module != module:
                module = r.module
                zh, en = _MOD[module]
                c.drawString(45, y, f"{zh} {en}")
                y -= 14
            cells = (r.date.isoformat(), r.activity, r.club, _LEVEL[r.level][0], _ROLE[r.role][0],
                     str(r.hours), r.award or "—", r.certified_by)
            x = 42
            for (_zh, _en, cw), text in zip(COLS, cells, strict=True):
                c.drawString(x + 3, y, text)
                x += cw
            c.drawString(261, y - 8, _LEVEL[r.level][1])
            c.drawString(303, y - 8, _ROLE[r.role][1])
            y -= 20
        c.line(42, 64, w - 42, 64)
        c.drawString(42, 54, f"编号 Serial: {s.serial}")
        c.drawString(250, 54, f"第 {page_no} 页 / 共 {n_pages} 页 · Page {page_no} of {n_pages}")
        c.drawString(460, 54, f"签发日期 Issued: {s.issued_on.isoformat()}")
        c.drawString(42, 44, f"验证方法：扫描右上角二维码，或在 {verify} 上传本 PDF 文件核验。")
        c.drawString(42, 36, f"To verify: scan the QR code, or upload this PDF at {verify}.")
        c.showPage()
    c.save()
    return buf.getvalue()


def transcript_html(s, link: str) -> str:
    """The same transcript as HTML + CSS for WeasyPrint."""
    e = html.escape
    n = qr_modules(link)
    rects = "".join(f'<rect x="{x}" y="{n - y - hh}" width="{ww}" height="{hh}"/>'
                    for x, y, ww, hh in qr_rects(link))
    qr = (f'<svg class="qr" viewBox="0 0 {n} {n}" xmlns="http://www.w3.org/2000/svg">'
          f'<rect width="{n}" height="{n}" fill="#fff"/><g fill="#000">{rects}</g></svg>')
    by_module = s.hours_by_module
    peak = max(by_module.values()) or 1
    bars = "".join(
        f'<tr><td>{zh} <small>{en}</small></td><td class="bar"><div style="width:'
        f'{float(by_module[k] / peak) * 100:.1f}%"></div></td><td>{by_module[k]}</td></tr>'
        for k, zh, en in MODULES)
    sections = []
    recs = s.records_by_module
    for k, zh, en in MODULES:
        if not recs[k]:
            continue
        rows = "".join(
            f"<tr><td>{r.date.isoformat()}</td><td>{e(r.activity)}</td><td>{e(r.club)}</td>"
            f"<td>{_LEVEL[r.level][0]}<br><small>{_LEVEL[r.level][1]}</small></td>"
            f"<td>{_ROLE[r.role][0]}<br><small>{_ROLE[r.role][1]}</small></td>"
            f"<td class=num>{r.hours}</td><td>{e(r.award or '—')}</td>"
            f"<td>{e(r.certified_by)}</td></tr>"
            for r in recs[k])
        head = "".join(f"<th>{zh_}<br><small>{en_}</small></th>" for zh_, en_, _ in COLS)
        sections.append(f'<h3>{zh} <small>{en}</small></h3><table class="rec"><thead><tr>{head}'
                        f"</tr></thead><tbody>{rows}</tbody></table>")
    verify = verify_page_url(link)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 150pt 42pt 70pt 42pt;
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 " counter(pages) " 页 · Page "
     counter(page) " of " counter(pages); font-size: 7.5pt; }}
  @bottom-left {{ content: "编号 Serial: {s.serial}"; font-size: 7pt; }} }}
body {{ font-family: "WenQuanYi Micro Hei", sans-serif; font-size: 7.5pt; color: #1c1c21; }}
header {{ position: fixed; top: -120pt; left: 0; right: 0; height: 110pt;
  border-bottom: 2pt solid #9e1717; }}
header h1 {{ color: #9e1717; font-size: 24pt; margin: 0; }}
.qr {{ position: absolute; right: 0; top: 0; width: 92pt; height: 92pt; }}
footer {{ position: fixed; bottom: -50pt; left: 0; right: 0; font-size: 6.5pt; color: #666; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 0.4pt solid #b3b3ba; padding: 3pt; vertical-align: top; text-align: left; }}
th {{ background: #ededf2; }} .num {{ text-align: right; }}
.bar div {{ background: #b32929; height: 7pt; }} small {{ color: #666; font-size: 6pt; }}
h3 {{ background: #f9f0eb; color: #9e1717; font-size: 9pt; padding: 3pt; margin: 6pt 0 0; }}
</style></head><body>
<header><div>{e(s.institution)}</div><h1>第二课堂成绩单 <small>Second Transcript</small></h1>
<div>编号 Serial: {s.serial} · 签发日期 Date of issue: {s.issued_on.isoformat()}</div>{qr}</header>
<footer>验证方法：扫描右上角二维码，或在 {verify} 上传本 PDF 文件核验。<br>
To verify: scan the QR code, or upload this PDF at {verify}.</footer>
<table><tr><th>姓名 Name</th><td>{e(s.student_name)}</td><th>学号 Student No.</th>
<td>{e(s.student_no)}</td></tr><tr><th>院系 Unit</th><td>{e(s.unit)}</td><th>签发日期</th>
<td>{s.issued_on.isoformat()}</td></tr></table>
<h2>学时汇总 Summary</h2><p>总学时 Total hours {s.total_hours} · 已认证活动 {s.activity_count}
 · 获奖 {s.award_count}</p><table>{bars}</table>
<h2>活动记录 Certified records</h2>{''.join(sections)}
<p>— 以下空白 · End of records —</p></body></html>"""


def _median_ms(fn, runs: int) -> float:
    return _medians_ms([fn], runs)[0]


def _medians_ms(fns, runs: int) -> list[float]:
    """Median wall time of each function; the functions take turns, so that a busy
    machine slows them alike instead of skewing the ratio."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            gc.collect()
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return [statistics.median(t) for t in times]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    rl_config.useA85 = 0  # the floor's cheapest setting; ours never uses ASCII85 anyway
    get_font()
    key = generate_key()
    cert = make_school_certificate("示例大学 Example University")
    cases = {}
    for n in SIZES:
        s = sample_snapshot(n)
        link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, key)
        cases[n] = (s, link)
        render_pdf(s, link, key, zh=ZH)  # warm caches (QR matrix, glyph widths)
        render_pdf(s, link, key, zh=ZH, certificate=cert)  # and pyHanko's imports
        floor_pdf(s, link)
    runs = {10: 21, 60: 15, 200: 7} if not quick else {10: 5, 60: 5, 200: 3}
    rows = []
    for n in SIZES:
        s, link = cases[n]
        ours, floor, signed = _medians_ms([
            lambda s=s, link=link: render_pdf(s, link, key, zh=ZH),
            lambda s=s, link=link: floor_pdf(s, link),
            lambda s=s, link=link: render_pdf(s, link, key, zh=ZH, certificate=cert)], runs[n])
        pages = render_pdf(s, link, key, zh=ZH).count(b"/Type /Page\n")
        rows.append((n, ours, floor, pages, signed))

    weasy_ms = float("nan")
    try:
        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        logging.getLogger("fontTools").setLevel(logging.ERROR)
        from weasyprint import HTML

        s, link = cases[60]
        doc = transcript_html(s, link)
        HTML(string=transcript_html(*cases[10])).write_pdf()  # warm up fonts
        weasy_ms = _median_ms(lambda: HTML(string=doc).write_pdf(), 1 if quick else 3)
    except ImportError:
        print("weasyprint not installed (pip install -e '.[bench]'); peer skipped")

    print(f"{'records':>8} {'pages':>6} {'ours ms':>9} {'floor ms':>9} {'ratio':>6} {'signed ms':>10} "
          f"{'weasyprint ms':>14}")
    for n, ours, floor, pages, signed in rows:
        w = f"{weasy_ms:14.0f}" if n == 60 else f"{'—':>14}"
        print(f"{n:>8} {pages:>6} {ours:9.1f} {floor:9.1f} {ours / floor:6.2f} {signed:10.1f} {w}")
    ours60, floor60, signed60 = rows[1][1], rows[1][2], rows[1][4]
    from reportlab.lib import rl_accel

    accel = "present" if "fp_str" in rl_accel._c_funcs else "absent (pip install rl-accel)"
    print(f"reportlab C accelerator: {accel}; floor: plain Canvas.drawString, no ASCII85")
    print(f"weasyprint / ours at 60 records: {weasy_ms / ours60:.0f}x")
    print(f"pdf: 60 records median {ours60:.1f} ms, floor {floor60:.1f} ms, "
          f"ratio {ours60 / floor60:.2f}, signed {signed60:.1f} ms, weasyprint {weasy_ms:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
