"""No plaintext on disk or in the logs when the database is encrypted.

A workload (store, update, search, forget, restore, tags, backup download and kept backup, verify, the
job queue, purge) runs on an encrypted data dir at log level DEBUG. Then every file under the data dir
(the database, -wal, -shm, the kept backup, the YubiKey-style sidecars if any, leftover work files) is
read byte for byte, and so are the captured logs and stdout/stderr: no stored sentence and no distinctive
word of one may appear. The models cache (``<data dir>/models``) holds downloaded model files, not user
data, and is left out.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.helpers import Api

SENTENCES = [
    "Priya keeps the spare house key under the cracked terracotta pot",
    "Marguerite's passport number ends in quokkamarmalade",
    "The blood test showed ferritin at zanzibarine levels",
]
UPDATED = "Priya moved the spare key into the blue lockbox vexillocrimson"
WORDS = ["quokkamarmalade", "zanzibarine", "vexillocrimson", "terracotta", "Marguerite"]


def _needles() -> list[bytes]:
    texts = [*SENTENCES, UPDATED, *WORDS]
    return [t.encode(enc) for t in texts for enc in ("utf-8", "utf-16-le")]


def test_encrypted_workload_leaves_no_plaintext(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                capfd: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    data = tmp_path / "data"
    settings = Settings.for_data_dir(data, bootstrap_secret="s", encryption_mode="env",
                                     db_key=os.urandom(32).hex(), log_level="debug")  # fmt: skip
    downloads: list[bytes] = []
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": "s"}).json()["key"])
        alice = api.user("alice")
        ids = [api.store(alice, s, tags=["private"]) for s in SENTENCES]
        r = api.call("POST", f"/memory/{ids[0]}/update", alice, json={"content": UPDATED})
        assert r.status_code == 200, r.text
        for query in ("spare house key", "quokkamarmalade passport", "ferritin"):
            assert api.call("POST", "/search", alice, json={"query": query}).status_code == 200
        assert api.call("POST", "/search", alice, json={"query": "zanzibarine"}).status_code == 200
        assert api.call("POST", f"/memory/{ids[1]}/forget", alice, json={"reason": "asked to"}).status_code == 200
        assert api.call("POST", f"/memory/{ids[1]}/restore", alice).status_code == 200
        assert api.call("PUT", f"/memory/{ids[2]}/tags", alice, json={"tags": ["health"]}).status_code == 200
        assert api.call("POST", "/admin/reembed", api.admin_key).status_code == 202
        assert api.call("GET", "/jobs", api.admin_key, params={"all": "true"}).status_code == 200
        for keep in ("false", "true"):
            r = api.call("GET", "/backup", api.admin_key, params={"keep": keep})
            assert r.status_code == 200
            downloads.append(r.content)
        assert api.call("POST", "/backup/verify", api.admin_key, json={"target": "latest"}).json()["ok"]
        assert api.call("DELETE", f"/memory/{ids[2]}", alice).status_code == 200
        mid = api.store(alice, "A short-lived note about the orchard")
        assert api.call("POST", f"/memory/{mid}/purge", alice).status_code == 200
        # Files as they are while the server still runs (WAL not yet checkpointed) ...
        live = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    # ... and after a clean shutdown.
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    models = settings.models_dir.resolve()
    files = {p: b for p, b in {**live, **after}.items() if models not in p.resolve().parents}
    assert any(p.name.endswith("-wal") for p in live), "the workload should have run in WAL mode"
    assert any(p.parent.name == "backups" for p in files), "a kept backup should be under the data dir"
    out, err = capfd.readouterr()
    # Server-side records only: the test's own HTTP client (httpx) logs the URLs it requests.
    server_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    logs = (server_logs + out + err).encode("utf-8")
    assert "(reembed) failed" in server_logs  # DEBUG logging was on and captured
    for needle in _needles():
        for path, raw in files.items():
            assert needle not in raw, f"{needle!r} in {path.relative_to(data)}"
        for i, raw in enumerate(downloads):
            assert needle not in raw, f"{needle!r} in backup download {i}"
        assert needle not in logs, f"{needle!r} in the logs"
    for path, raw in files.items():
        if path.suffix == ".db" and raw:
            assert not raw.startswith(b"SQLite format 3"), path
