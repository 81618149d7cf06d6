"""Rate limits (429 + Retry-After), bootstrap lockout, and an encrypted data dir through the server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engram_core.auth.guard import RequestLimits
from engram_core.engram import Engram
from engram_core.errors import Locked
from engram_core.settings import Settings
from engram_server.app import create_app


def test_per_key_rate_limit_answers_429_and_recovers(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", rate_limit_per_minute=6)
    now = [1000.0]
    with TestClient(create_app(settings)) as client:
        client.app.state.engram.limits = RequestLimits(settings, clock=lambda: now[0])  # type: ignore[attr-defined]
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        codes = [client.post("/search", json={"query": "x"}, headers=h).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # search weighs 2 units of a 6-unit budget
        r = client.post("/search", json={"query": "x"}, headers=h)
        assert r.status_code == 429 and r.json()["error"].startswith("rate limit exceeded")
        retry = int(r.headers["Retry-After"])
        assert retry == 20  # 2 units at 6 units/min
        now[0] += retry - 1
        assert client.post("/search", json={"query": "x"}, headers=h).status_code == 429
        now[0] += 1
        assert client.post("/search", json={"query": "x"}, headers=h).status_code == 200


def test_bootstrap_locks_after_five_wrong_secrets(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="right")
    with TestClient(create_app(settings)) as client:
        codes = [client.post("/bootstrap", json={"secret": f"wrong{i}"}).status_code for i in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        r = client.post("/bootstrap", json={"secret": "right"})
        assert r.status_code == 429 and "Retry-After" in r.headers


def test_encrypted_data_dir_round_trip_and_wrong_key(tmp_path: Path) -> None:
    key_hex = os.urandom(32).hex()
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", encryption_mode="env", db_key=key_hex)
    sentence = "The vault combination is tangerine-47"
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        assert client.post("/store", json={"content": sentence}, headers=h).status_code == 201
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert sentence.encode() not in raw and b"SQLite format 3" not in settings.db_path.read_bytes()[:16]
    with TestClient(create_app(settings)) as client:
        hits = client.post("/search", json={"query": "vault combination"}, headers=h).json()["results"]
        assert [x["content"] for x in hits] == [sentence]
    with pytest.raises(Locked, match="wrong database key"):
        Engram.open(settings.replace(db_key=os.urandom(32).hex()))
    with pytest.raises(Locked, match="ENGRAM_ENCRYPTION_MODE is none"):
        Engram.open(settings.replace(encryption_mode="none"))


def test_store_routes_cap_the_body_at_engram_max_store_body_bytes(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, bootstrap_secret="s", max_store_body_bytes=4096)
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": "s"}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        big = {"content": "x " * 3000}  # ~6 KB: over the 4 KiB setting, far under the old fixed 256 KiB
        for path in ("/store", "/memory", "/memories"):
            r = client.post(path, json=big, headers=h)
            assert r.status_code == 413, (path, r.text)
            assert "4096 bytes" in r.json()["error"]
        mid = client.post("/store", json={"content": "small"}, headers=h).json()["id"]
        assert client.post(f"/memory/{mid}/update", json=big, headers=h).status_code == 413
        # other routes keep ENGRAM_MAX_BODY_BYTES
        assert client.post("/search", json={"query": "x " * 3000}, headers=h).status_code == 200
