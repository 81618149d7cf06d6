"""The /ui dashboard: served with a strict CSP, and driven in headless Chromium (Debian's `chromium`,
Playwright for Python using that executable) against a live `engram serve`: a wrong key shows an error,
login lists the user's memories (never another user's), a memory opens with its detail, search shows the
explain breakdown, health renders.

One server and one browser per module (per xdist worker: pytest 9 ignores xdist's `loadgroup`, so two
workers may each start one); each test makes its own users, so tests never see each other's data.
Screenshots are test artifacts: they go to `ENGRAM_SCREENSHOT_DIR` when set, else to pytest's temporary
directory; `ENGRAM_UPDATE_SCREENSHOTS=1` writes the committed ones in docs/screenshots/ instead (run it
when a page's look changes)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.support import live_server
from tests.helpers import Api

ROOT = Path(__file__).resolve().parents[2]
DOCS_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="chromium not installed (scripts/test installs it)"
)


def screenshot_dir(tmp: Path) -> Path:
    """Where this run's screenshots go: docs/screenshots/ only when asked (ENGRAM_UPDATE_SCREENSHOTS=1),
    else ENGRAM_SCREENSHOT_DIR, else ``tmp`` (pytest's temporary directory), so a test run never dirties
    the checkout."""
    if os.environ.get("ENGRAM_UPDATE_SCREENSHOTS", "").lower() in ("1", "true", "yes"):
        return DOCS_SHOTS
    chosen = os.environ.get("ENGRAM_SCREENSHOT_DIR")
    return Path(chosen) if chosen else tmp


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = screenshot_dir(tmp_path_factory.mktemp("screenshots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One `engram serve` for the module's browser tests."""
    with live_server(tmp_path_factory.mktemp("dashboard-server") / "data") as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module (each test opens its own context: its own sessionStorage)."""
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("chromium not installed (scripts/test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab in its own context; fails the test if the CSP refused anything."""
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" and "401" not in m.text else None)
    yield tab
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def shoot(shots: Path) -> Callable[[Any, str], None]:
    def take(tab: Any, name: str) -> None:
        tab.screenshot(path=str(shots / f"{name}.png"))

    return take


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


@needs_chromium
def test_dashboard_in_headless_chromium(
    live: tuple[str, dict[str, str]], page: Any, shoot: Callable[[Any, str], None]
) -> None:
    base, admin = live
    alice, bob = _user_key(base, admin, "alice"), _user_key(base, admin, "bob")
    ids = []
    for text in ("alice keeps bees on the roof", "alice's sourdough starter is called Gerald"):
        r = httpx.post(f"{base}/store", headers={"Authorization": f"Bearer {alice}"}, json={"content": text})
        ids.append(r.json()["id"])
    httpx.post(f"{base}/store", headers={"Authorization": f"Bearer {bob}"}, json={"content": "bob's secret memory"})
    page.goto(f"{base}/ui")
    page.fill("#key", "engram_" + "0" * 32)
    page.click("#login-form button")
    page.wait_for_selector("#error:not([hidden])")
    assert "Login failed" in page.inner_text("#error")
    shoot(page, "login-error")
    page.fill("#key", alice)
    page.click("#login-form button")
    page.wait_for_selector("#memory-list tbody tr")
    listed = page.inner_text("#memory-list")
    assert "bees on the roof" in listed and "Gerald" in listed and "bob's secret" not in listed
    shoot(page, "memories")
    page.click(f"#memory-list tr[data-id='{ids[0]}']")
    page.wait_for_selector("#detail:not([hidden]) h2")
    assert "bees on the roof" in page.inner_text("#detail")
    shoot(page, "memory-detail")
    page.click("a[data-page=search]")
    page.fill("#query", "sourdough starter")
    page.click("#search-form button")
    page.wait_for_selector("#results .result")
    found = page.inner_text("#results")
    assert "Gerald" in found and "bob" not in found
    assert "fts: rank 1, score" in found and "NaN" not in found and "undefined" not in found  # the explain data
    shoot(page, "search")
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
    at = page.evaluate("state.cy.nodes().map((n) => [n.position('x'), n.position('y')])")
    assert len({tuple(p) for p in at}) == 2  # laid out (preset positions from /graph), not piled at the origin
    assert "bob" not in page.inner_text("#graph-nodes")
    assert page.query_selector("#graph-canvas canvas") is not None
    shoot(page, "graph")
    page.click("a[data-page=inbox]")
    page.wait_for_selector(f"#inbox-list tr[data-id='{pending}']")
    assert "bob" not in page.inner_text("#inbox-list") and "1 pending" in page.inner_text("#inbox-info")
    shoot(page, "inbox")
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
    shoot(page, "contradictions")
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
    page.wait_for_selector("#key-list tr:has-text('laptop') td:nth-child(5):has-text('revoked')")
    assert httpx.get(f"{base}/me/stats", headers={"Authorization": f"Bearer {new_key}"}).status_code == 401
    shoot(page, "keys")
    page.click("a[data-page=health]")
    page.wait_for_selector("#health-body dl")
    assert "ok" in page.inner_text("#health-body")
    page.wait_for_selector("#memories-chart rect")
    assert len(page.query_selector_all("#memories-chart rect")) >= 1
    assert "need an admin key" in page.inner_text("#health-charts")
    shoot(page, "health")
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
    shoot(page, "users")
    page.click("a[data-page=health]")
    page.wait_for_selector("#latency-chart rect")
    latency = page.inner_text("#health-charts")
    assert "search p50" in latency and "store p95" in latency
    shoot(page, "health-admin")


def _login(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/ui")
    page.fill("#key", key)
    page.click("#login-form button")
    page.wait_for_selector("#memory-list")


def _status(base: str, key: str) -> int:
    return httpx.get(f"{base}/me/stats", headers={"Authorization": f"Bearer {key}"}).status_code


@needs_chromium
def test_keys_page_rotates_a_key(
    live: tuple[str, dict[str, str]], page: Any, shoot: Callable[[Any, str], None]
) -> None:
    """Rotate shows the new secret once and the old key stops working at once; rotating the tab's own key
    keeps the tab logged in with the new one."""
    base, admin = live
    dora = _user_key(base, admin, "dora")
    made = httpx.post(f"{base}/keys", headers={"Authorization": f"Bearer {dora}"}, json={"name": "ci"}).json()
    old = made["api_key"]
    _login(page, base, dora)
    page.click("a[data-page=keys]")
    page.wait_for_selector("#key-list tr:has-text('ci') button[data-action=rotate]")
    page.once("dialog", lambda d: d.accept())
    page.click("#key-list tr:has-text('ci') button[data-action=rotate]")
    page.wait_for_selector(f"#secret:has-text('Key {made['id']} rotated')")
    new = page.inner_text("#secret").split(": ")[1].split(" ")[0]
    assert new != old and _status(base, new) == 200 and _status(base, old) == 401
    page.wait_for_selector(f"#key-list tr[data-id='{made['id']}'] td:nth-child(5):has-text('expired')")
    assert page.query_selector(f"#key-list tr[data-id='{made['id']}'] button") is None  # nothing left to do
    assert f"replaces #{made['id']}" in page.inner_text("#key-list")
    shoot(page, "keys-rotated")
    own = next(k for k in httpx.get(f"{base}/keys", headers={"Authorization": f"Bearer {dora}"}).json()["keys"]
               if dora.removeprefix("engram_").startswith(k["prefix"]))  # fmt: skip
    page.once("dialog", lambda d: d.accept())
    page.click(f"#key-list tr[data-id='{own['id']}'] button[data-action=rotate]")
    page.wait_for_selector(f"#secret:has-text('Key {own['id']} rotated')")
    page.wait_for_selector(f"#key-list tr[data-id='{own['id']}'] td:nth-child(5):has-text('expired')")
    session = page.evaluate("sessionStorage.getItem('engram.key')")
    assert session != dora and _status(base, session) == 200 and _status(base, dora) == 401
    assert page.is_hidden("#error")


@needs_chromium
def test_inbox_edits_before_approving_and_acts_on_a_selection(
    live: tuple[str, dict[str, str]], page: Any, shoot: Callable[[Any, str], None]
) -> None:
    """Edit a pending memory (a new version, approved), then approve two and reject one chosen with the
    checkboxes (POST /inbox/bulk); another user's pending memory is never listed nor touched."""
    base, admin = live
    erin, fred = _user_key(base, admin, "erin"), _user_key(base, admin, "fred")
    h_erin, h_fred = {"Authorization": f"Bearer {erin}"}, {"Authorization": f"Bearer {fred}"}

    def pending(h: dict[str, str], text: str) -> int:
        r = httpx.post(f"{base}/store", headers=h, json={"content": text, "status": "pending", "tags": ["draft"]})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    typo = pending(h_erin, "erin's dentist is on Tuesdya")
    a, b, c = (pending(h_erin, t) for t in ("erin swims at dawn", "erin reads Tolstoy", "erin hates cilantro"))
    fred_id = pending(h_fred, "fred's pending note")
    _login(page, base, erin)
    page.click("a[data-page=inbox]")
    page.wait_for_selector(f"#inbox-list tr[data-id='{c}']")
    assert "4 pending" in page.inner_text("#inbox-info") and "fred" not in page.inner_text("#inbox-list")
    assert page.is_disabled("#inbox-approve-selected")
    page.click(f"#inbox-list tr[data-id='{typo}'] button[data-action=edit]")
    page.wait_for_selector("#inbox-editor:not([hidden])")
    assert page.input_value("#inbox-editor textarea") == "erin's dentist is on Tuesdya"
    page.fill("#inbox-editor textarea", "erin's dentist is on Tuesday")
    page.fill("#inbox-editor input[name=tags]", "health, dentist")
    shoot(page, "inbox-edit")
    page.click("#inbox-editor button[type=submit]")
    page.wait_for_selector("#inbox-done:has-text('edited and approved')")
    page.wait_for_selector(f"#inbox-list tr[data-id='{typo}']", state="detached")
    new_id = int(page.inner_text("#inbox-done").rsplit("#", 1)[1].rstrip("."))
    edited = httpx.get(f"{base}/memory/{new_id}", headers=h_erin).json()
    assert edited["content"] == "erin's dentist is on Tuesday" and edited["status"] == "approved"
    assert sorted(edited["tags"]) == ["dentist", "health"] and page.is_hidden("#inbox-editor")
    page.check(f"#inbox-list input.pick[data-id='{a}']")
    page.check(f"#inbox-list input.pick[data-id='{b}']")
    assert page.inner_text("#inbox-approve-selected") == "Approve 2 selected"
    shoot(page, "inbox-selected")
    page.click("#inbox-approve-selected")
    page.wait_for_selector("#inbox-done:has-text('Approved 2 of 2')")
    page.wait_for_selector("#inbox-info:has-text('1 pending')")
    page.check("#inbox-all")
    page.once("dialog", lambda d: d.accept())
    page.click("#inbox-reject-selected")
    page.wait_for_selector("#inbox-info:has-text('Nothing to review')")
    status = {i: httpx.get(f"{base}/memory/{i}", headers=h_erin).json().get("status") for i in (a, b, c)}
    assert status == {a: "approved", b: "approved", c: "rejected"}, status
    assert httpx.get(f"{base}/memory/{fred_id}", headers=h_fred).json()["status"] == "pending"


@needs_chromium
def test_graph_shows_entities_filters_and_opens_a_memory(
    live: tuple[str, dict[str, str]], page: Any, shoot: Callable[[Any, str], None]
) -> None:
    """Entity nodes beside the memories; the community, tag and minimum-PageRank filters redraw the graph
    from GET /graph; a click on a node opens its memory."""
    base, admin = live
    made = httpx.post(f"{base}/users", headers=admin, json={"name": "hana", "scopes": ["read", "write"]}).json()
    h = {"Authorization": f"Bearer {made['api_key']}"}

    def store(text: str, tag: str | None) -> int:
        r = httpx.post(f"{base}/store", headers=h, json={"content": text, "tags": [tag] if tag else []})
        return int(r.json()["id"])

    def link(s: int, t: int) -> None:
        assert httpx.post(f"{base}/links", headers=h, json={"source_id": s, "target_id": t}).status_code == 201

    hub, roses, beans = (
        store("hub: hana's garden plan", "garden"),
        store("roses by the wall", "garden"),
        store("broad beans sown in March", "garden"),
    )
    car = store("the van needs new tyres", None)
    pots, pans = store("copper pots hang by the stove", "kitchen"), store("cast iron pans need oil", "kitchen")
    for leaf in (roses, beans, car):
        link(leaf, hub)
    link(hub, roses)  # roses ranks above the other leaves: a minimum PageRank keeps hub-roses only
    link(pots, pans)
    assert httpx.post(f"{base}/entities", headers=h, json={"name": "Roses", "entity_type": "plant",
                                                          "memory_ids": [roses, hub]}).status_code == 201  # fmt: skip
    assert httpx.post(f"{base}/graph/pagerank", headers=h).status_code == 200
    detect = httpx.post(f"{base}/admin/detect-communities", headers=admin, json={"user_id": made["id"]}, timeout=60)
    assert detect.status_code == 200, detect.text
    nodes = {n["id"]: n for n in httpx.get(f"{base}/graph", headers=h).json()["nodes"]}
    assert nodes[pots]["community"] is not None and nodes[pots]["community"] != nodes[hub]["community"]
    _login(page, base, made["api_key"])
    page.click("a[data-page=graph]")
    page.wait_for_selector(f"#graph-nodes li[data-id='{hub}']")
    assert page.evaluate("state.cy.nodes().length") == 7 and page.evaluate("state.cy.nodes('.entity').length") == 1
    assert page.evaluate("state.cy.edges('.mention').length") == 2
    assert "Roses (plant)" in page.inner_text("#graph-entities")
    placed = httpx.get(f"{base}/graph", headers=h, params={"positions": "true"}).json()["nodes"]
    drawn = page.evaluate(
        "state.cy.nodes().not('.entity').map((n) => [Number(n.id()), n.position('x'), n.position('y')])"
    )
    assert sorted(map(tuple, drawn)) == sorted((n["id"], n["x"], n["y"]) for n in placed)  # drawn where /graph put them
    assert len({(x, y) for _, x, y in drawn}) == 6 and page.evaluate("state.cy.nodes('.labelled').length") >= 1
    # the community choices load beside the graph (not before it): every community + two
    page.wait_for_function("document.querySelectorAll('#graph-filters select[name=community] option').length === 3")
    shoot(page, "graph-entities")

    def shown() -> set[int]:
        return {int(li.get_attribute("data-id")) for li in page.query_selector_all("#graph-nodes li")}

    def apply(expect: set[int]) -> None:
        page.click("#graph-filters button")
        page.wait_for_function(
            "ids => { const got = [...document.querySelectorAll('#graph-nodes li')].map((li) => Number(li.dataset.id));"
            " return got.length === ids.length && ids.every((i) => got.includes(i)); }",
            arg=sorted(expect),
        )
        assert shown() == expect and page.evaluate("state.cy.nodes('[id !^= \"entity\"]').length") == len(expect)

    page.select_option("#graph-filters select[name=community]", str(nodes[pots]["community"]))
    apply({pots, pans})
    assert page.evaluate("state.cy.nodes('.entity').length") == 0  # Roses is on memories filtered out
    page.select_option("#graph-filters select[name=community]", "")
    page.fill("#graph-filters input[name=tag]", "garden")
    apply({hub, roses, beans})
    shoot(page, "graph-filtered")
    page.fill("#graph-filters input[name=tag]", "")
    for threshold in sorted({n["pagerank"] for n in nodes.values()}):  # the lowest rank that drops some links
        expect = httpx.get(f"{base}/graph", headers=h, params={"min_pagerank": threshold}).json()["nodes"]
        if 0 < len(expect) < len(nodes):
            break
    assert 0 < len(expect) < len(nodes), nodes
    page.fill("#graph-filters input[name=min_pagerank]", str(threshold))
    apply({n["id"] for n in expect})
    page.fill("#graph-filters input[name=min_pagerank]", "0")
    page.uncheck("#graph-filters input[name=entities]")
    apply(set(nodes))
    assert page.evaluate("state.cy.nodes('.entity').length") == 0 and page.inner_text("#graph-entities") == ""
    box = page.query_selector("#graph-canvas").bounding_box()
    at = page.evaluate(f"state.cy.getElementById('{beans}').renderedPosition()")
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    page.wait_for_selector(f"#detail:not([hidden]) h2:has-text('Memory {beans}')")
    assert page.is_visible("#memories") and "broad beans" in page.inner_text("#detail")
