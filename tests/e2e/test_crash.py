"""Crash safety: concurrent clients hammer POST /store on a real `engram serve` (encrypted data dir), the
server is SIGKILLed mid-stream and restarted on the same data dir. Every write that got a 2xx must be
there (same id, same content), ``PRAGMA integrity_check`` must be ok and the FTS index must agree with the
table (FTS5 ``integrity-check`` plus a MATCH on each acknowledged write's unique token)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from engram_core.storage.connection import connect
from tests.e2e.support import engram, free_port, start_server

pytestmark = pytest.mark.slow
CLIENTS = 6
MIN_ACKED = 150


def _hammer(base: str, headers: dict[str, str], acked: list[tuple[int, str]], sent: list[int],
            lock: threading.Lock, stop: threading.Event) -> None:  # fmt: skip
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while not stop.is_set():
            token = uuid.uuid4().hex
            content = f"crash {token} {uuid.uuid4().hex} {uuid.uuid4().hex}"  # random words: no near-duplicates
            with lock:
                sent[0] += 1
            try:
                r = client.post("/store", json={"content": content})
            except httpx.TransportError:
                return  # the server is gone
            if 200 <= r.status_code < 300:
                assert r.json()["stored"] is True, r.text
                with lock:
                    acked.append((int(r.json()["id"]), content))


def test_sigkill_mid_stream_loses_no_acknowledged_write(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    key_hex = os.urandom(32).hex()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port),
           "ENGRAM_ENCRYPTION_MODE": "env", "ENGRAM_DB_KEY": key_hex, "ENGRAM_LOG_LEVEL": "warning",
           "ENGRAM_RATE_LIMIT_PER_MINUTE": "10000000", "ENGRAM_IP_RATE_LIMIT_PER_MINUTE": "10000000"}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    made = engram("keys", "create", "--admin", env=env)
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}

    proc = start_server(env)
    acked: list[tuple[int, str]] = []
    sent = [0]
    lock = threading.Lock()
    stop = threading.Event()
    threads = [threading.Thread(target=_hammer, args=(base, headers, acked, sent, lock, stop)) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < MIN_ACKED and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: every client has a request in flight
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert len(acked) >= MIN_ACKED

    proc = start_server(env)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            missing = []
            for mid, content in acked:
                r = client.get(f"/memory/{mid}")
                if r.status_code != 200 or r.json()["content"] != content:
                    missing.append((mid, r.status_code))
            total = client.get("/me/stats").json()["memories"]
            print(f"\ncrash test: clients={CLIENTS} sent={sent[0]} acknowledged={len(acked)} "
                  f"found={len(acked) - len(missing)} rows after restart={total}")  # fmt: skip
            assert missing == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)

    conn = connect(tmp_path / "data" / "engram.db", key=bytes.fromhex(key_hex))
    try:
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"]
        conn.execute("INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')")  # raises if they disagree
        rows = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        fts_rows = conn.execute("SELECT count(*) FROM memories_fts_docsize").fetchone()[0]
        assert fts_rows == rows
        for mid, content in acked:
            token = content.split()[1]
            hits = [r[0] for r in conn.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?",
                                               (f'"{token}"',))]  # fmt: skip
            assert hits == [mid]
    finally:
        conn.close()
