"""Walk every declared route: auth required, scopes enforced, error shape on bad input, never a 500."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_core.validation import Field
from engram_server.app import all_routes, create_app
from engram_server.mcp import SPEC as MCP_SPEC
from engram_server.routing import RouteSpec
from tests.helpers import Api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, migrated_db: Path) -> Iterator[Api]:
    """One server for the module's ~860 checks: every one of them sends input a route must refuse, so the
    state they share is a memory per body check and a read key per scope check (no rate limit to run out)."""
    cfg = Settings.for_data_dir(Path(tmp_path_factory.mktemp("routes")) / "data", bootstrap_secret="s",
                                rate_limit_per_minute=10**9, ip_rate_limit_per_minute=10**9,
                                ttl_sweep_seconds=3600.0)  # fmt: skip
    cfg.db_path.parent.mkdir(parents=True)
    shutil.copyfile(migrated_db, cfg.db_path)
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": "s"})
        assert r.status_code == 201, r.text
        yield Api(client, r.json()["key"])


def _memory(api: Api) -> int:
    """The module's memory for routes that take an id (stored by the first test; later ones get it back as the
    duplicate it is, or a new one if a route took it away)."""
    r = api.call("POST", "/store", api.admin_key, json={"content": "a memory the route may touch"})
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"] if r.status_code == 201 else r.json()["existing_id"])


SPECS: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _concrete(path: str, ident: int = 1) -> str:
    return _PARAM.sub(str(ident), path)


def _ids(specs: list[RouteSpec]) -> list[str]:
    return [f"{'/'.join(s.methods)} {s.path}" for s in specs]


PROTECTED = [s for s in SPECS if s.scope != "open"]
WRITES = [s for s in SPECS if s.scope in {"write", "admin"}]
WITH_BODY = [s for s in SPECS if s.body is not None and s.scope != "open"]


def test_route_table_is_not_empty() -> None:
    assert len(SPECS) >= 30


@pytest.mark.parametrize("spec", PROTECTED, ids=_ids(PROTECTED))
def test_protected_routes_need_a_key(api: Api, spec: RouteSpec) -> None:
    for method in spec.methods:
        r = api.call(method, _concrete(spec.path), None, json={})
        assert r.status_code == 401, (method, spec.path, r.text)
        assert "error" in r.json()
        r = api.call(method, _concrete(spec.path), "engram_" + "0" * 32, json={})
        assert r.status_code == 401


@pytest.mark.parametrize("spec", WRITES, ids=_ids(WRITES))
def test_a_read_key_cannot_write(api: Api, spec: RouteSpec) -> None:
    reader = api.key(api.admin_key, ("read",))
    for method in spec.methods:
        r = api.call(method, _concrete(spec.path), reader, json={})
        assert r.status_code == 403, (method, spec.path, r.text)
        assert r.json()["error"]


def _wrong_value(field: Field) -> Any:
    wrong = {"int": "seven", "float": "x", "bool": "yes", "text": 12, "str": 12, "timestamp": "not a date"}
    wrong.update({"tags": 5, "str_list": 5, "float_list": "x", "object": [1]})
    if field.kind == "any":  # the published type says what is wrong (null is "not given" where it is typed)
        by_type = {"array": "not a list", "object": [1], "string": 12, "integer": "seven", "number": "x"}
        return by_type.get(field.json_schema().get("type"))
    return wrong.get(field.kind, object())


def _valid_value(field: Field) -> Any:
    published = field.json_schema()
    if published.get("type") == "array" and published.get("items", {}).get("type") == "integer":
        return [1]  # a list of ids (e.g. /brain/feedback's memory_ids)
    if field.kind == "int":
        return int(field.min or 1)
    if field.kind == "float":
        return float(field.min or 0)
    if field.choices:
        return field.choices[0]
    return {"bool": True, "tags": ["t"], "str_list": ["read"], "float_list": [0.1]}.get(field.kind, "valid text")


@pytest.mark.parametrize("spec", WITH_BODY, ids=_ids(WITH_BODY))
def test_bad_bodies_get_the_documented_error_shape(api: Api, spec: RouteSpec) -> None:
    assert spec.body is not None
    mid = _memory(api)
    path = _concrete(spec.path, mid)
    method = spec.methods[0]
    r = api.call(method, path, api.admin_key, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "body: is not valid JSON", "field": "body"}
    r = api.call(method, path, api.admin_key, json=[1, 2])
    assert r.status_code == 400 and r.json()["field"] == "body"
    base = {f.name: _valid_value(f) for f in spec.body.fields if f.required}
    for field in spec.body.fields:
        r = api.call(method, path, api.admin_key, json={**base, field.name: _wrong_value(field)})
        assert r.status_code == 400, (field.name, r.text)
        body = r.json()
        assert body["field"].split("[")[0] == field.name and body["error"], body
    required = [f for f in spec.body.fields if f.required]
    if required:
        r = api.call(method, path, api.admin_key, json={})
        assert r.status_code == 400 and r.json()["field"] == required[0].name


# Streams never end on their own: GET /axon/stream has its own tests (tests/e2e/test_axon_stream.py).
FINITE = [s for s in SPECS if s.produces != "text/event-stream"]


@pytest.mark.parametrize("spec", FINITE, ids=_ids(FINITE))
def test_no_route_answers_500_to_garbage(api: Api, spec: RouteSpec) -> None:
    for method in spec.methods:
        for payload in ({"content": "\x00"}, {"x": {"y": [None] * 3}}, {"query": "\"'*^(:"}, {}):
            r = api.call(method, _concrete(spec.path, 999999), api.admin_key, json=payload)
            assert r.status_code < 500, (method, spec.path, payload, r.text)
            if r.headers.get("content-type", "").startswith("application/json") and r.status_code >= 400:
                assert "error" in r.json()


def test_deep_and_large_bodies_are_refused(api: Api) -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = [deep]
    r = api.call("POST", "/store", api.admin_key, json={"content": "a", "tags": deep})
    assert r.status_code == 400 and "deeper" in r.json()["error"]
    r = api.call("POST", "/store", api.admin_key, json={"content": "a" * (300 * 1024)})
    assert r.status_code == 413
    r = api.call("POST", "/store", api.admin_key, json={"content": "é" * (100 * 1024 + 1)})
    assert r.status_code == 400 and r.json()["field"] == "content"


def test_unknown_route_and_method_are_json(api: Api) -> None:
    r = api.call("GET", "/no/such/route", api.admin_key)
    assert r.status_code == 404 and "error" in r.json()
    r = api.call("PATCH", "/store", api.admin_key)
    assert r.status_code == 405 and "error" in r.json()


def test_openapi_describes_every_route(api: Api) -> None:
    doc = api.call("GET", "/openapi.json").json()
    published = [*SPECS, MCP_SPEC]  # /mcp is mounted beside the api(...) routes (the MCP SDK's ASGI app)
    served = {(m.lower(), _PARAM.sub(lambda x: "{" + x.group(1) + "}", s.path)) for s in published for m in s.methods}
    described = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert served == described
    assert doc["paths"]["/mcp"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "jsonrpc", "method"]  # fmt: skip
    store = doc["paths"]["/store"]["post"]
    assert "content" in store["requestBody"]["content"]["application/json"]["schema"]["required"]


WITH_QUERY = [s for s in SPECS if s.query is not None and s.scope != "open"]
_BAD_QUERY = {"int": "seven", "float": "x", "bool": "maybe", "timestamp": "not a date"}


@pytest.mark.parametrize("spec", WITH_QUERY, ids=_ids(WITH_QUERY))
def test_bad_query_strings_get_the_documented_error_shape(api: Api, spec: RouteSpec) -> None:
    assert spec.query is not None
    mid = _memory(api)
    path = _concrete(spec.path, mid)
    base = {f.name: str(_valid_value(f)) for f in spec.query.fields if f.required}
    tried = 0
    for field in spec.query.fields:
        bad = "zzz-not-a-choice" if field.choices else _BAD_QUERY.get(field.kind)
        if bad is None:
            continue
        r = api.call(spec.methods[0], path, api.admin_key, params={**base, field.name: bad})
        assert r.status_code == 400, (field.name, r.text)
        assert r.json()["field"] == field.name and r.json()["error"]
        tried += 1
    required = [f for f in spec.query.fields if f.required]
    if required:
        r = api.call(spec.methods[0], path, api.admin_key)
        assert r.status_code == 400 and r.json()["field"] == required[0].name
    assert tried or required or all(f.kind in {"str", "text", "tags", "str_list"} for f in spec.query.fields)
