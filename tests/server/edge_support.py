"""Walking the route table for the input-edge tests (issue 18): which fields are strings, a body that
would be accepted, a fingerprint of every stored row, and "every read route answers 200"."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from engram_core.validation import Field
from engram_server.app import all_routes
from engram_server.routing import RouteSpec
from tests.helpers import Api

SPECS: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
STRING_KINDS = {"str", "text", "tags", "str_list", "timestamp", "any", "object"}
# Invalid UTF-8 of every kind: a UTF-16 surrogate (U+D800) encoded as UTF-8, overlong encodings of "/",
# truncated sequences (the closing quote arrives where a continuation byte is due), a code point past
# U+10FFFF, bytes that never appear in UTF-8, a lone continuation byte.
BAD_UTF8 = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xe2\x82", b"\xf0\x9f\x98",
            b"\xf4\x90\x80\x80", b"\xff", b"\xfe", b"\x80"]  # fmt: skip
MARK = "@@RAW@@"
# Written after a commit by change-feed listeners (the event bus publishes an accepted write's event a
# moment later), so a refused request can see them change; the tables of every request's own writes can't.
ASYNC_TABLES = {"axon_events", "webhook_deliveries"}


def string_fields(spec: RouteSpec) -> list[Field]:
    return [f for f in (spec.body.fields if spec.body else ()) if f.kind in STRING_KINDS]


def body_routes() -> list[RouteSpec]:
    return [s for s in SPECS if s.body is not None and {"POST", "PUT", "PATCH"} & set(s.methods)]


def write_method(spec: RouteSpec) -> str:
    return next(m for m in spec.methods if m in {"POST", "PUT", "PATCH"})


def value(field: Field, ids: dict[str, int]) -> Any:
    if field.kind == "int":
        return ids["memory"] if field.name.endswith("id") else int(field.min or 1)
    if field.kind == "float":
        return float(field.min or 0.5)
    if field.choices:
        return field.choices[0]
    if field.kind == "float_list":
        return [float(ids["memory"])]
    if field.kind in {"tags", "str_list"}:
        return ["walk"]
    return {"bool": True, "timestamp": "2030-01-01T00:00:00Z", "object": {}}.get(field.kind, f"walk {field.name}")


def body_with(spec: RouteSpec, ids: dict[str, int], field: Field, raw: bytes) -> bytes:
    """A plausible JSON body for ``spec`` whose ``field`` holds ``raw`` (any bytes) inside a string."""
    import json

    body = {f.name: value(f, ids) for f in (spec.body.fields if spec.body else ()) if f.name != "embedding"}
    if field.kind in {"tags", "str_list"}:
        body[field.name] = ["ok", MARK]
    elif field.kind == "object":
        body[field.name] = {"note": MARK}
    else:
        body[field.name] = MARK
    return json.dumps(body).encode().replace(MARK.encode(), b"x" + raw + b"y")


OWNERS = (("/memory/", "memory"), ("/versions/", "memory"), ("/links/", "memory"), ("/graph/neighborhood/", "memory"),
          ("/entities/", "entity"), ("/projects/", "project"), ("/episodes/", "episode"),
          ("/conversations/", "conversation"), ("/communities/", "community"), ("/jobs/", "job"),
          ("/axon/events/", "axon_event"), ("/tasks/", "task"), ("/broca/actions/", "action"),
          ("/soma/agents/", "agent"), ("/soma/groups/", "group"), ("/loom/workflows/", "workflow"),
          ("/loom/runs/", "run"), ("/thymus/rubrics/", "rubric"), ("/thymus/evaluations/", "evaluation"))  # fmt: skip


def owner_of(path: str) -> str | None:
    """The collection the first id of ``path`` names (None: one this walk makes no object in)."""
    return next((kind for prefix, kind in OWNERS if path.startswith(prefix)), None)


def fill(path: str, ids: dict[str, int]) -> str:
    """``path`` with each parameter replaced by the id of an object of the collection it names."""
    owner = owner_of(path)
    first = PARAM.search(path)
    if first is None:
        return path
    path = path[: first.start()] + str(ids.get(owner or "", 10**9)) + path[first.end() :]
    return PARAM.sub(str(ids["memory"]), path)


def make_objects(api: Api, tag: str = "") -> dict[str, int]:
    """One object in every collection the read routes name, owned by the admin (``tag`` makes the names
    and texts of a second set distinct from the first)."""
    key = api.admin_key

    def made(method: str, path: str, body: Any) -> int:
        r = api.call(method, path, key, json=body)
        assert r.status_code in (200, 201), (path, r.text)
        return int(r.json()["id"])

    ids = {"memory": api.store(key, f"walk: the heron nests by the river {tag}", tags=["walk", "birds"])}
    second = api.store(key, f"walk: the kingfisher hunts by the river {tag}", tags=["walk"])
    api.call("POST", "/links", key, json={"source_id": ids["memory"], "target_id": second, "link_type": "related"})
    ids["entity"] = made("POST", "/entities", {"name": f"Heron {tag}".strip(), "memory_ids": [ids["memory"]]})
    ids["project"] = made("POST", "/projects", {"name": f"Birdwatch {tag}".strip()})
    ids["episode"] = made("POST", "/episodes", {"title": f"Morning walk {tag}".strip()})
    ids["conversation"] = made("POST", "/conversations", {"title": "About herons", "metadata": {"k": "v"}})
    api.call("POST", f"/conversations/{ids['conversation']}/messages", key, json={"role": "user", "content": "hi"})
    api.call("POST", "/admin/detect-communities", key, json={})
    communities = api.call("GET", "/communities", key).json().get("communities") or [{"id": 1}]
    ids["community"] = int(communities[0]["id"])
    ids["job"] = 1
    ids["axon_event"] = made("POST", "/axon/publish", {"channel": f"walk{tag}", "payload": {"k": "v"}})
    ids["task"] = made("POST", "/tasks", {"title": f"Count the herons {tag}".strip(), "agent": "walker"})
    ids["action"] = made("POST", "/broca/actions", {"agent": "walker", "action": "count", "target": "herons"})
    ids["agent"] = made("POST", "/soma/agents", {"name": f"walker{tag}", "capabilities": ["birds"]})
    ids["group"] = made("POST", "/soma/groups", {"name": f"watchers{tag}"})
    ids["workflow"] = made(
        "POST", "/loom/workflows", {"name": f"survey{tag}", "steps": [{"name": "count", "type": "action"}]}
    )
    ids["run"] = made("POST", "/loom/runs", {"workflow_id": ids["workflow"]})
    ids["rubric"] = made("POST", "/thymus/rubrics", {"name": f"survey quality{tag}", "criteria": [{"name": "care"}]})
    ids["evaluation"] = made("POST", "/thymus/evaluate", {"rubric_id": ids["rubric"], "agent": "walker",
                                                          "subject": "count", "scores": {"care": 1}})  # fmt: skip
    return ids


def read_calls(ids: dict[str, int]) -> list[tuple[str, str, Any, dict[str, Any] | None]]:
    """Every read: each GET route (ids filled in, required query set) and each read-scope POST route with a
    plausible body. ``(method, path, json body, query)``."""
    calls: list[tuple[str, str, Any, dict[str, Any] | None]] = []
    for spec in SPECS:
        if spec.path in {"/backup", "/v1/embeddings"} or spec.produces == "text/event-stream":
            continue  # a backup file each time; embeddings need an installed model; a stream never ends
        if "{" in spec.path and owner_of(spec.path) is None:
            continue  # no object made in that collection (a webhook needs a public URL: SSRF checks)
        path = fill(spec.path, ids)
        if "GET" in spec.methods:
            query = {f.name: value(f, ids) for f in (spec.query.fields if spec.query else ()) if f.required}
            calls.append(("GET", path, None, query or None))
        elif spec.scope == "read" and "POST" in spec.methods:
            body = {f.name: value(f, ids) for f in (spec.body.fields if spec.body else ()) if f.required}
            if spec.body and "query" in {f.name for f in spec.body.fields}:
                body["query"] = "heron river"
            calls.append(("POST", path, body, None))
    return calls


def failing_reads(api: Api, ids: dict[str, int]) -> list[tuple[str, str, int, str]]:
    """The reads that do not answer 200 (for the admin, who may read everything)."""
    bad = []
    for method, path, body, query in read_calls(ids):
        r = api.call(method, path, api.admin_key, json=body, params=query)
        if r.status_code != 200:
            bad.append((method, path, r.status_code, r.text[:200]))
    return bad


def fingerprint(api: Api) -> dict[str, str]:
    """A digest of every row of every table (FTS shadow tables included), in one snapshot; the time a key
    was last used is left out (stamped in the background, at most once a minute), and so are the tables
    change-feed listeners write (``ASYNC_TABLES``)."""

    def run(conn: Any) -> dict[str, str]:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        )]  # fmt: skip
        out = {}
        for name in names:
            if name in ASYNC_TABLES:
                continue
            cur = conn.execute(f'SELECT * FROM "{name}"')
            cols = [d[0] for d in cur.description]
            rows = sorted(repr([v for c, v in zip(cols, row, strict=True) if c != "last_used_at"]) for row in cur)
            digest = hashlib.sha256("\n".join(rows).encode())
            out[name] = digest.hexdigest()
        return out

    result: dict[str, str] = api.engram.db.read(run)
    return result
