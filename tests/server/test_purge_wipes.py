"""Purge really deletes: after ``POST /memory/{id}/purge`` answers, no file under the data dir holds the
purged memory's words, on a plain and on an encrypted database, and a backup taken afterwards neither.

The marker word is stored in the content of two versions, in a tag (so in ``memory_tags`` and in the
audit row of the tag change) and in a personality signal. Every file under the data dir (the database,
``-wal``, ``-shm``, ``lance/``, ``models/``, ``backups/``) is read byte for byte while the server still runs,
right after the purge answered. Encrypted files are meaningless to grep, so there every page of the
database and of the WAL is decrypted with the key (SQLCipher 4 page layout, AES-256-CBC) and the
plaintext is searched: live rows, FTS5 shadow tables, free pages and slack space alike. Each case first
checks that the marker *is* on disk before the purge, so an absence afterwards means something.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.search_support import HashEmbedder, embed_all, engram_of

MARKER = "zqxwvlarkbr"
# FTS5 leaves store a term as (prefix shared with the previous term, suffix): the tail is always there.
NEEDLES = [MARKER.encode(), MARKER[3:].encode(), MARKER.encode("utf-16-le")]
PAGE = 4096
RESERVE = 80  # SQLCipher 4: 16-byte IV + 64-byte HMAC-SHA512 at the end of every page
SALT = 16  # page 1 starts with the KDF salt


def _decrypt_page(page: bytes, key: bytes, first: bool) -> bytes:
    start = SALT if first else 0
    iv = page[PAGE - RESERVE : PAGE - RESERVE + 16]
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(page[start : PAGE - RESERVE]) + dec.finalize()


def plaintext(path: Path, key: bytes) -> bytes:
    """Every page of an encrypted database file or WAL, decrypted and concatenated."""
    data = path.read_bytes()
    out: list[bytes] = []
    if path.name.endswith("-wal"):
        for off in range(32, len(data) - PAGE + 1, 24 + PAGE):
            pgno = int.from_bytes(data[off : off + 4], "big")
            out.append(_decrypt_page(data[off + 24 : off + 24 + PAGE], key, pgno == 1))
    else:
        for n, off in enumerate(range(0, len(data) - PAGE + 1, PAGE)):
            out.append(_decrypt_page(data[off : off + PAGE], key, n == 0))
    return b"".join(out)


def _files(data: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()}


def _holding(files: dict[Path, bytes], needles: list[bytes]) -> list[str]:
    return sorted({f"{p.name}: {n!r}" for p, b in files.items() for n in needles if n in b})


def _workload(api: Api, key: str) -> int:
    """A marked memory with two versions, a marked tag and a personality signal; returns the latest id."""
    api.store(key, "The orchard ladder leans against the barn wall")  # stays
    first = api.store(key, f"I really love {MARKER} pancakes on sunday mornings", tags=[f"{MARKER}-tag"])
    r = api.call("POST", f"/memory/{first}/update", key,
                 json={"content": f"I really love {MARKER} waffles on sunday mornings"})  # fmt: skip
    assert r.status_code == 200, r.text
    latest = int(r.json()["new_id"])
    r = api.call("PUT", f"/memory/{latest}/tags", key, json={"tags": [f"{MARKER}-tag", "food"]})
    assert r.status_code == 200, r.text
    assert api.call("POST", "/profile/synthesize", key).status_code == 200
    r = api.call("POST", "/search", key, json={"query": MARKER})
    assert r.status_code == 200 and r.json()["results"], r.text
    return latest


def _purge(api: Api, key: str, memory_id: int) -> None:
    r = api.call("POST", f"/memory/{memory_id}/purge", key)
    assert r.status_code == 200, r.text
    assert len(r.json()["ids"]) == 2
    r = api.call("POST", "/search", key, json={"query": MARKER})
    assert r.status_code == 200 and r.json()["results"] == [], r.text


@pytest.fixture
def plain(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    settings = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"])
        yield api, settings.data_dir


def test_purge_leaves_no_trace_in_a_plain_data_dir(plain: tuple[Api, Path]) -> None:
    api, data = plain
    alice = api.user("alice")
    latest = _workload(api, alice)
    before = _files(data)
    assert _holding(before, NEEDLES), "the marker should be on disk before the purge"
    _purge(api, alice, latest)
    after = _files(data)
    assert _holding(after, NEEDLES) == []
    r = api.call("GET", "/backup", api.admin_key)
    assert r.status_code == 200
    assert all(n not in r.content for n in NEEDLES), "a backup taken after the purge holds the marker"
    assert b"orchard ladder" in r.content  # the memory that was not purged is still there


def test_purge_leaves_no_trace_in_the_decrypted_pages_of_an_encrypted_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings.for_data_dir(data, bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                     encryption_mode="env", db_key=os.urandom(32).hex())  # fmt: skip
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"])
        key = api.engram.db.key
        alice = api.user("alice")
        latest = _workload(api, alice)
        db_files = [data / "engram.db", data / "engram.db-wal"]
        clear = {p: plaintext(p, key) for p in db_files if p.exists()}
        assert clear[data / "engram.db"][:2] == (PAGE).to_bytes(2, "big")  # header bytes 16-17: the page size
        assert _holding(clear, NEEDLES), "the decrypted pages should hold the marker before the purge"
        assert _holding(_files(data), NEEDLES) == []  # the files themselves are ciphertext
        _purge(api, alice, latest)
        files = _files(data)
        assert _holding(files, NEEDLES) == []
        clear = {p: plaintext(p, key) for p in db_files if p.exists()}
        assert b"orchard ladder" in b"".join(clear.values())
        assert _holding(clear, NEEDLES) == []
        r = api.call("GET", "/backup", api.admin_key, params={"keep": "true"})
        assert r.status_code == 200
        backups = [p for p in (data / "backups").glob("engram-*.db")]
        assert len(backups) == 1
        clear_backup = plaintext(backups[0], key)
        assert b"orchard ladder" in clear_backup
        assert all(n not in clear_backup for n in NEEDLES)


def test_purge_compacts_the_vector_out_of_lancedb(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                     use_lance_index=True, lance_threshold=20)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"])
        engram = engram_of(api)
        engram.embedder = HashEmbedder()
        alice = api.user("alice")
        for i in range(30):
            api.store(alice, f"Note {i} about garden{i} and piano{i % 7}")
        target = api.store(alice, f"I really love {MARKER} pancakes and violets")
        embed_all(engram)
        assert api.call("POST", "/search", alice, json={"query": "garden"}).status_code == 200
        assert engram.search.index.maintain()["promoted"] == 1
        vector = HashEmbedder().embed([f"I really love {MARKER} pancakes and violets"])[0].astype("<f4").tobytes()
        lance = settings.data_dir / "lance"
        assert _holding(_files(lance), [vector]), "the vector should be in the LanceDB files before the purge"
        r = api.call("POST", f"/memory/{target}/purge", alice)
        assert r.status_code == 200, r.text
        assert _holding(_files(lance), [vector]) == []
        hits = api.call("POST", "/search", alice, json={"query": "garden piano"}).json()["results"]
        assert hits and target not in [h["id"] for h in hits]
        assert np.isfinite(len(hits))
