"""An acknowledged write survives a restart of the app on the same data dir."""

from __future__ import annotations

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET


def test_memory_survives_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        key = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        mid = client.post("/store", json={"content": "Deploys happen on Tuesdays"}, headers=h).json()["id"]
    with TestClient(create_app(settings)) as client:
        got = client.get(f"/memory/{mid}", headers=h)
        assert got.status_code == 200 and got.json()["content"] == "Deploys happen on Tuesdays"
        hits = client.post("/search", json={"query": "deploys tuesday"}, headers=h).json()["results"]
        assert [x["id"] for x in hits] == [mid]
