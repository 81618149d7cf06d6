"""What the change feed costs a write: the same writes with the capture triggers on, then dropped.

.venv/bin/python bench/change_feed.py --memories 10000 --writes 2000

One user with N memories in a real SQLite file; one listener subscribed (it only counts). Measured from
the caller: single-row write transactions (a tag update: the typical route write; an insert), and one
bulk UPDATE of every row's ``pagerank`` (a graph refresh). Then the TEMP triggers are dropped from the
write connection and the same writes run again (nothing is captured or published).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from engram_core.storage.changes import ChangeSet, trigger_names
from engram_core.storage.database import Database


def _fill(db: Database, n: int) -> None:
    def tx(conn: Any) -> None:
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', '2024-01-01T00:00:00Z')")
        conn.executemany(
            "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (1, ?, '2024', '2024')",
            [(f"memory number {i} about topic {i % 97}",) for i in range(n)],
        )

    db.write(tx)


def _ms(samples: list[tuple[float, float]]) -> str:
    """Wall p50/p95 and the process CPU p50 (the write thread's work: the caller only waits)."""
    wall = sorted(s[0] for s in samples)
    p95 = wall[int(0.95 * (len(wall) - 1))]
    cpu = statistics.median(s[1] for s in samples)
    return f"wall p50 {statistics.median(wall) * 1000:.3f} / p95 {p95 * 1000:.3f} ms, cpu p50 {cpu * 1000:.3f} ms"


def _timed(db: Database, fn: Any) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    db.write(fn)
    return time.perf_counter() - t, time.process_time() - c


def _round(db: Database, n: int, writes: int, label: str) -> None:
    tag = "UPDATE memories SET tags = ? WHERE id = ?"
    small = [_timed(db, lambda c, i=i: c.execute(tag, (f'["t{i}"]', 1 + i * 7919 % n))) for i in range(writes)]
    insert = "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (1, ?, '2024', '2024')"
    inserts = [_timed(db, lambda c, i=i: c.execute(insert, (f"another memory {i}",))) for i in range(writes // 4)]
    bulk = [
        _timed(db, lambda c, rep=rep: c.execute("UPDATE memories SET pagerank = (id % 13) * 0.01 + ?", (rep + 1,)))
        for rep in range(5)
    ]
    print(f"{label}: tag update {_ms(small)}")
    print(f"{label}: insert {_ms(inserts)}")
    print(f"{label}: bulk pagerank of every row {_ms(bulk)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--memories", type=int, default=10_000)
    ap.add_argument("--writes", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "feed.db")
        published: list[int] = []

        def count(changes: ChangeSet) -> None:
            published.append(sum(len(c.ids) for c in changes))

        db.subscribe(count)
        try:
            _fill(db, args.memories)
            _round(db, args.memories, args.writes, "feed on ")
            rows = sum(published)
            for name in db.write(trigger_names):
                db.write_raw(f"DROP TRIGGER temp.{name}")
            published.clear()
            _round(db, args.memories, args.writes, "feed off")
            assert not published
            print(f"rows published with the feed on: {rows}")
        finally:
            db.close()


if __name__ == "__main__":
    main()
