"""SimHash band lookup: the generated band columns agree with Python, and candidates cover every memory."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from engram_core.memories.dedup import bands, find_recent_duplicate, find_recent_duplicates
from engram_core.storage.database import Database


def _insert(conn: Any, fp: int) -> int:
    cur = conn.execute(
        "INSERT INTO memories (user_id, content, simhash, created_at, updated_at) VALUES (1, 'x', ?, 'a', 'a')", (fp,)
    )
    return int(cur.lastrowid)


def test_band_columns_match_python_for_signed_fingerprints(tmp_path: Path) -> None:
    db = Database(tmp_path / "d.db")
    rng = random.Random(3)
    fps = [rng.randint(-(2**63), 2**63 - 1) for _ in range(200)] + [-1, 0, 2**63 - 1, -(2**63)]
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'a')"))
    ids = db.write(lambda c: [_insert(c, fp) for fp in fps])
    rows = db.read(
        lambda c: {
            r[0]: list(r[1:])
            for r in c.execute("SELECT id, simhash_b0, simhash_b1, simhash_b2, simhash_b3 FROM memories")
        }
    )
    assert all(rows[i] == bands(fp) for i, fp in zip(ids, fps, strict=True))
    db.close()


def test_every_fingerprint_within_three_bits_is_found_among_many(tmp_path: Path) -> None:
    db = Database(tmp_path / "d.db")
    rng = random.Random(5)
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'a')"))
    first = rng.getrandbits(64) - 2**63
    target = db.write(lambda c: _insert(c, first))
    db.write(lambda c: [_insert(c, rng.getrandbits(64) - 2**63) for _ in range(5000)])  # far more than any window
    for _ in range(50):
        flipped = first
        for bit in rng.sample(range(64), 3):
            flipped ^= 1 << bit
        flipped = (flipped + 2**63) % 2**64 - 2**63  # back to signed 64-bit
        found = db.read(lambda c, fp=flipped: find_recent_duplicate(c, 1, fp, 3))
        assert found == (target, 3)
    four_bands = first ^ (1 | 1 << 16 | 1 << 32 | 1 << 48)  # distance 4, one bit in each band
    assert db.read(lambda c: find_recent_duplicate(c, 1, four_bands, 3)) is None
    db.close()


def _near(fp: int, rng: random.Random, bits: int) -> int:
    for bit in rng.sample(range(64), bits):
        fp ^= 1 << bit
    return (fp + 2**63) % 2**64 - 2**63


def test_a_batch_lookup_finds_what_one_lookup_each_finds(tmp_path: Path) -> None:
    db = Database(tmp_path / "d.db")
    rng = random.Random(7)
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'a')"))
    stored = [rng.getrandbits(64) - 2**63 for _ in range(300)]
    stored += [_near(stored[i], rng, rng.randint(0, 3)) for i in range(0, 300, 7)]  # near pairs: ties, nearest
    stored += [stored[5], stored[5]]  # exact copies: the newest wins
    db.write(lambda c: [_insert(c, fp) for fp in stored])
    hidden = db.write(lambda c: _insert(c, stored[9]))  # the newest copy, but consolidated: not a candidate
    db.write(lambda c: c.execute("UPDATE memories SET is_consolidated = 1 WHERE id = ?", (hidden,)))
    db.write(lambda c: _insert(c, rng.getrandbits(64) - 2**63) and None)
    queries = [_near(rng.choice(stored), rng, rng.randint(0, 5)) for _ in range(400)]
    queries += [rng.getrandbits(64) - 2**63 for _ in range(100)] + [stored[5], stored[9]]
    distances = [rng.choice([0, 1, 2, 3, 3, 3, -1, 5]) for _ in queries]

    def both(c: Any) -> tuple[list[Any], list[Any]]:
        one = [find_recent_duplicate(c, 1, fp, d) if d < 4 else None for fp, d in zip(queries, distances, strict=True)]
        return find_recent_duplicates(c, 1, queries, distances), one

    batch, one_each = db.read(both)
    assert batch == one_each
    assert sum(x is not None for x in batch) > 150 and any(x is not None and x[1] > 0 for x in batch)
    assert db.read(lambda c: find_recent_duplicates(c, 2, queries[:5], [3] * 5)) == [None] * 5  # another user's
    db.close()
