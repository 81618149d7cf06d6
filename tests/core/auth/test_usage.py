from __future__ import annotations

from pathlib import Path

from engram_core.auth.context import AuthContext
from engram_core.auth.keys import create_key
from engram_core.auth.usage import KeyUsage
from engram_core.storage.database import Database


def test_throttle_map_stays_bounded_and_a_closed_database_is_not_an_error(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'x')"))
    key_id = db.write(lambda c: create_key(c, 1, ["read"], auth=AuthContext.local()))["id"]
    clock = [0.0]
    usage = KeyUsage(db, clock=lambda: clock[0], max_keys=3)
    for k in range(3):
        assert usage.touch(1, 100 + k) is not None  # unknown ids: the UPDATE matches nothing
    clock[0] = 61.0
    fut = usage.touch(1, key_id)
    assert fut is not None and fut.result() is None
    assert list(usage._written) == [key_id]  # past max_keys: entries whose interval passed are dropped
    clock[0] = 120.0
    assert usage.touch(1, key_id) is None  # 59 s later: throttled
    stamp = db.read(lambda c: c.execute("SELECT last_used_at FROM api_keys WHERE id = ?", (key_id,)).fetchone()[0])
    assert stamp is not None
    db.close()
    clock[0] = 200.0
    assert usage.touch(1, key_id) is None  # logged, not raised
