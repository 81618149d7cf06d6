"""Property-based fuzzing (hypothesis) of every text field, the FTS query path and every POST/PUT route.

Properties: never a 5xx, every error is ``{"error": ...}`` JSON, and no half-written data: the memory
row count changes only when a store or update answers 2xx, and a refused request changes the row count of
no table at all (``Api.table_counts``: every table, FTS shadow tables included). Background work (jobs,
periodic tasks) is parked for the module, so every count change is a request's own.
Example counts are bounded so the whole module runs in a few seconds; ``EXAMPLES`` reports them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from engram_core.model.fts import build_match
from engram_core.search.channels.fts import fts_channel
from engram_core.search.schemas import SEARCH
from engram_core.settings import Settings
from engram_server.app import all_routes, create_app
from engram_server.routing import RouteSpec
from tests.helpers import Api

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLES: dict[str, int] = {}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
NASTY = [
    '"', "'", "*", "NEAR(a b)", "a AND OR NOT b", "^x", "col:val", "(", ")", "a\"b", "' OR 1=1 --",
    "\x00", "\u202e", "\ud7ff", "🦜🦜", "ﬁ", "İ", "\n\t", " ", "-", "--", "a" * 5000, "NOT", "{}", "[]",
    "%s %d", "\\", "memories_fts", "content:secret", "\"a\" * \"b\"", "\ud800", "a\udfffb",
]  # fmt: skip
TEXT = st.one_of(st.text(max_size=300), st.sampled_from(NASTY), st.lists(st.sampled_from(NASTY)).map(" ".join))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ANY = st.one_of(JSON, TEXT, st.integers(), st.floats(), st.booleans(), st.none(), st.lists(TEXT, max_size=3))


def _count(name: str) -> None:
    EXAMPLES[name] = EXAMPLES.get(name, 0) + 1


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = Path(tmp_path_factory.mktemp("fuzz")) / "data"
    cfg = Settings.for_data_dir(data, bootstrap_secret="s", rate_limit_per_minute=10**9,
                                ip_rate_limit_per_minute=10**9, ttl_sweep_seconds=3600.0)  # fmt: skip
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        api.park_background()
        yield api


def _check(r: Any) -> None:
    # The one documented 5xx: /v1/embeddings without an installed model (503, "not installed").
    unavailable = r.status_code == 503 and "is not installed" in r.json().get("error", "")
    assert r.status_code < 500 or unavailable, (r.request.method, r.request.url, r.text)
    if r.status_code >= 400:
        body = r.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body


def _post(api: Api, method: str, path: str, body: Any) -> Any:
    # Encoded here, not by httpx: NaN/Infinity and lone surrogates (as \\u escapes) must reach the server.
    raw = json.dumps(body, allow_nan=True).encode()
    r = api.call(method, path, api.admin_key, content=raw, headers={"Content-Type": "application/json"})
    _check(r)
    return r


def test_store_fields(fuzz_api: Api) -> None:
    field = st.sampled_from(["content", "category", "source", "session_id", "status", "tags", "forget_after",
                             "created_at", "importance", "space_id", "is_static", "embedding"])  # fmt: skip

    @settings(FUZZ, max_examples=150)
    @given(content=TEXT, extra=st.dictionaries(field, ANY, max_size=4), tags=st.lists(TEXT, max_size=5))
    def run(content: str, extra: dict[str, Any], tags: list[str]) -> None:
        _count("store")
        before = fuzz_api.table_counts()
        body = {"content": content, "tags": tags, **extra}  # extra may override content itself
        r = _post(fuzz_api, "POST", "/store", body)
        after = fuzz_api.table_counts()
        if r.status_code == 201:
            assert after["memories"] == before["memories"] + 1 and r.json()["stored"] is True
            got = fuzz_api.call("GET", f"/memory/{r.json()['id']}", fuzz_api.admin_key).json()
            assert got["content"] == body["content"].strip()
        elif r.status_code >= 400:
            assert after == before, r.text  # refused: nothing written, in any table
        else:
            assert after["memories"] == before["memories"], r.text  # a duplicate: no new row

    run()


def test_update_fields(fuzz_api: Api) -> None:
    mid = [fuzz_api.store(fuzz_api.admin_key, "the update fuzz target about herons")]
    field = st.sampled_from(["content", "category", "importance", "tags", "is_static", "status"])

    @settings(FUZZ, max_examples=80)
    @given(body=st.dictionaries(field, ANY, max_size=4), text=TEXT)
    def run(body: dict[str, Any], text: str) -> None:
        _count("update")
        before = fuzz_api.table_counts()
        r = _post(fuzz_api, "POST", f"/memory/{mid[0]}/update", {"content": text, **body})
        after = fuzz_api.table_counts()
        if r.status_code == 200:
            assert after["memories"] == before["memories"] + 1
            mid[0] = r.json()["new_id"]
        else:
            assert after == before, r.text

    run()


def test_search_query_and_filters(fuzz_api: Api) -> None:
    for text in ("herons nest by the river", "the cracked terracotta pot", 'NEAR quotes "and" stars *'):
        fuzz_api.call("POST", "/store", fuzz_api.admin_key, json={"content": text, "tags": ["t"]})
    filters = st.dictionaries(st.sampled_from([f.name for f in SEARCH.fields if f.name != "query"]), ANY, max_size=4)

    @settings(FUZZ, max_examples=150)
    @given(query=TEXT, extra=filters)
    def run(query: str, extra: dict[str, Any]) -> None:
        _count("search")
        before = fuzz_api.table_counts()
        r = _post(fuzz_api, "POST", "/search", {"query": query, **extra})
        if r.status_code == 200:
            assert isinstance(r.json()["results"], list)
        assert fuzz_api.table_counts() == before  # a search, answered or refused, adds or removes no row

    run()


def test_fts_query_path_never_reaches_match_unsafely(fuzz_api: Api) -> None:
    db = fuzz_api.client.app.state.engram.db  # type: ignore[attr-defined]
    q = SEARCH.parse({"query": "x"})

    @settings(FUZZ, max_examples=300)
    @given(text=TEXT, prefix=st.booleans())
    def run(text: str, prefix: bool) -> None:
        _count("fts")
        match = build_match(text, prefix_last=prefix)
        if match is not None:  # whatever the text, the expression is valid FTS5 syntax
            sql = "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH ?"
            db.read(lambda c: c.execute(sql, (match,)).fetchall())
        hits = db.read(lambda c: fts_channel(c, 1, text, q, 10))
        assert all(isinstance(i, int) for i, _ in hits)

    run()


def _body_routes() -> list[RouteSpec]:
    specs: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]
    return [s for s in specs if {"POST", "PUT", "PATCH"} & set(s.methods)]


@pytest.mark.parametrize("spec", _body_routes(), ids=lambda s: f"{'/'.join(s.methods)} {s.path}")
def test_arbitrary_json_to_every_body_route(fuzz_api: Api, spec: RouteSpec) -> None:
    events = fuzz_api.table_counts().get("axon_events", 0)
    # Paths that differ by a few characters (/axon/subscribe, /axon/unsubscribe) make near-duplicates: either id.
    made = fuzz_api.call("POST", "/store", fuzz_api.admin_key, json={"content": f"a memory for {spec.path} to chew on"})
    mid = made.json().get("id") or made.json()["existing_id"]
    for _ in range(100):  # its memory.created event is published from the change feed, on the loop: let it land
        if fuzz_api.table_counts().get("axon_events", 0) > events:
            break
        time.sleep(0.02)
    path = _PARAM.sub(str(mid), spec.path)
    method = next(m for m in spec.methods if m in {"POST", "PUT", "PATCH"})
    fields = [f.name for f in spec.body.fields] if spec.body else ["content", "query"]
    shaped = st.dictionaries(st.sampled_from(fields), ANY, max_size=5)

    @settings(FUZZ, max_examples=12)
    @given(body=st.one_of(JSON, shaped))
    def run(body: Any) -> None:
        _count("routes")
        before = fuzz_api.table_counts()
        r = _post(fuzz_api, method, path, body)
        if r.status_code >= 400:
            assert fuzz_api.table_counts() == before, (path, body, r.text)

    run()


def test_lone_surrogate_escapes_are_refused_not_crashed(fuzz_api: Api) -> None:
    """Found by this fuzzer: a lone \\uDFFF escape used to reach SQLite's UTF-8 encoder and answer 500."""
    for raw in (b'{"content": "a\\udfffb"}', b'{"content": "ok", "tags": ["\\ud800"]}'):
        r = fuzz_api.call("POST", "/store", fuzz_api.admin_key, content=raw,
                          headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 400 and r.json()["field"] == "body", r.text
    r = fuzz_api.call("POST", "/store", fuzz_api.admin_key, content=b'{"content": "pair \\ud83d\\ude00 ok"}',
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 201


def test_example_counts(fuzz_api: Api) -> None:
    """Runs last in this module: prints how many examples each property saw (for BENCHMARKS.md)."""
    print(f"\nfuzz examples: {EXAMPLES} total={sum(EXAMPLES.values())}")
    if EXAMPLES:  # empty when this test is selected alone
        assert all(v > 0 for v in EXAMPLES.values())
