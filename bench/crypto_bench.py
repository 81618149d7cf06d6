"""Encryption-at-rest costs: Argon2id unlock time and SQLCipher overhead vs plain SQLite.

    PYTHONPATH=. python bench/crypto_bench.py [--rounds 3] [--inserts 2000] [--queries 200]

Prints (1) the YubiKey-mode unlock derivation with the production Argon2id parameters (64 MiB, 3 passes,
1 lane; the HMAC step by a SoftwareResponder), median of 5; (2) for a plain and an encrypted database in
the same run, alternating, the time of N inserts (one transaction each, as the write thread does them,
WAL + synchronous=NORMAL, into a table and its FTS5 index) and of M FTS5 queries (MATCH + bm25 rank,
LIMIT 10); medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engram_core.crypto.keys import ARGON2_DEFAULT, SoftwareResponder, yubikey_key  # noqa: E402
from engram_core.storage.connection import connect  # noqa: E402

_VOCABULARY = (
    "memory agent project deploy server python database schema migration vector search graph user key "
    "token budget context decision meeting bug fix release review test cache index query latency model "
    "embedding rerank cluster link entity episode session note preference error config backup"
)
WORDS = _VOCABULARY.split()


def _sqlcipher_version() -> str:
    import sqlcipher3

    conn = sqlcipher3.connect(":memory:")
    cipher = conn.execute("PRAGMA cipher_version").fetchone()[0]
    conn.close()
    return f"{sqlcipher3.sqlite_version} (SQLCipher {cipher})"


def unlock_times(n: int = 5) -> list[float]:
    responder = SoftwareResponder(os.urandom(20))
    times = []
    for _ in range(n):
        challenge = os.urandom(32)
        start = time.perf_counter()
        yubikey_key(challenge, responder, ARGON2_DEFAULT)
        times.append(time.perf_counter() - start)
    return times


def _open(db: Path, variant: str, key: bytes | None) -> Any:
    """``plain`` and ``encrypted`` go through Engram's connect(); ``plain-sqlcipher3`` opens a plain file
    with the sqlcipher3 module (its bundled, newer SQLite) and the same pragmas, to separate the cipher's
    cost from the SQLite version difference."""
    if variant != "plain-sqlcipher3":
        return connect(db, key=key)
    import sqlcipher3

    conn = sqlcipher3.connect(str(db), isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def workload(
    db: Path, variant: str, key: bytes | None, inserts: int, queries: int, seed: int
) -> tuple[float, float, float]:
    rng = random.Random(seed)
    conn: Any = _open(db, variant, key)
    conn.execute("CREATE TABLE memories (id INTEGER PRIMARY KEY, content TEXT NOT NULL, created_at TEXT)")
    conn.execute("CREATE VIRTUAL TABLE memories_fts USING fts5(content, content='memories', content_rowid='id')")
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))) for _ in range(inserts)]
    start = time.perf_counter()
    for i, text in enumerate(texts, 1):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO memories (id, content, created_at) VALUES (?, ?, datetime('now'))", (i, text))
        conn.execute("INSERT INTO memories_fts (rowid, content) VALUES (?, ?)", (i, text))
        conn.execute("COMMIT")
    t_insert = time.perf_counter() - start
    terms = [" ".join(rng.sample(WORDS, rng.randint(1, 2))) for _ in range(queries)]
    sql = (
        "SELECT m.id, m.content FROM memories_fts f JOIN memories m ON m.id = f.rowid "
        "WHERE memories_fts MATCH ? ORDER BY rank LIMIT 10"
    )
    start = time.perf_counter()
    for q in terms:
        conn.execute(sql, (q,)).fetchall()
    t_query = time.perf_counter() - start
    conn.close()
    # the same queries with a 50-page cache: most page reads go to the file (and through the cipher)
    conn = _open(db, variant, key)
    conn.execute("PRAGMA cache_size = 50")
    start = time.perf_counter()
    for q in terms:
        conn.execute(sql, (q,)).fetchall()
    t_cold = time.perf_counter() - start
    conn.close()
    return t_insert, t_query, t_cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--inserts", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cores={os.cpu_count()} "
        f"python {platform.python_version()} {platform.system()} {platform.release()}"
    )
    print(f"engines: stdlib sqlite {sqlite3.sqlite_version}; sqlcipher3 sqlite {_sqlcipher_version()}")
    u = unlock_times()
    print(
        f"argon2id unlock (64 MiB, t=3, p=1), 5 runs: median {statistics.median(u) * 1000:.0f} ms "
        f"(min {min(u) * 1000:.0f}, max {max(u) * 1000:.0f})"
    )

    variants = ("plain", "plain-sqlcipher3", "encrypted")
    results: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name in variants if r % 2 == 0 else variants[::-1]:
                db = Path(tmp) / f"{name}-{r}.db"
                key = os.urandom(32) if name == "encrypted" else None
                results[name].append(workload(db, name, key, args.inserts, args.queries, seed=r))
    med = {n: [statistics.median(x[i] for x in v) for i in range(3)] for n, v in results.items()}
    for name, (ti, tq, tc) in med.items():
        print(
            f"{name:16s} {args.inserts} inserts: {ti * 1000:6.0f} ms "
            f"({ti / args.inserts * 1e6:4.0f} us each) | "
            f"{args.queries} FTS queries: {tq * 1000:5.0f} ms warm ({tq / args.queries * 1e6:5.0f} us each), "
            f"{tc * 1000:5.0f} ms with a 50-page cache"
        )
    (ei, eq, ec) = med["encrypted"]
    for base in ("plain", "plain-sqlcipher3"):
        pi, pq, pc = med[base]
        print(
            f"encrypted / {base}: inserts x{ei / pi:.2f}, FTS warm x{eq / pq:.2f}, "
            f"FTS small cache x{ec / pc:.2f}  [median of {args.rounds} rounds]"
        )


if __name__ == "__main__":
    main()
