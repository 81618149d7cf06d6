"""Rate-limit weights are declared on the routes (``api(..., cost=N)``), published as ``x-rate-cost`` in
/openapi.json, and charged; local clients get the local budget, proxied and remote ones the remote one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.auth.context import AuthContext
from engram_core.auth.guard import RequestLimits, is_local
from engram_core.errors import RateLimited
from engram_core.settings import Settings
from engram_server.app import all_routes, create_app
from engram_server.mcp import SPEC as MCP_SPEC
from engram_server.routing import RouteSpec

SPECS: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]

# The intended weight of every route that costs more than 1 unit: search-like and store-like work 2, a
# context assembly 5, whole-database admin jobs 50-100. Every other route costs 1.
INTENDED: dict[tuple[str, str], int] = {
    **{
        ("POST", p): 2
        for p in (
            "/search", "/memories/search", "/search/explain", "/search/faceted", "/tags/search", "/timetravel",
            "/recall", "/graph/search", "/messages/search", "/v1/embeddings",
            "/store", "/memory", "/memories", "/memory/{id:int}/update",
        )
    },
    ("POST", "/context"): 5,
    ("POST", "/pack"): 5,  # a search and a token-counted assembly, like /context
    ("GET", "/prompt"): 5,
    ("POST", "/batch"): 2,  # and 2 more units per store/update, 1 per link past the first op (test below)
    ("POST", "/hooks/session-start"): 5,  # a context assembly, two lists, an episode
    ("POST", "/v1/chat/completions"): 5,  # a context assembly, then the provider call
    # services: an activity report stores a memory, /brain/query and /broca/ask search, a digest reads a period
    # of everything, a webhook test makes an outgoing HTTP call
    ("POST", "/activity"): 2,
    ("POST", "/brain/query"): 2,
    ("POST", "/broca/ask"): 2,
    ("POST", "/digests/generate"): 5,
    ("POST", "/intelligence/digests/generate"): 5,  # the reference alias of /digests/generate
    ("POST", "/webhooks/test/{id:int}"): 5,
    ("GET", "/sessions/{id}/context"): 5,
    ("GET", "/backup"): 50,
    ("GET", "/export"): 20,
    ("POST", "/import"): 20,
    ("POST", "/import/mem0"): 20,
    ("GET", "/sync/changes"): 2,  # one page of the change log with each memory's state
    ("POST", "/sync/receive"): 20,  # up to 1000 changes in one transaction
    ("POST", "/ingest"): 20,
    ("POST", "/ingest/stream"): 20,
    ("POST", "/admin/detect-communities"): 50,
    ("POST", "/admin/reembed"): 100,
    ("POST", "/admin/rebuild-fts"): 50,
    ("POST", "/admin/compact"): 100,
    ("POST", "/admin/gc"): 50,
    # facts: a scan understands every memory of the caller again; a decomposition embeds its facts
    ("POST", "/contradictions"): 10,
    ("POST", "/intelligence/contradictions"): 10,
    ("POST", "/intelligence/decompose/{id:int}"): 2,
    ("POST", "/admin/decompose-sweep"): 50,
    ("POST", "/growth/reflect"): 2,  # stores (embeds) a reflection memory, as /store does
    ("GET", "/intelligence/causal/chains"): 2,  # a bounded graph walk, one query per memory reached
}  # fmt: skip


def test_every_intended_weight_names_a_served_route() -> None:
    served = {(m, s.path) for s in SPECS for m in s.methods}
    assert not set(INTENDED) - served, sorted(set(INTENDED) - served)


@pytest.mark.parametrize("spec", SPECS, ids=[f"{'/'.join(s.methods)} {s.path}" for s in SPECS])
def test_every_route_has_its_intended_weight(spec: RouteSpec) -> None:
    for method in spec.methods:
        assert spec.cost == INTENDED.get((method, spec.path), 1), (method, spec.path)


def test_openapi_publishes_the_cost_of_every_operation(tmp_path: Path) -> None:
    with TestClient(create_app(Settings.for_data_dir(tmp_path))) as client:
        doc = client.get("/openapi.json").json()
    published = [*SPECS, MCP_SPEC]  # /mcp: the MCP mount, published beside the api(...) routes
    by_op = {(s.path.replace(":int", ""), m.lower()): s for s in published for m in s.methods}  # GET/POST differ
    count = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["x-rate-cost"] == by_op[(path, method)].cost, (method, path)
            count += 1
    assert count >= len(SPECS)


def test_the_declared_cost_is_charged(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", rate_limit_per_minute=12)
    with TestClient(create_app(settings)) as client:
        client.app.state.engram.limits = RequestLimits(settings, clock=lambda: 1000.0)  # type: ignore[attr-defined]
        h = {"Authorization": f"Bearer {client.post('/bootstrap', json={'secret': 's'}).json()['key']}"}
        assert client.post("/context", json={"query": "x"}, headers=h).status_code == 200  # 5 of 12
        assert client.post("/context", json={"query": "x"}, headers=h).status_code == 200  # 10 of 12
        assert client.post("/search", json={"query": "x"}, headers=h).status_code == 200  # 12 of 12
        r = client.get("/list", headers=h)
        assert r.status_code == 429 and "costs 1" in r.json()["error"]


def test_a_batch_is_charged_per_operation_before_any_runs(tmp_path: Path) -> None:
    """2 units per store or update, 1 per link: 5 stores in a batch cost what 5 POST /store cost. A batch the
    budget cannot pay is refused whole with 429, nothing stored."""
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", rate_limit_per_minute=14)
    with TestClient(create_app(settings)) as client:
        client.app.state.engram.limits = RequestLimits(settings, clock=lambda: 1000.0)  # type: ignore[attr-defined]
        h = {"Authorization": f"Bearer {client.post('/bootstrap', json={'secret': 's'}).json()['key']}"}
        stores = [{"op": "store", "body": {"content": f"tide table entry {n}"}} for n in range(5)]
        r = client.post("/batch", json={"ops": stores}, headers=h)  # 10 of 14
        assert r.status_code == 200, r.text
        ids = [x["result"]["id"] for x in r.json()["results"]]
        links = [{"op": "link", "body": {"source_id": ids[0], "target_id": t}} for t in ids[1:4]]
        assert client.post("/batch", json={"ops": links}, headers=h).status_code == 200  # 13 of 14
        too_many = [{"op": "store", "body": {"content": "never stored"}}]  # 2 more: over the budget
        r = client.post("/batch", json={"ops": too_many}, headers=h)
        assert r.status_code == 429, r.text
        client.app.state.engram.limits = RequestLimits(settings)  # type: ignore[attr-defined]  # a fresh minute
        listed = client.get("/list", params={"limit": 50}, headers=h).json()
        contents = {m["content"] for m in listed.get("memories", listed.get("results", []))}
        assert "never stored" not in contents and len(contents) == 5


def _mcp(client: TestClient, key: str, method: str, params: dict[str, object] | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    return client.post("/mcp", json=body, headers=headers)


def test_an_mcp_tool_call_is_charged_its_route_weight_once(tmp_path: Path) -> None:
    """/mcp takes one unit at the door; the tool's route (in-process) takes its weight less that unit and not
    the IP again. memory_search is /search (2 units): a 6-unit key makes 3 calls, the 4th is refused at /mcp.
    Charged twice (door + route) it made 2."""
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", rate_limit_per_minute=6)
    with TestClient(create_app(settings)) as client:
        client.app.state.engram.limits = RequestLimits(settings, clock=lambda: 1000.0)  # type: ignore[attr-defined]
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        for n in range(3):
            r = _mcp(client, key, "tools/call", {"name": "memory_search", "arguments": {"query": f"kites {n}"}})
            assert r.status_code == 200, (n, r.text)
            assert r.json()["result"]["isError"] is False, r.json()
        r = _mcp(client, key, "tools/call", {"name": "memory_search", "arguments": {"query": "kites"}})
        assert r.status_code == 429, r.text


def test_an_mcp_protocol_message_costs_one_unit(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", rate_limit_per_minute=3)
    with TestClient(create_app(settings)) as client:
        client.app.state.engram.limits = RequestLimits(settings, clock=lambda: 1000.0)  # type: ignore[attr-defined]
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        for _ in range(3):
            r = _mcp(client, key, "tools/list")
            assert r.status_code == 200 and r.json()["result"]["tools"], r.text
        assert _mcp(client, key, "tools/list").status_code == 429


def test_is_local() -> None:
    assert is_local("127.0.0.1", {}) and is_local("127.8.9.10", {}) and is_local("::1", {})
    assert not is_local("203.0.113.7", {}) and not is_local("testclient", {}) and not is_local(None, {})
    assert not is_local("127.0.0.1", {"x-forwarded-for": "203.0.113.7"})
    assert not is_local("::1", {"forwarded": "for=203.0.113.7"})


def _import_history(limits: RequestLimits, clock: list[float], ip: str, local: bool, stores: int) -> int:
    """Four workers storing ``stores`` turns as fast as the server stores them (~350/s with a model,
    bench/store_embed.py): how many were refused. Each store costs 2 units."""
    auth = AuthContext(user_id=1, scopes=("read", "write"), ip=ip, key_id=7)
    refused = 0
    for _ in range(stores):
        clock[0] += 1 / 350
        try:
            limits.check_ip(ip, local=local)
            limits.check_key(auth, 2, local=local)
        except RateLimited:
            refused += 1
    return refused


def test_default_limits_let_a_local_agent_import_its_history_and_still_bound_remote_keys(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path)  # the shipped defaults
    clock = [0.0]
    local = RequestLimits(settings, clock=lambda: clock[0])
    assert _import_history(local, clock, "127.0.0.1", True, 3000) == 0
    # a whole day's history (20k turns) at full speed: still not throttled locally
    assert _import_history(local, clock, "127.0.0.1", True, 20_000) == 0
    remote = RequestLimits(settings, clock=lambda: clock[0])
    refused = _import_history(remote, clock, "203.0.113.7", False, 3000)
    assert refused > 0  # a remote key hammering at 700 units/s is throttled ...
    stored = 3000 - refused
    assert 1500 <= stored <= 1500 + 3000 / 350 * settings.rate_limit_per_minute / 60 / 2 + 1  # ... to its budget
    # a key's own rate_limit holds everywhere, local or not
    limited = AuthContext(user_id=1, scopes=("read", "write"), ip="127.0.0.1", key_id=8, rate_limit=10)
    fresh = RequestLimits(settings, clock=lambda: clock[0])
    for _ in range(5):
        fresh.check_key(limited, 2, local=True)
    with pytest.raises(RateLimited):
        fresh.check_key(limited, 2, local=True)
