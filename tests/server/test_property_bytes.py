"""Issue 18, done means: arbitrary bytes (invalid UTF-8 included) as every string field of every route.

Hypothesis picks a route and one of its string fields (body fields of every JSON-body route, query
filters of every GET route, walked from the route table) and puts arbitrary bytes inside that string;
the rest of the body is plausible, so the request gets past everything but that field. Properties: never
a 5xx; a body that is not valid UTF-8 is refused (400 naming the body); a refused request changes no row
of any table (``fingerprint``: every row, FTS shadow tables included); and afterwards every read route
still answers 200. Example counts are modest (CI runs them derandomized).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_core.validation import Field
from engram_server.app import create_app
from engram_server.routing import RouteSpec
from tests.helpers import Api

from .edge_support import (
    BAD_UTF8,
    SPECS,
    body_routes,
    body_with,
    failing_reads,
    fill,
    fingerprint,
    make_objects,
    string_fields,
    write_method,
)

Target = tuple[RouteSpec, Field]
PROPERTY = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
BODY_TARGETS = [(spec, f) for spec in body_routes() for f in string_fields(spec)]
QUERY_TARGETS = [
    (spec, f)
    for spec in SPECS
    if "GET" in spec.methods and spec.query and spec.produces == "application/json"
    for f in spec.query.fields
    if f.kind in {"str", "text", "tags", "str_list"}
]
# Arbitrary bytes, with the invalid sequences the black-box run used mixed in, and plain text.
RAW = st.one_of(
    st.binary(max_size=16),
    st.lists(st.one_of(st.sampled_from(BAD_UTF8), st.binary(min_size=1, max_size=4),
                       st.text(max_size=4).map(str.encode)), min_size=1, max_size=5).map(b"".join),
)  # fmt: skip


def _valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, int]]]:
    data = tmp_path_factory.mktemp("bytes") / "data"
    cfg = Settings.for_data_dir(data, bootstrap_secret="s", rate_limit_per_minute=10**9,
                                ip_rate_limit_per_minute=10**9, ttl_sweep_seconds=3600.0)  # fmt: skip
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        ids = make_objects(api)
        api.park_background()
        yield api, ids


def test_arbitrary_bytes_in_every_string_field(walk: tuple[Api, dict[str, int]]) -> None:
    api, ids = walk
    assert len(BODY_TARGETS) > 60 and len(QUERY_TARGETS) > 10
    seen: set[str] = set()

    @settings(PROPERTY, max_examples=150)
    @given(target=st.sampled_from(BODY_TARGETS), raw=RAW)
    def body(target: Target, raw: bytes) -> None:
        spec, field = target
        seen.add(f"{spec.path} {field.name}")
        content = body_with(spec, ids, field, raw)
        before = fingerprint(api)
        r = api.call(write_method(spec), fill(spec.path, ids), api.admin_key, content=content,
                     headers={"Content-Type": "application/json"})  # fmt: skip
        assert r.status_code < 500 or "is not installed" in r.text, (spec.path, field.name, raw, r.text)
        if not _valid_utf8(content):
            assert r.status_code == 400 and r.json()["field"] == "body", r.text
        if r.status_code >= 400:
            assert fingerprint(api) == before, (spec.path, field.name, raw, r.text)

    @settings(PROPERTY, max_examples=60)
    @given(target=st.sampled_from(QUERY_TARGETS), raw=RAW)
    def query(target: Target, raw: bytes) -> None:
        spec, field = target
        before = fingerprint(api)
        url = f"{fill(spec.path, ids)}?{field.name}={quote_from_bytes(raw, safe='')}"
        r = api.call("GET", url, api.admin_key)
        assert r.status_code < 500, (url, r.text)
        if r.status_code >= 400:
            assert fingerprint(api) == before, (url, r.text)

    body()
    query()
    assert len(seen) > 40  # the draw reached most fields
    # Afterwards every read answers 200, over the objects made before and a fresh set.
    assert failing_reads(api, make_objects(api, "again")) == []
