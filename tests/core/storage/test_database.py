from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from engram_core.storage.database import Database


def test_a_failing_write_rolls_back(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    try:

        def bad(conn: Any) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            raise ValueError("boom")

        with pytest.raises(ValueError, match="boom"):
            db.write(bad)
        assert db.read(lambda c: c.execute("SELECT count(*) FROM meta").fetchone()[0]) == 0
    finally:
        db.close()


def test_concurrent_writes_are_serialised_and_all_land(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    try:

        def add(i: int) -> None:
            def tx(conn: Any) -> None:
                n = conn.execute("SELECT count(*) FROM meta").fetchone()[0]
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{i}", str(n)))

            db.write(tx)

        threads = [threading.Thread(target=add, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        values = db.read(lambda c: sorted(int(r[0]) for r in c.execute("SELECT value FROM meta")))
        # Each write saw every earlier one: counts 0..39 each exactly once.
        assert values == list(range(40))
    finally:
        db.close()


def test_read_connections_cannot_write(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    try:
        with pytest.raises(Exception, match="readonly"):
            db.read(lambda c: c.execute("INSERT INTO meta (key, value) VALUES ('a', '1')"))
    finally:
        db.close()


def test_wal_and_foreign_keys_are_on(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    try:
        assert db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert db.write(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0]) == 1
    finally:
        db.close()
