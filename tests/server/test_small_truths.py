"""Issue 18 §5: forget_after in the past, Content-Type, /openapi.json agreeing with the server (lengths in
characters, maxLength on query filters), complete Allow headers, and a client
that disconnects mid-body."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engram_core.validation import Field, Schema
from tests.helpers import Api

from .edge_support import PARAM, SPECS, fill


def test_forget_after_in_the_past_is_refused(api: Api) -> None:
    before = api.table_counts()
    for when in (datetime.now(UTC) - timedelta(seconds=1), datetime(2001, 1, 1, tzinfo=UTC)):
        r = api.call("POST", "/store", api.admin_key, json={"content": "ttl note", "forget_after": when.isoformat()})
        assert r.status_code == 400 and r.json()["field"] == "forget_after", r.text
    assert api.table_counts() == before
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = api.call("POST", "/store", api.admin_key, json={"content": "ttl note", "forget_after": later})
    assert r.status_code == 201 and api.call("GET", f"/memory/{r.json()['id']}", api.admin_key).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b'{"content": "plain"}', 415),
        ("multipart/form-data; boundary=x", b'{"content": "multi"}', 415),
        ("application/xml", b'{"content": "xml"}', 415),
        ("application/json; charset=utf-16", '{"content": "sixteen"}'.encode("utf-16"), 415),
        ("application/json", '{"content": "sixteen"}'.encode("utf-16"), 400),
        ("application/json", '{"content": "sixteen"}'.encode("utf-16-le"), 400),
        ("application/json; charset=UTF-8", b'{"content": "json utf8"}', 201),
        ("application/vnd.engram+json", b'{"content": "plus json"}', 201),
        ("application/x-www-form-urlencoded", b'{"content": "curl -d"}', 201),  # what `curl -d` sends
        ("application/x-www-form-urlencoded", b"content=a+form", 400),  # a real form body is not JSON
        (None, b'{"content": "no type"}', 201),
    ],
)
def test_content_type(api: Api, content_type: str | None, body: bytes, status: int) -> None:
    before = api.table_counts()
    headers = {"Content-Type": content_type} if content_type else {}
    r = api.client.post("/store", content=body, headers={**api.headers(api.admin_key), **headers})
    if content_type is None:
        assert "content-type" not in {k.lower() for k in r.request.headers}
    assert r.status_code == status, r.text
    if status >= 400:
        assert api.table_counts() == before
        assert r.json()["field"] == ("Content-Type" if status == 415 else "body"), r.text


def _fields() -> list[tuple[str, Field, Schema]]:
    out = []
    for spec in SPECS:
        for schema in (spec.body, spec.query):
            out.extend((spec.path, f, schema) for f in (schema.fields if schema else ()))
    return out


def test_length_limits_are_characters_like_max_length() -> None:
    """Every bounded string field accepts exactly maxLength characters (of any width) and refuses one more."""
    checked = 0
    for path, f, _ in _fields():
        published = f.json_schema()
        limit = published.get("maxLength")
        if f.kind not in {"str", "text"} or limit is None or f.choices or f.check is not None:
            continue
        assert limit == f.max_len, (path, f.name)
        for ch in ("a", "é", "語", "🦜"):
            assert f.parse(ch * limit) == ch * limit, (path, f.name, ch)
            with pytest.raises(Exception, match="longer than"):
                f.parse(ch * (limit + 1))
        checked += 1
    assert checked > 30


def test_query_filters_enforce_the_published_max_length(api: Api) -> None:
    spec = api.call("GET", "/openapi.json").json()
    ids = {"memory": api.store(api.admin_key, "a memory to name")}
    sent = 0
    for template, ops in spec["paths"].items():
        op = ops.get("get")
        if not op or "{" in template or template in {"/axon/stream", "/backup"}:
            continue
        for param in op.get("parameters", []):
            limit = param["schema"].get("maxLength")
            if param["in"] != "query" or limit is None:
                continue
            r = api.call("GET", fill(template, ids), api.admin_key, params={param["name"]: "a" * (limit + 1)})
            assert r.status_code == 400 and r.json()["field"] == param["name"], (template, param["name"], r.text)
            sent += 1
    assert sent >= 10


def test_allow_lists_every_method_of_the_path(api: Api) -> None:
    by_path: dict[str, set[str]] = {}
    for spec in SPECS:
        by_path.setdefault(spec.path, set()).update(spec.methods)

    def segment(m: re.Match[str]) -> str:
        return "[0-9]+" if m.group(0).endswith(":int}") else "[^/]+"

    patterns = {t: re.compile("^" + PARAM.sub(segment, t) + "$") for t in by_path}
    checked = 0
    for template in by_path:
        path = PARAM.sub("1", template)
        # Every template the concrete path matches serves it (/scratch/1/promote is also /scratch/{session}/{key}).
        methods = set().union(*(by_path[t] for t, pattern in patterns.items() if pattern.match(path)))
        r = api.call("OPTIONS", path, api.admin_key)
        assert r.status_code == 405, (path, r.status_code)
        allow = {m.strip() for m in r.headers["allow"].split(",")}
        assert allow - {"HEAD"} == methods, (path, allow, methods)
        checked += 1
    assert checked > 80


def test_a_client_that_disconnects_mid_body_is_logged_as_such(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    app = api.client.app
    sent: list[dict[str, Any]] = []
    events = [
        {"type": "http.request", "body": b'{"content": "half a', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/store", "raw_path": b"/store", "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5),
        "server": ("testserver", 80), "app": app,
        "headers": [(b"authorization", f"Bearer {api.admin_key}".encode()), (b"content-type", b"application/json"),
                    (b"content-length", b"400")],
    }  # fmt: skip
    before = api.table_counts()
    caplog.set_level(logging.INFO, logger="engram.server")
    assert api.client.portal is not None
    api.client.portal.call(app, scope, receive, send)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert any("disconnected" in r.getMessage() and r.exc_info is None for r in caplog.records), caplog.text
    assert api.table_counts() == before


def test_null_for_an_optional_field_means_not_given_and_is_published(api: Api) -> None:
    """An explicit null for an optional field is taken as leaving it out (JSON clients send it), and
    /openapi.json says so with ``nullable``; a required field, or one whose schema has no type, refuses null."""
    optional = Schema(Field("title", "str", default="untitled", max_len=10), Field("n", "int", default=3))
    assert optional.parse({"title": None, "n": None}) == optional.parse({}) == {"title": "untitled", "n": 3}
    assert optional.parse({"title": None}, partial=True) == {}  # a PATCH's null leaves the field as it is
    assert all(p["nullable"] for p in optional.json_schema()["properties"].values())
    untyped = {"anyOf": [{"type": "string"}, {"type": "integer"}]}  # a schema that cannot say "or null"
    strict = Schema(Field("name", "text", required=True), Field("blob", "any", schema=untyped))
    with pytest.raises(Exception, match="name: is required"):
        strict.parse({"name": None})
    with pytest.raises(Exception, match="blob: must not be null"):
        strict.parse({"name": "x", "blob": None})
    assert "nullable" not in strict.json_schema()["properties"]["name"]
    r = api.call("POST", "/store", api.admin_key, json={"content": "null-field note", "category": None, "tags": None})
    assert r.status_code == 201, r.text
    stored = api.call("GET", f"/memory/{r.json()['id']}", api.admin_key).json()
    assert stored["category"] == "general" and stored["tags"] == []
    published = api.call("GET", "/openapi.json").json()
    store = published["paths"]["/store"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props = (
        store["properties"]
        if "properties" in store
        else published["components"]["schemas"][store["$ref"].split("/")[-1]]["properties"]
    )
    assert props["category"]["nullable"] is True and "nullable" not in props["content"]
