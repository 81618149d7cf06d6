"""End to end over a live `engram serve`: a guard block and a warn, and /add on a 10-message chat."""

from __future__ import annotations

import httpx

from tests.server.test_add import CHAT


def test_guard_blocks_and_warns_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        rule = c.post("/store", json={"content": "Never run rm -rf on /opt/engram", "is_static": True,
                                      "importance": 9}).json()["id"]  # fmt: skip
        c.post("/store", json={"content": "Be careful with DROP TABLE statements", "category": "rule"})
        block = c.post("/guard", json={"action": "rm -rf /opt/engram/data"}).json()
        assert block["signal"] == "block" and block["rules"][0]["id"] == rule
        warn = c.post("/guard", json={"action": "DROP TABLE sessions;"}).json()
        assert warn["signal"] == "warn"
        assert c.post("/guard", json={"action": "git status"}).json()["signal"] == "allow"


def test_add_a_ten_message_chat_over_http(server: tuple[str, dict[str, str]]) -> None:
    base, headers = server
    with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        r = c.post("/add", json={"messages": CHAT, "session_id": "e2e"})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["messages"] == 10 and {m["category"] for m in body["memories"]} == {
            "fact", "preference", "decision", "correction"}  # fmt: skip
        found = c.post("/search", json={"query": "green tea"}).json()["results"]
        assert any("green tea" in x["content"] for x in found)
        again = c.post("/add", json={"messages": CHAT}).json()
        assert again["added"] == 0
