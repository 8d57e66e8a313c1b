"""Every page of every demo role, checked by machines: valid HTML, accessible, usable on a phone.

The demo school (`flask demo-data`) is served by gunicorn on a free port. Each demo person signs
in and opens every page they can reach by following the links of the site from their home page
(one page per route), plus the public pages; a test proves every HTML route of
tests/test_page_matrix.py that the role may open was reached. Then:

* the Nu HTML checker (npm `vnu-jar`, run once over all the pages as served) finds no error;
* axe-core (npm `axe-core`) finds no serious or critical violation;
* headings go down one level at a time under one h1;
* at 390 × 844 no page scrolls sideways and no table cell lies outside the screen: a table is
  either narrow enough or shown as stacked cards (app.css, labels from app.js), so every column
  (hours, status, Approve, Reject) is in view without sideways scrolling.

All of it in Chinese (the browser's locale zh-CN, as tests/browser.py sets it), and again in
English (locale en-US, which the site follows) for the same pages, except that axe looks only at
each person's home page in English. Each person's home page is photographed in both languages at
390 and 1280 px, and with PAGE_SHOTS=all every page they reach (a photograph costs more than all
the checks of a page, so the whole album is for the person who looks at it):
tests/e2e/artifacts/pages/<zh-CN|en-US>/<person>_<route>-<width>.png.

The checkers live in tests/e2e/checkers (package.json + lock), `npm ci` when node_modules is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser import LOCALE
from tests.e2e.conftest import ARTIFACTS, PHONE, LiveServer
from tests.test_page_matrix import PAGES

CHECKERS = Path(__file__).resolve().parent / "checkers"
DEMO_PASSWORD = "demo12345"
# demo login → the visitor of tests/test_page_matrix.py whose rights it has
ROLES = {"admin": "admin", "wang.laoshi": "advisor", "cs.tuanwei": "advisor", "li.xiaoyu": "leader",
         "zhang.wei": "student"}
HOME = {"admin": "/admin", "wang.laoshi": "/organizer", "cs.tuanwei": "/organizer", "li.xiaoyu": "/leader",
        "zhang.wei": "/me"}
NOT_HTML = re.compile(r"\.(csv|pdf|svg|json|xlsx|png|zip)$|^/verify/offline\.html$|^/healthz$|^/login/|^/logout"
                      r"|^/claims/[^/]+/files/")
# Routes a demo person has the right to but no link leads to in the demo school: a student's own
# progress is /me/progress (the same page), never linked by their number.
UNREACHABLE: dict[str, set[str]] = {"zhang.wei": {"/students/<student_no>/progress"},
                                    "li.xiaoyu": {"/students/<student_no>/progress"}}
# Known failures still to fix: {(check, route): reason}. Empty: every page passes.
EXPECTED_FAILURES: dict[tuple[str, str], str] = {}
MAX_PAGES_PER_ROLE = 40
DESKTOP = {"width": 1280, "height": 900}
ENGLISH = "en-US"  # what an English Chromium sends; the site answers in English
SCREENS = ARTIFACTS / "pages"
EVERY_PAGE_PHOTOGRAPHED = os.environ.get("PAGE_SHOTS") == "all"
# The pages anyone may open (the matrix's anonymous 200s): checked once, by a visitor not signed in.
PUBLIC = {re.sub(r"<int:\w+>", "<id>", p.rule) for p in PAGES if p.expected["anonymous"] == 200}

CLIPPED_JS = """() => {
  const out = [];
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    out.push(`page is ${document.documentElement.scrollWidth}px wide`);
  }
  document.querySelectorAll('table td, table th').forEach(cell => {
    const box = cell.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) return;           // not shown (e.g. a card's hidden head)
    if (cell.closest('.sr-only')) return;
    if (box.left < -1 || box.right > width + 1) {
      const text = cell.textContent.trim().slice(0, 30);
      out.push(`${cell.tagName.toLowerCase()} "${text}" at ${Math.round(box.left)}–${Math.round(box.right)}px`);
    }
  });
  return out.slice(0, 5);
}"""


AXE_JS = """async () => {
  await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 0)));  // after the resize
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => ['serious', 'critical'].includes(v.impact)).map(v => ({
    rule: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


# Headings go down one level at a time (h1, then h2, …) and a page has one h1.
HEADINGS_JS = """() => {
  const out = [];
  let last = 0, ones = 0;
  document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(h => {
    const level = Number(h.tagName[1]);
    if (level === 1) ones += 1;
    if (level > last + 1) out.push(`h${level} "${h.textContent.trim().slice(0, 30)}" after h${last}`);
    last = level;
  });
  if (ones !== 1) out.push(`${ones} h1 headings`);
  return out;
}"""


def route_of(path: str) -> str:
    """The route a path is one page of: ids and serials become placeholders."""
    path = re.sub(r"^/v/[^/]+$", "/v/<serial>", path)
    path = re.sub(r"^/V/[^/]+/[0-9]+$", "/V/<serial>/<payload>", path)
    path = re.sub(r"^/password/reset/[^/]+$", "/password/reset/<token>", path)
    path = re.sub(r"^/share/[^/]+$", "/share/<token>", path)
    path = re.sub(r"^/transcripts/(?![^/]+\.pdf$)[^/]+$", "/transcripts/<serial>", path)
    path = re.sub(r"^/students/[^/]+/", "/students/<student_no>/", path)
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def matrix_route(rule: str) -> str:
    return re.sub(r"<int:\w+>", "<id>", rule)


@pytest.fixture(scope="module")
def checkers():
    if not (CHECKERS / "node_modules" / "axe-core").is_dir() or not (CHECKERS / "node_modules" / "vnu-jar").is_dir():
        npm = shutil.which("npm")
        if not npm:
            pytest.fail("npm is needed for the page checks (Nu HTML checker, axe-core)", pytrace=False)
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CHECKERS, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr + result.stdout
    if not shutil.which("java"):
        pytest.fail("Java is needed for the Nu HTML checker: sudo apt-get install -y default-jre-headless",
                    pytrace=False)
    return CHECKERS / "node_modules"


@pytest.fixture(scope="module")
def demo_server():
    server = LiveServer.new("checks")
    server.flask("db", "upgrade")
    server.flask("keys", "generate")  # after the schema: making a key is audited
    server.flask("demo-data")
    with server.serving():
        yield server


def _sign_in(context, base: str, username: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**{HOME[username]}")
    page.close()


def _links(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" == base and not NOT_HTML.search(parts.path):
            paths.append(parts.path)
    return paths


def _visit(browser, base: str, axe_js: Path, username: str | None, start: list[str], folder: Path,
           public_links: dict[str, str], locale: str = LOCALE, axe_everywhere: bool = True) -> dict:
    """Open every route reachable from `start`; returns {route: {"path", "html", "clipped", "axe"}}.

    Each page is loaded once at 390 × 844 (the phone check), then widened to 1280 × 900 for axe;
    the first (the person's home), or with PAGE_SHOTS=all each, is photographed at both sizes.
    Without `axe_everywhere` axe looks at the first page only (the person's home). The context
    bypasses the CSP only so Playwright may add axe's script (the page's CSP is script-src
    'self'); the app's own scripts and styles are all 'self' or allowed inline styles, so what
    the page shows is the same with or without it.
    """
    screens = SCREENS / locale
    screens.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, locale=locale, bypass_csp=True)
    if username:
        _sign_in(context, base, username)
    seen: dict[str, dict] = {}
    queue = list(start)
    page = context.new_page()
    try:
        while queue and len(seen) < MAX_PAGES_PER_ROLE:
            path = queue.pop(0)
            route = route_of(path)
            if route in seen:
                continue
            page.set_viewport_size(PHONE)
            response = page.goto(base + path)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            final = urlsplit(page.url).path
            if route_of(final) != route:  # a redirect: look at where it went instead
                queue.insert(0, final)
                continue
            stem = f"{username or 'public'}{route}".replace("/", "_").replace("<", "").replace(">", "")
            name = f"{locale}_{stem}.html"
            (folder / name).write_text(response.text(), encoding="utf-8")
            entry = {"path": path, "status": response.status, "html": name, "clipped": page.evaluate(CLIPPED_JS),
                     "headings": page.evaluate(HEADINGS_JS)}
            photographed = EVERY_PAGE_PHOTOGRAPHED or not seen
            if photographed:
                page.screenshot(path=str(screens / f"{stem}-{PHONE['width']}.png"), full_page=True)
            links = _links(page, base)
            page.set_viewport_size(DESKTOP)
            if photographed:
                page.screenshot(path=str(screens / f"{stem}-{DESKTOP['width']}.png"), full_page=True)
            if axe_everywhere or not seen:
                page.add_script_tag(path=str(axe_js))
                entry["axe"] = page.evaluate(AXE_JS)
            else:
                entry["axe"] = []
            entry["lang"] = page.evaluate("document.documentElement.lang")
            seen[route] = entry
            if username:  # the public pages are checked once, signed out; note where they were linked
                for p in links:
                    if route_of(p) in PUBLIC:
                        public_links.setdefault(route_of(p), p)
                links = [p for p in links if route_of(p) not in PUBLIC]
            queue.extend(p for p in links if route_of(p) not in seen)
    finally:
        context.close()
    return seen


def _extra_starts(server) -> dict[str, list[str]]:
    """Pages no link of the crawl reaches first: the leader's approved activity (the crawl opens
    one activity page, and only an approved one offers the check-in screen and late entry) and
    the page a phone opens from the venue's QR code (no link leads there: a camera does)."""
    import sqlalchemy as sa

    engine = sa.create_engine(server.env["DATABASE_URL"])
    with engine.connect() as conn:
        activity = conn.execute(sa.text(
            "SELECT a.id FROM activity a JOIN club_leader cl ON cl.club_id = a.club_id "
            "JOIN user_account u ON u.id = cl.user_id WHERE u.username = 'li.xiaoyu' AND a.status = 'approved' "
            "ORDER BY a.starts_at DESC LIMIT 1")).scalar_one()
        plan = conn.execute(sa.text(
            "SELECT a.id FROM activity a JOIN club_leader cl ON cl.club_id = a.club_id "
            "JOIN user_account u ON u.id = cl.user_id WHERE u.username = 'li.xiaoyu' "
            "AND a.status IN ('draft', 'submitted') ORDER BY a.starts_at DESC LIMIT 1")).scalar_one()
        # a graduation batch of one class, so the office's batch page has one to open (issued here, --now)
        klass = conn.execute(sa.text(
            "SELECT c.name FROM school_class c JOIN user_account u ON u.class_id = c.id "
            "JOIN participation p ON p.student_id = u.id AND p.status = 'certified' "
            "ORDER BY c.name LIMIT 1")).scalar_one()
    engine.dispose()
    server.flask("transcripts", "batch", "--class", klass, "--now")
    page, scan = f"/activities/{activity}", f"/c/{activity}?c=scanned&d=in"
    # the plan still open to change: its edit page (the activity page opened first is the approved one)
    return {"admin": [page], "li.xiaoyu": [page, scan, f"/activities/{plan}/edit"], "zhang.wei": [scan]}


@pytest.fixture(scope="module")
def visited(browser, demo_server, checkers, tmp_path_factory):
    """{who: {route: entry}}: who is a demo login or "public" in Chinese, "en:<who>" in English."""
    folder = tmp_path_factory.mktemp("pages")
    axe_js = checkers / "axe-core" / "axe.min.js"
    base = demo_server.url
    shutil.rmtree(SCREENS, ignore_errors=True)  # this run's photographs only
    pages: dict[str, dict] = {}
    extra = _extra_starts(demo_server)
    for locale, prefix in ((LOCALE, ""), (ENGLISH, "en:")):
        chinese = locale == LOCALE
        public_links: dict[str, str] = {}
        for username in ROLES:
            start = [HOME[username], "/account/password", *extra.get(username, ())]
            pages[prefix + username] = _visit(browser, base, axe_js, username, start,
                                              folder, public_links, locale, axe_everywhere=chinese)
        # the public pages once, by a visitor who is not signed in: among them a demo transcript's
        # verify link (/v/<serial>) found on the office's and the student's pages
        start = ["/login", "/verify", "/password/reset/not-a-link", "/share/not-a-link", *public_links.values()]
        pages[prefix + "public"] = _visit(browser, base, axe_js, None, start, folder, {}, locale,
                                          axe_everywhere=chinese)
    return folder, pages


def _failures(check: str, found: dict[str, list]) -> list[str]:
    unexpected = [f"{where}: {what}" for where, what in found.items()
                  if what and (check, where.split(" ", 1)[1]) not in EXPECTED_FAILURES]
    return unexpected


def test_every_role_reaches_every_page_it_may_open(visited):
    _, pages = visited
    missing = {}
    for username, visitor in ROLES.items():
        allowed = {matrix_route(p.rule) for p in PAGES if p.expected.get(visitor) == 200
                   and not NOT_HTML.search(p.rule) and "<fmt>" not in p.rule} - PUBLIC
        gap = allowed - set(pages[username]) - UNREACHABLE.get(username, set())
        if gap:
            missing[username] = sorted(gap)
    assert not missing, f"pages a demo person may open but did not reach: {missing}"
    broken = [f"{who} {entry['path']}: {entry['status']}" for who, seen in pages.items() for entry in seen.values()
              if entry["status"] >= 500]
    assert not broken, f"pages that answered with a server error: {broken}"
    not_pages = {"/.well-known/jwks.json", "/.well-known/audit-checkpoints.json", "/healthz",
                 "/.well-known/did.json", "/status/<id>", "/verify/offline.html"}
    # what only an old transcript's QR code (form 1) or a phone lower-casing a link asks for
    not_printed = {"/v/<serial>", "/v/<serial>/<payload>"}
    assert PUBLIC - not_pages - not_printed <= set(pages["public"])


def test_every_page_is_valid_html(visited, checkers):
    folder, pages = visited
    jar = checkers / "vnu-jar" / "build" / "dist" / "vnu.jar"
    result = subprocess.run(["java", "-jar", str(jar), "--errors-only", "--format", "json",
                             *sorted(str(p) for p in folder.glob("*.html"))], capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: it found errors
    messages = json.loads(result.stderr or result.stdout)["messages"]
    by_file = {entry["html"]: f"{who} {route}" for who, seen in pages.items() for route, entry in seen.items()}
    found: dict[str, list] = {}
    for message in messages:
        if message.get("type") not in ("error", "non-document-error"):
            continue
        where = by_file.get(Path(urlsplit(message.get("url", "")).path).name, message.get("url", "?"))
        found.setdefault(where, []).append(f"line {message.get('lastLine')}: {message['message']}")
    bad = _failures("html", {k: v[:5] for k, v in found.items()})
    assert not bad, "Nu HTML checker errors:\n" + "\n".join(bad)


def test_no_page_has_a_serious_accessibility_violation(visited):
    _, pages = visited
    found = {f"{who} {route}": [f"{v['impact']} {v['rule']} at {v['nodes']}" for v in entry["axe"]]
             for who, seen in pages.items() for route, entry in seen.items()}
    bad = _failures("axe", found)
    assert not bad, "axe-core serious/critical violations:\n" + "\n".join(bad)


def test_every_page_fits_a_phone_without_clipped_columns(visited):
    _, pages = visited
    found = {f"{who} {route}": entry["clipped"] for who, seen in pages.items() for route, entry in seen.items()}
    bad = _failures("phone", found)
    assert not bad, "at 390 px, sideways scrolling or cells off screen:\n" + "\n".join(bad)


def test_every_page_has_one_title_and_headings_that_skip_no_level(visited):
    _, pages = visited
    found = {f"{who} {route}": entry["headings"] for who, seen in pages.items() for route, entry in seen.items()}
    bad = _failures("headings", found)
    assert not bad, "heading levels:\n" + "\n".join(bad)


def test_pages_are_in_the_browsers_language(visited):
    """A Chinese browser gets Chinese pages, an English one English: <html lang> says which."""
    _, pages = visited
    wrong = [f"{who} {route}: lang={entry['lang']!r}" for who, seen in pages.items() for route, entry in seen.items()
             if entry["lang"] != ("en" if who.startswith("en:") else "zh-CN")]
    assert not wrong, "pages in the other language:\n" + "\n".join(wrong)
    for username in ROLES:
        assert set(pages["en:" + username]) == set(pages[username]), f"{username} reaches other pages in English"
    shots = {p.name for p in SCREENS.glob("*/*.png")}
    assert len(shots) >= 4 and all(f"{name}-{w}.png" in shots for name in ("admin_admin", "zhang.wei_me")
                                   for w in (PHONE["width"], DESKTOP["width"]))
