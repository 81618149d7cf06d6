"""The /ui dashboard: served with a strict CSP, and driven in headless Chromium (Debian's `chromium`,
Playwright for Python using that executable) against a live `engram serve`: a wrong key shows an error,
login lists the user's memories (never another user's), a memory opens with its detail, search shows the
explain breakdown, health renders. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.helpers import Api

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_ui_is_served_with_a_strict_csp(api: Api) -> None:
    page = api.call("GET", "/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert '<script src="/ui/app.js"' in page.text and "<script>" not in page.text  # no inline script
    js = api.call("GET", "/ui/app.js")
    assert js.status_code == 200 and "sessionStorage" in js.text and "innerHTML" not in js.text
    assert api.call("GET", "/ui/app.css").headers["content-type"].startswith("text/css")


def _user_key(base: str, admin: dict[str, str], name: str) -> str:
    r = httpx.post(f"{base}/users", headers=admin, json={"name": name, "scopes": ["read", "write"]})
    assert r.status_code == 201, r.text
    return str(r.json()["api_key"])


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (scripts/test installs it)"
)
def test_dashboard_in_headless_chromium(server: tuple[str, dict[str, str]]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base, admin = server
    alice, bob = _user_key(base, admin, "alice"), _user_key(base, admin, "bob")
    ids = []
    for text in ("alice keeps bees on the roof", "alice's sourdough starter is called Gerald"):
        r = httpx.post(f"{base}/store", headers={"Authorization": f"Bearer {alice}"}, json={"content": text})
        ids.append(r.json()["id"])
    httpx.post(f"{base}/store", headers={"Authorization": f"Bearer {bob}"}, json={"content": "bob's secret memory"})
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "401" not in m.text else None)
        page.goto(f"{base}/ui")
        page.fill("#key", "engram_" + "0" * 32)
        page.click("#login-form button")
        page.wait_for_selector("#error:not([hidden])")
        assert "Login failed" in page.inner_text("#error")
        page.screenshot(path=str(SHOTS / "login-error.png"))
        page.fill("#key", alice)
        page.click("#login-form button")
        page.wait_for_selector("#memory-list tbody tr")
        listed = page.inner_text("#memory-list")
        assert "bees on the roof" in listed and "Gerald" in listed and "bob's secret" not in listed
        page.screenshot(path=str(SHOTS / "memories.png"))
        page.click(f"#memory-list tr[data-id='{ids[0]}']")
        page.wait_for_selector("#detail:not([hidden]) h2")
        assert "bees on the roof" in page.inner_text("#detail")
        page.screenshot(path=str(SHOTS / "memory-detail.png"))
        page.click("a[data-page=search]")
        page.fill("#query", "sourdough starter")
        page.click("#search-form button")
        page.wait_for_selector("#results .result")
        found = page.inner_text("#results")
        assert "Gerald" in found and "bob" not in found
        assert "fts: rank 1, score" in found and "NaN" not in found and "undefined" not in found  # the explain data
        page.screenshot(path=str(SHOTS / "search.png"))
        pending = httpx.post(
            f"{base}/store",
            headers={"Authorization": f"Bearer {alice}"},
            json={"content": "alice may like kayaking", "status": "pending"},
        ).json()["id"]
        httpx.post(
            f"{base}/store",
            headers={"Authorization": f"Bearer {bob}"},
            json={"content": "bob's pending secret", "status": "pending"},
        )
        link = httpx.post(
            f"{base}/links",
            headers={"Authorization": f"Bearer {alice}"},
            json={"source_id": ids[0], "target_id": ids[1]},
        )
        assert link.status_code == 201, link.text
        page.click("a[data-page=graph]")
        page.wait_for_selector(f"#graph-nodes li[data-id='{ids[0]}']")
        assert page.evaluate("state.cy.nodes().length") == 2 and page.evaluate("state.cy.edges().length") == 1
        assert "bob" not in page.inner_text("#graph-nodes")
        assert page.query_selector("#graph-canvas canvas") is not None
        page.screenshot(path=str(SHOTS / "graph.png"))
        page.click("a[data-page=inbox]")
        page.wait_for_selector(f"#inbox-list tr[data-id='{pending}']")
        assert "bob" not in page.inner_text("#inbox-list") and "1 pending" in page.inner_text("#inbox-info")
        page.screenshot(path=str(SHOTS / "inbox.png"))
        page.click(f"#inbox-list tr[data-id='{pending}'] button[data-action=approve]")
        page.wait_for_selector("#inbox-info:has-text('Nothing to review')")
        got = httpx.get(f"{base}/memory/{pending}", headers={"Authorization": f"Bearer {alice}"}).json()
        assert got["status"] == "approved"
        auth_a = {"Authorization": f"Bearer {alice}"}
        old = httpx.post(f"{base}/store", headers=auth_a, json={"content": "The garage door opens by remote."}).json()
        new = httpx.post(f"{base}/store", headers=auth_a, json={"content": "The garage door does not open by remote."})
        bob_h = {"Authorization": f"Bearer {bob}"}
        httpx.post(f"{base}/store", headers=bob_h, json={"content": "Bob's shed is locked."})
        httpx.post(f"{base}/store", headers=bob_h, json={"content": "Bob's shed is not locked."})
        for h in (auth_a, bob_h):
            assert httpx.post(f"{base}/contradictions", headers=h, timeout=60).json()["count"] == 1
        page.click("a[data-page=contradictions]")
        page.wait_for_selector("#contradiction-list .pair")
        shown = page.inner_text("#contradiction-list")
        assert "does not open by remote" in shown and "shed" not in shown
        page.screenshot(path=str(SHOTS / "contradictions.png"))
        page.click("#contradiction-list .pair button[data-action=keep-newer]")
        page.wait_for_selector("#contradiction-list .empty")
        trashed = httpx.get(f"{base}/memory/trash", headers=auth_a).json()
        assert old["id"] in [m["id"] for m in trashed.get("results", trashed.get("memories", []))], trashed
        assert httpx.get(f"{base}/memory/{new.json()['id']}", headers=auth_a).status_code == 200
        page.click("a[data-page=keys]")
        page.wait_for_selector("#key-list tbody tr")
        assert page.is_hidden("#users-admin")  # alice is not an admin: no users list
        page.fill("#key-form input[name=name]", "laptop")
        page.click("#key-form button")
        page.wait_for_selector("#secret:not([hidden])")
        new_key = page.inner_text("#secret").split(": ")[1].split(" ")[0]
        assert httpx.get(f"{base}/me/stats", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
        page.wait_for_selector("#key-list tr:has-text('laptop')")
        assert len(page.query_selector_all("#key-list tbody tr")) == 2  # alice's two keys, never bob's
        page.once("dialog", lambda d: d.accept())
        page.click("#key-list tr:has-text('laptop') button[data-action=revoke]")
        page.wait_for_selector("#key-list tr:has-text('laptop') td:nth-child(5):not(:empty)")
        assert httpx.get(f"{base}/me/stats", headers={"Authorization": f"Bearer {new_key}"}).status_code == 401
        page.screenshot(path=str(SHOTS / "keys.png"))
        page.click("a[data-page=health]")
        page.wait_for_selector("#health-body dl")
        assert "ok" in page.inner_text("#health-body")
        page.wait_for_selector("#memories-chart rect")
        assert len(page.query_selector_all("#memories-chart rect")) >= 1
        assert "need an admin key" in page.inner_text("#health-charts")
        page.screenshot(path=str(SHOTS / "health.png"))
        assert page.evaluate("sessionStorage.getItem('engram.key')") == alice
        page.click("#logout")
        page.fill("#key", admin["Authorization"].removeprefix("Bearer "))
        page.click("#login-form button")
        page.wait_for_selector("#memory-list")
        page.click("a[data-page=keys]")
        page.wait_for_selector("#users-admin:not([hidden]) #user-list tbody tr")
        page.fill("#user-form input[name=name]", "carol")
        page.click("#user-form button")
        page.wait_for_selector("#user-list tr:has-text('carol')")
        users = page.inner_text("#user-list")
        assert "alice" in users and "bob" in users and "First key of user" in page.inner_text("#secret")
        page.screenshot(path=str(SHOTS / "users.png"))
        page.click("a[data-page=health]")
        page.wait_for_selector("#latency-chart rect")
        latency = page.inner_text("#health-charts")
        assert "search p50" in latency and "store p95" in latency
        page.screenshot(path=str(SHOTS / "health-admin.png"))
        browser.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
