from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engram_core.crypto.keys import generate_keyfile
from engram_core.storage.connection import connect
from tests.core.crypto.cryptohelp import populate


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("ENGRAM_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def plain_db(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "engram.db"
    db.parent.mkdir()
    conn = connect(db)
    populate(conn)
    conn.close()
    return db


@pytest.fixture
def keyfile(tmp_path: Path) -> Path:
    return generate_keyfile(tmp_path / "keys" / "dbkey")
