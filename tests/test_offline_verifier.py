"""The verifier that needs no server (#16): one HTML file from the verify landing page with the
public keys inside it, checking a QR link's Ed25519 signature in Chromium (WebCrypto), from
file://, with the network cut off."""

from __future__ import annotations

from datetime import timedelta

import pytest

import credentials
from app.timeutil import to_local, utcnow


@pytest.fixture
def issued(client, make):
    w = make.world()
    student = w.students[0]
    activity = make.activity(w.club, title="敬老院志愿服务", hours="4", status="completed")
    make.participation(activity, student, status="certified", certifier=w.advisor)
    response = client.post(f"/api/v1/students/{student.student_no}/transcripts", headers=make.token(student))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def download(client, tmp_path, name="verifier.html", language="zh-CN"):
    landing = client.get("/verify", headers={"Accept-Language": language}).get_data(as_text=True)
    assert 'href="/verify/offline.html"' in landing
    response = client.get("/verify/offline.html", headers={"Accept-Language": language})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def check_in_browser(new_page, path, link: str) -> tuple[str, str]:
    page = new_page()
    page.context.set_offline(True)  # nothing it does may need the network
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.fill("#link", link)
    page.click("#check")
    page.wait_for_selector("#result:not([hidden])")
    assert all(url.startswith("file://") for url in requests), requests
    return page.inner_text("#result h2"), page.inner_text("#result p")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_static_verifier_checks_a_link_in_chromium(client, issued, new_page, tmp_path):
    path = download(client, tmp_path)
    html = path.read_text("utf-8")
    assert "<script src" not in html and "http" not in html.split("<script")[1].split("</script>")[0]
    link = issued["verify_url"]
    verdict, detail = check_in_browser(new_page, path, link)
    assert verdict == "有效" and issued["serial"] in detail and issued["key_id"] in detail
    # one character of the signature changed: not genuine
    tampered = link[:-3] + str((int(link[-3]) + 1) % 10) + link[-2:]
    assert credentials.verify_link(tampered, client.get("/.well-known/jwks.json").get_json()).genuine is False
    verdict, detail = check_in_browser(new_page, path, tampered)
    assert verdict == "无效" and "签名与内容不符" in detail
    # anything that is not a link
    verdict, detail = check_in_browser(new_page, path, "https://example.com/")
    assert "不是成绩单的验证链接" in detail


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_static_verifier_knows_a_revoked_key_and_reads_in_english(app, client, issued, new_page, tmp_path):
    today = to_local(utcnow()).date()
    before = download(client, tmp_path, "before.html", "en")
    verdict, detail = check_in_browser(new_page, before, issued["verify_url"])
    assert verdict == "Genuine" and issued["serial"] in detail
    revoked = app.test_cli_runner().invoke(args=["keys", "revoke", "--from", today.isoformat(), "--", issued["key_id"]])
    assert revoked.exit_code == 0, revoked.output
    after = download(client, tmp_path, "after.html", "en")
    verdict, detail = check_in_browser(new_page, after, issued["verify_url"])
    assert verdict == "Not genuine" and f"revoked from {today.isoformat()}" in detail
    # a key the file does not know: a verifier saved before a rotation, a link signed after it
    assert app.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    ring = credentials.KeyRing.load_dir(app.config["SIGNING_KEY_DIR"])
    later = credentials.make_link(app.config["PUBLIC_BASE_URL"], issued["serial"], "ab" * 32,
                                  today + timedelta(days=1), ring.active)
    verdict, detail = check_in_browser(new_page, before, later)
    assert verdict == "Not genuine" and "does not know" in detail


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_static_verifier_checks_a_link_in_the_old_form_too(app, client, session, issued, new_page, tmp_path):
    from app.services import transcripts

    transcript = transcripts.get_transcript(session, issued["serial"])
    ring = credentials.KeyRing.load_dir(app.config["SIGNING_KEY_DIR"])
    old = credentials.make_link(app.config["PUBLIC_BASE_URL"], issued["serial"], transcript.digest,
                                to_local(transcript.issued_at), ring.active, version=1)
    path = download(client, tmp_path, "verifier.html", "en")
    verdict, detail = check_in_browser(new_page, path, old)
    assert verdict == "Genuine" and issued["serial"] in detail
    verdict, _detail = check_in_browser(new_page, path, old[:-3] + ("AAA" if not old.endswith("AAA") else "BBB"))
    assert verdict == "Not genuine"
