"""FTS-only baselines on the LoCoMo dev split, using only ``fts_query`` and an in-memory FTS5 table.

Each conversation's turns go into one FTS5 table (``tokenize='porter unicode61'``), one row per turn;
every question is searched with ``bm25`` ranking, top 20 kept, and scored with recall@1/5/10/20, hit@10
and NDCG@10, per LoCoMo category and overall. Variants:

* ``all-words``: every question word OR-ed (stop-words kept): the README's reference method.
* ``sanitised``: :func:`build_match` defaults (stop-words removed).
* ``sanitised+prefix``: as above with a prefix query on the last word.

Run: ``PYTHONPATH=. python bench/locomo_baselines.py [path/to/locomo-dev.json]``
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Callable

from bench.locomo_data import CATEGORIES, DEFAULT_PATH, Locomo, load_locomo
from bench.metrics import hit_at_k, ndcg_at_k, recall_at_k
from engram_core.model.fts import build_match

TOP_K = 20
METRICS: dict[str, Callable[[list[str], set[str]], float]] = {
    "R@1": lambda r, e: recall_at_k(r, e, 1),
    "R@5": lambda r, e: recall_at_k(r, e, 5),
    "R@10": lambda r, e: recall_at_k(r, e, 10),
    "R@20": lambda r, e: recall_at_k(r, e, 20),
    "hit@10": lambda r, e: hit_at_k(r, e, 10),
    "NDCG@10": lambda r, e: ndcg_at_k(r, e, 10),
}
VARIANTS: dict[str, Callable[[str], str | None]] = {
    "all-words": lambda q: build_match(q, drop_stop_words=False),
    "sanitised": build_match,
    "sanitised+prefix": lambda q: build_match(q, prefix_last=True),
}


def _index(data: Locomo) -> dict[str, sqlite3.Connection]:
    tables = {}
    for sid, turns in data.turns.items():
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE VIRTUAL TABLE turns USING fts5(key UNINDEXED, content, tokenize='porter unicode61')")
        conn.executemany("INSERT INTO turns(key, content) VALUES (?, ?)", [(t.key, t.text) for t in turns])
        tables[sid] = conn
    return tables


def evaluate(data: Locomo, make_query: Callable[[str], str | None]) -> dict[str, dict[str, float]]:
    """Mean of every metric per category name and ``overall``."""
    tables = _index(data)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for q in data.questions:
        expr = make_query(q.question)
        ranked: list[str] = []
        if expr is not None:
            rows = (
                tables[q.sample_id]
                .execute("SELECT key FROM turns WHERE turns MATCH ? ORDER BY bm25(turns) LIMIT ?", (expr, TOP_K))
                .fetchall()
            )
            ranked = [r[0] for r in rows]
        for group in (CATEGORIES[q.category], "overall"):
            counts[group] += 1
            for name, fn in METRICS.items():
                sums[group][name] += fn(ranked, q.evidence_keys)
    for conn in tables.values():
        conn.close()
    return {g: {m: sums[g][m] / counts[g] for m in METRICS} | {"n": counts[g]} for g in sums}


def _table(results: dict[str, dict[str, float]]) -> str:
    groups = [*CATEGORIES.values(), "overall"]
    head = "| group | n | " + " | ".join(METRICS) + " |"
    rule = "|---" * (len(METRICS) + 2) + "|"
    rows = [
        f"| {g} | {int(results[g]['n'])} | " + " | ".join(f"{results[g][m]:.3f}" for m in METRICS) + " |"
        for g in groups
        if g in results
    ]
    return "\n".join([head, rule, *rows])


def main(argv: list[str]) -> None:
    data = load_locomo(argv[1] if len(argv) > 1 else DEFAULT_PATH)
    print(
        f"LoCoMo dev: {len(data.questions)} questions, "
        f"{sum(len(t) for t in data.turns.values())} turns, evidence repairs {dict(data.repairs)}\n"
    )
    for name, make_query in VARIANTS.items():
        started = time.perf_counter()
        results = evaluate(data, make_query)
        print(f"### {name} ({time.perf_counter() - started:.2f} s)\n")
        print(_table(results) + "\n")


if __name__ == "__main__":
    main(sys.argv)
