"""Walk the whole route table as user B against user A's data: B never sees or changes any of it.

A stores memories holding a unique token and creates one object on every create route that exists
(entities, projects, episodes, conversations, links, spaces ...). Then B calls every route: each route
with an id in its path with A's memory ids and the ids 1-3 (A's objects), with plausible bodies that name
A's ids; every list and search route with A's token as the query. No response to B may contain the token,
no route that takes a memory id may answer B with 2xx for A's memory, and A's rows are the same after.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engram_core.settings import Settings
from engram_core.validation import Field
from engram_server.app import all_routes
from engram_server.routing import RouteSpec
from tests.conftest import BOOTSTRAP_SECRET
from tests.fake_openai import FakeOpenAI
from tests.helpers import Api

TOKEN = "zyxquokkasecret"
SPECS: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_MEMORY_BASES = ("memory", "versions", "links", "contradictions", "intelligence/contradictions",
                 "intelligence/decompose", "intelligence/valence")  # fmt: skip
MEMORY_ID_ROUTES = re.compile(r"^/(memory|versions|links|graph/neighborhood|contradictions|intelligence/\w+)/\{id")


# Creates whose bodies are made below, by hand (nested definitions, or ids of Alice's other objects).
SPECIAL_CREATES = {"/entity-relationships", "/loom/workflows", "/loom/runs", "/thymus/rubrics", "/thymus/evaluate",
                   "/brain/feedback", "/v1/chat/completions", "/ingest", "/ingest/stream", "/import",
                   "/import/mem0", "/sync/receive",
                   "/inbox/bulk", "/batch"}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """A chat provider on loopback for the proxy; it echoes the system prompt it got (the injected memories)."""

    def echo(body: dict[str, Any]) -> str:
        return "echo: " + " ".join(str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system")

    with FakeOpenAI(reply=echo) as fake:
        yield Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                    proxy_openai_url=fake.url)  # fmt: skip


def _value(field: Field, ids: list[int], text: str, nth_id: int = 0) -> Any:
    if field.kind == "int":
        return ids[nth_id % len(ids)] if field.name.endswith("id") else int(field.min or 1)
    if field.kind == "float":
        return float(field.min or 0.5)
    if field.choices:
        return field.choices[0]
    if field.kind == "float_list":
        return [float(i) for i in ids]
    if field.kind in {"tags", "str_list"}:
        return [text]
    if field.name.endswith("url"):  # webhook targets: a public https URL (private ones are refused)
        return f"https://example.com/{text.replace(' ', '-')}"
    return {"bool": True, "timestamp": "2026-01-01T00:00:00Z", "object": {}, "any": text}.get(
        field.kind, f"{text} {field.name}"
    )


def _body(spec: RouteSpec, ids: list[int], text: str = TOKEN) -> dict[str, Any]:
    fields = [f for f in (spec.body.fields if spec.body else ()) if f.name != "embedding"]
    id_fields = [f.name for f in fields if f.kind == "int" and f.name.endswith("id")]
    # Distinct ids per id field, so pairs (source_id/target_id) are valid and the create really happens.
    return {f.name: _value(f, ids, text, id_fields.index(f.name) if f.name in id_fields else 0) for f in fields}


def _snapshot(api: Api, user_id: int) -> dict[str, Any]:
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]

    def run(conn: Any) -> dict[str, Any]:
        tables = [r[0] for r in conn.execute(
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT IN ('audit_log', 'jobs')"
            " AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'user_id')")]  # fmt: skip
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}" WHERE user_id = ?', (user_id,)).fetchone()[0]
                  for t in tables}  # fmt: skip
        # Whole rows of the user's objects (memories and graph_state change in the background: see below).
        rows = {t: [tuple(r) for r in conn.execute(f'SELECT * FROM "{t}" WHERE user_id = ? ORDER BY 1', (user_id,))]
                for t in tables if t not in {"memories", "graph_state"}}  # fmt: skip
        mems = conn.execute("SELECT id, content, tags, is_latest, is_forgotten, is_archived, is_deleted, version"
                            " FROM memories WHERE user_id = ? ORDER BY id", (user_id,)).fetchall()  # fmt: skip
        return {"counts": counts, "rows": rows, "memories": [tuple(m) for m in mems]}

    return dict(db.read(run))


def _names(path: str, base: str, ident: int) -> bool:
    """Whether ``path`` is ``base/ident`` or below it (``/entities/1`` names 1, not 12)."""
    return path == f"{base}/{ident}" or path.startswith(f"{base}/{ident}/")


def _settle(api: Api) -> None:
    db = api.client.app.state.engram.db  # type: ignore[attr-defined]
    for _ in range(100):
        sql = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
        busy = db.read(lambda c, sql=sql: c.execute(sql).fetchone()[0])
        if not busy:
            return
        time.sleep(0.05)


def _rpc(api: Api, key: str, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One JSON-RPC request to /mcp (stateless: no initialize needed); the answer's ``result``."""
    r = api.call("POST", "/mcp", key, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
    assert r.status_code == 200 and "error" not in r.json(), (method, params, r.text[:300])
    assert TOKEN not in r.text, (method, params, r.text[:300])
    return dict(r.json()["result"])


def _mcp_calls(tool: dict[str, Any], memory_ids: list[int], log_id: int) -> list[dict[str, Any]]:
    """Bob's arguments for one MCP tool: each of Alice's memory ids (or her retrieval log's id) where the tool
    takes one, Alice's token where it searches, Bob's own text where it writes; one call per id."""
    props: dict[str, Any] = tool["inputSchema"].get("properties", {})
    args: dict[str, Any] = {}
    for name in props:
        if name == "query":
            args[name] = TOKEN
        elif name in {"content", "reason", "action"}:  # the guard echoes the action: Bob's own words
            args[name] = "bobs kite text"
        elif name == "messages":
            args[name] = [{"role": "user", "content": "I am Bob and I fly kites."}]
        elif name in tool["inputSchema"].get("required", ()) and name not in {"memory_id", "log_id"}:
            raise AssertionError(f"teach the walk a value for {tool['name']}.{name}")
    if "memory_id" in props:
        return [{**args, "memory_id": i} for i in memory_ids]
    if "log_id" in props:
        return [args, {**args, "log_id": log_id}]
    return [args]


def _mcp_walk(api: Api, bob: str, memory_ids: list[int], log_id: int) -> int:
    """Bob through /mcp: every tool, with Alice's ids and token, and every resource. Nothing of Alice's comes
    back (``_rpc`` checks every answer), and a tool naming one of Alice's ids is an error."""
    tools = _rpc(api, bob, "tools/list")["tools"]
    assert {t["name"] for t in tools} >= {"memory_get", "memory_update", "memory_forget", "get_retrieval_log"}
    calls = 0
    for tool in tools:
        for args in _mcp_calls(tool, memory_ids, log_id):
            result = _rpc(api, bob, "tools/call", {"name": tool["name"], "arguments": args})
            calls += 1
            if "memory_id" in args or "log_id" in args:
                assert result.get("isError") is True, (tool["name"], args, result)
    for resource in _rpc(api, bob, "resources/list")["resources"]:
        _rpc(api, bob, "resources/read", {"uri": resource["uri"]})
        calls += 1
    return calls


def test_user_b_never_sees_or_changes_user_a_data(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    users = api.call("GET", "/users", api.admin_key).json()["users"]
    alice_id = next(u["id"] for u in users if u["name"] == "alice")
    a_ids = [api.store(alice, f"Alice's {TOKEN} note number {i} about {w}", tags=[TOKEN])
             for i, w in enumerate(["harbour", "violin", "orchard"])]  # fmt: skip
    api.call("POST", f"/memory/{a_ids[0]}/update", alice, json={"content": f"Alice's {TOKEN} revised harbour"})
    creates = [s for s in SPECS if "POST" in s.methods and s.scope == "write" and "{" not in s.path
               and s.path not in {"/store", "/memory", "/memories", "/keys", "/keys/rotate"}]  # fmt: skip
    made = {s.path: api.call("POST", s.path, alice, json=_body(s, a_ids)) for s in creates
            if s.path not in SPECIAL_CREATES}  # fmt: skip
    # A workflow needs step definitions; a run names one of Alice's workflows.
    flow = {"name": f"{TOKEN} flow", "steps": [{"name": "a", "type": "action", "config": {"t": TOKEN}}]}
    made["/loom/workflows"] = api.call("POST", "/loom/workflows", alice, json=flow)
    run = {"workflow_id": made["/loom/workflows"].json()["id"], "input": {"t": TOKEN}}
    made["/loom/runs"] = api.call("POST", "/loom/runs", alice, json=run)
    rubric = {"name": f"{TOKEN} rubric", "criteria": [{"name": "accuracy", "description": TOKEN}]}
    made["/thymus/rubrics"] = api.call("POST", "/thymus/rubrics", alice, json=rubric)
    evaluation = {"rubric_id": made["/thymus/rubrics"].json()["id"], "agent": TOKEN, "subject": TOKEN,
                  "scores": {"accuracy": 0.5}}  # fmt: skip
    made["/thymus/evaluate"] = api.call("POST", "/thymus/evaluate", alice, json=evaluation)
    made["/brain/feedback"] = api.call("POST", "/brain/feedback", alice, json={"memory_ids": a_ids[:1], "useful": True})
    chat = {"model": "m", "messages": [{"role": "user", "content": f"tell me about {TOKEN}"}]}
    made["/v1/chat/completions"] = api.call("POST", "/v1/chat/completions", alice, json=chat)
    assert TOKEN in made["/v1/chat/completions"].json()["choices"][0]["message"]["content"]  # A's memory injected
    # A relationship joins two of Alice's entities, not memories.
    second = api.call("POST", "/entities", alice, json={"name": f"{TOKEN} second entity"}).json()["id"]
    made["/entity-relationships"] = api.call(
        "POST",
        "/entity-relationships",
        alice,
        json={"source_entity_id": made["/entities"].json()["id"], "target_entity_id": second, "relationship": TOKEN},
    )
    # Raw-body routes (uploads, NDJSON): an ingest job of Alice's (its id is a /jobs/{id}) and an import.
    made["/import"] = api.call("POST", "/import", alice, json=[{"content": f"Alice's imported {TOKEN} note"}])
    mem0 = {"results": [{"id": "m-1", "memory": f"Alice's mem0 {TOKEN} note", "user_id": TOKEN}]}
    made["/import/mem0"] = api.call("POST", "/import/mem0", alice, json=mem0)
    change = {"sync_id": "elsewhere:1", "change_type": "insert", "content": f"Alice's synced {TOKEN} note"}
    made["/sync/receive"] = api.call("POST", "/sync/receive", alice, json={"changes": [change]})
    ingest = api.call("POST", "/ingest", alice, json={"text": f"# {TOKEN}\n\nAlice's ingested {TOKEN} page"})
    assert ingest.status_code == 202, ingest.text
    refused = {p: r.status_code for p, r in made.items() if not 200 <= r.status_code < 300}
    # Routes whose generic body cannot make an object: answers, not creates. /consolidate refuses ids of
    # superseded versions (the generic body names all of a_ids, one of them updated).
    assert set(refused) <= {"/deduplicate", "/admin/detect-communities", "/consolidate"}, refused
    # Alice's object ids by the collection they belong to: B naming one of them must get a 4xx.
    owned = {p: int(r.json()["id"]) for p, r in made.items() if 200 <= r.status_code < 300
             and isinstance(r.json().get("id"), int)}  # fmt: skip
    # Alice's chat through the proxy wrote a retrieval log (after the answer, off the request path).
    for _ in range(200):
        logs = api.call("GET", "/logs", alice).json()["logs"]
        if logs:
            owned["/logs"] = logs[0]["id"]
            break
        time.sleep(0.05)
    assert "/logs" in owned
    owned["/jobs"] = int(ingest.json()["job_id"])
    # An agent's log entry (a run's log is written by the run made above: its workflow name holds the token).
    agent_log = {"message": f"{TOKEN} log", "data": {"t": TOKEN}}
    assert api.call("POST", f"/soma/agents/{owned['/soma/agents']}/log", alice, json=agent_log).status_code == 201
    run_log = api.call("GET", f"/loom/runs/{owned['/loom/runs']}/logs", alice).json()["logs"]
    assert TOKEN in str(run_log[0]["data"])
    # Working memory: a session with a message and core memory, scratchpad entries, pending memories.
    sid = made["/sessions"].json()["id"]
    api.call("POST", f"/sessions/{sid}/messages", alice, json={"message_id": "1", "role": "user", "content": TOKEN})
    api.call("PUT", f"/sessions/{sid}/core-memory", alice, json={"facts": [TOKEN]})
    api.call("PUT", "/scratch", alice, json={"session": sid, "entries": [{"key": "k", "value": TOKEN}]})
    owned["/inbox"] = api.store(alice, f"{TOKEN} pending fact", status="pending")
    reviewed = api.store(alice, f"{TOKEN} pending fact two", status="pending")
    made["/inbox/bulk"] = api.call("POST", "/inbox/bulk", alice, json={"ids": [reviewed], "action": "approve"})
    assert made["/inbox/bulk"].json()["count"] == 1
    # Preferences, an agent's state, and a batch that stores and links (its generic body is not a list of ops).
    api.call("PUT", "/preferences", alice, json={"preferences": {"secret": TOKEN}})
    api.call("PUT", "/state", alice, json={"state": {"task": TOKEN}})
    api.call("PUT", "/state", alice, json={"agent": "bobs kite text agent", "state": {"task": TOKEN}})
    batch = {"ops": [{"op": "store", "body": {"content": f"Alice's batched {TOKEN} note"}},
                     {"op": "link", "body": {"source_id": a_ids[1], "target_id": a_ids[2]}}]}  # fmt: skip
    made["/batch"] = api.call("POST", "/batch", alice, json=batch)
    assert made["/batch"].json()["succeeded"] == 2, made["/batch"].text
    named = {"/sessions/{id}": sid, "/scratch/{session}": sid}  # A's string ids, named by B below
    alice_sync = [
        c["sync_id"] for c in api.call("GET", "/sync/changes", alice, params={"limit": 1000}).json()["changes"]
    ]
    assert len(alice_sync) >= 3
    # Through /mcp, Alice's own key reads her memory (so Bob's empty answers below are not an MCP failure).
    mine = {"name": "memory_get", "arguments": {"memory_id": a_ids[1]}}
    assert TOKEN in api.call("POST", "/mcp", alice, json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                                                           "params": mine}).text  # fmt: skip
    _settle(api)
    before = _snapshot(api, alice_id)
    bob_mem = api.store(bob, "Bob's own note about kites")

    checked = alices = 0
    for spec in SPECS:
        if spec.scope in {"open", "admin"} or spec.path == "/keys/{id:int}" or spec.produces != "application/json":
            continue  # admin routes refuse B outright (route table test); key revocation: test_isolation.py
        for method in spec.methods:
            ids = (*a_ids, *owned.values()) if "{" in spec.path else (0,)
            targets = sorted({_PARAM.sub(str(i), spec.path) for i in ids})
            strings = [_PARAM.sub(v, spec.path, count=1) for b, v in named.items() if spec.path.startswith(b)]
            targets += [t.replace("{key}", "k") for t in strings]
            for path in targets:
                body = _body(spec, a_ids, "bobs kite text") if method != "GET" else None
                params = {"q": TOKEN, "query": TOKEN} if method == "GET" else None
                if spec.body and "query" in {f.name for f in spec.body.fields}:
                    body = {**(body or {}), "query": TOKEN}
                if spec.path == "/pack":  # B packs for A's words: none of A's memories comes back
                    body = {"context": TOKEN}
                if spec.path == "/prompt":
                    params = {**(params or {}), "context": TOKEN}
                if spec.path == "/batch":  # B updates, then links, A's memories: refused at the first
                    link = {"source_id": a_ids[1], "target_id": a_ids[2]}
                    body = {"ops": [{"op": "update", "body": {"id": a_ids[1], "content": "bobs kite text"}},
                                    {"op": "link", "body": link}]}  # fmt: skip
                if spec.path == "/sync/receive":  # B sends changes naming A's memory chains
                    body = {
                        "changes": [
                            *({"sync_id": x, "change_type": "delete"} for x in alice_sync),
                            {"sync_id": alice_sync[0], "change_type": "update", "content": "bobs kite"},
                        ]
                    }
                if spec.path == "/inbox/bulk":  # B names A's pending memory
                    body = {"ids": [owned["/inbox"]], "action": "approve"}
                if spec.path == "/v1/chat/completions":  # B asks with A's words: none of A's memories comes back
                    body = {"model": "m", "messages": "Alice's note number 0 about harbour, violin or orchard?"}
                r = api.call(method, path, bob, json=body, params=params)
                checked += 1
                assert r.status_code < 500, (method, path, r.text)
                assert TOKEN not in r.text, (method, path, r.text[:300])
                if spec.path == "/batch":
                    assert r.status_code == 207 and r.json()["succeeded"] == 0, r.text
                names_alices = (
                    MEMORY_ID_ROUTES.match(spec.path)
                    and any(_names(path, f"/{p}", a) for a in a_ids for p in _MEMORY_BASES)
                ) or any(spec.path.startswith(base + "/{id") and _names(path, base, oid) for base, oid in owned.items())
                names_alices = names_alices or any(sid in path for sid in named.values())
                if names_alices:
                    assert r.status_code >= 400, (method, path, r.status_code, r.text[:200])
                    alices += 1
    # The same through the MCP tools at /mcp (a JSON-RPC route the walk above skips: it is not an api() route).
    mcp_calls = _mcp_walk(api, bob, a_ids, owned["/logs"])
    _settle(api)
    after = _snapshot(api, alice_id)
    for part in ("counts", "rows"):  # name the table that changed, not a truncated dict diff
        changed = {
            t: (before[part][t], after[part].get(t)) for t in before[part] if before[part][t] != after[part].get(t)
        }
        assert not changed, (part, changed)
    assert after == before
    assert checked > 100 and alices > 40 and mcp_calls >= 20
    assert api.call("GET", f"/memory/{bob_mem}", bob).status_code == 200
