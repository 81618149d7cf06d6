"""Security headers on every response, CORS only for ENGRAM_ALLOWED_ORIGINS, body size limits."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from engram_server.security import CSP
from tests.helpers import Api

FIXED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def test_every_kind_of_response_carries_the_security_headers(api: Api) -> None:
    responses = [
        api.call("GET", "/health"),
        api.call("GET", "/docs"),
        api.call("GET", "/openapi.json"),
        api.call("GET", "/list", api.admin_key),
        api.call("GET", "/list"),  # 401
        api.call("GET", "/no/such/route"),  # 404 from the router
        api.call("PATCH", "/store", api.admin_key),  # 405
        api.call("POST", "/store", api.admin_key, json={"content": ""}),  # 400
    ]
    for r in responses:
        for name, value in FIXED.items():
            assert r.headers[name] == value, (r.request.url, name)
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-security-policy"] == CSP
    docs = responses[1]
    assert docs.headers["content-type"].startswith("text/html") and "default-src 'none'" in CSP
    assert "<script" not in docs.text  # the strict CSP would block one


def test_cors_is_off_by_default(api: Api) -> None:
    r = api.call("OPTIONS", "/search", headers={"Origin": "https://evil.example",
                                                "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert "access-control-allow-origin" not in r.headers
    r = api.call("GET", "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, allowed_origins=("https://app.example",))
    with TestClient(create_app(settings)) as client:
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        ok = client.options("/search", headers={"Origin": "https://app.example", **pre})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example"
        assert ok.headers["x-frame-options"] == "DENY"
        bad = client.options("/search", headers={"Origin": "https://evil.example", **pre})
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
        simple = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers
        simple = client.get("/health", headers={"Origin": "https://app.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example"


def test_body_limits_store_256k_others_2m(api: Api) -> None:
    # /store: 256 KiB, whether declared by Content-Length or streamed without one.
    big = b'{"content": "' + b"a" * (257 * 1024) + b'"}'
    r = api.call("POST", "/store", api.admin_key, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "262144" in r.json()["error"]

    def chunks() -> object:
        yield big[:1000]
        yield big[1000:]

    r = api.call("POST", "/memory", api.admin_key, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    mid = api.store(api.admin_key, "a memory to update")
    r = api.call("POST", f"/memory/{mid}/update", api.admin_key, content=big,
                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413
    # Other routes: 2 MiB. 1 MiB passes the size gate (and fails validation instead), 2 MiB + 1 does not.
    medium = b'{"query": "' + b"q" * (1024 * 1024) + b'"}'
    r = api.call("POST", "/search", api.admin_key, content=medium, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    huge = b'{"query": "' + b"q" * (2 * 1024 * 1024) + b'"}'
    r = api.call("POST", "/search", api.admin_key, content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = api.call("POST", "/keys", api.admin_key, content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
