"""The FTS5 query sanitiser: every input becomes a MATCH expression SQLite accepts, or None."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.model.fts import MAX_TERMS, build_match, query_terms

DOCS = [
    "Caroline went to the LGBTQ support group yesterday",
    "Melanie painted a sunrise over the lake",
    'content: NEAR(and or not) * ^ quotes " everywhere',
    "Tokyo 東京 café naïve Ünïcödé",
    "running runners ran",
]


@pytest.fixture(scope="module")
def fts() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE docs USING fts5(content, tokenize='porter unicode61')")
    conn.executemany("INSERT INTO docs(content) VALUES (?)", [(d,) for d in DOCS])
    yield conn
    conn.close()


def _search(conn: sqlite3.Connection, text: str, **kw: object) -> list[int]:
    expr = build_match(text, **kw)  # type: ignore[arg-type]
    if expr is None:
        return []
    rows = conn.execute("SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs)", (expr,)).fetchall()
    return [r[0] for r in rows]


ADVERSARIAL = [
    '"unbalanced quote',
    'a "quoted phrase" b',
    "NEAR(caroline melanie, 3)",
    "caroline NEAR melanie",
    "sun*",
    "*",
    "^caroline",
    "content:caroline",
    "docs:caroline OR content:melanie",
    "{content}: caroline",
    "caroline AND melanie",
    "caroline OR",
    "NOT caroline",
    "AND OR NOT",
    "(((caroline",
    "caroline))) )",
    "-caroline +melanie",
    "!" * 10_000,
    "\x00\x00caroline\x00",
    "\x00",
    "",
    "   \t\n  ",
    "東京 café",
    "naïve Ünïcödé",
    "🙂🙂🙂 emoji 🙂",
    "Ｆｕｌｌｗｉｄｔｈ",
    "x" * 5000,
    "' OR 1=1; DROP TABLE docs; --",
    "rank:1 bm25(docs)",
    "under_score snake_case",
    "١٢٣ arabic digits",
    "a" * 3 + "\u0301" * 50,
    " ".join(f"w{i}" for i in range(500)),
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_adversarial_inputs_never_break_match(fts: sqlite3.Connection, text: str) -> None:
    _search(fts, text)
    _search(fts, text, prefix_last=True)
    _search(fts, text, drop_stop_words=False)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_is_safe(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE docs USING fts5(content, tokenize='porter unicode61')")
        conn.execute("INSERT INTO docs(content) VALUES ('hello world')")
        for kw in ({}, {"prefix_last": True}):
            expr = build_match(text, **kw)  # type: ignore[arg-type]
            if expr is not None:
                conn.execute("SELECT rowid FROM docs WHERE docs MATCH ?", (expr,)).fetchall()
    finally:
        conn.close()


def test_words_are_quoted_and_or_ed() -> None:
    assert build_match("When did Caroline go to the support group?") == ('"caroline" OR "go" OR "support" OR "group"')


def test_user_operators_are_plain_words(fts: sqlite3.Connection) -> None:
    expr = build_match("caroline NOT melanie")
    assert expr == '"caroline" OR "melanie"'  # "not" is a stop-word; never an operator
    assert set(_search(fts, "caroline NOT melanie")) == {1, 2}
    assert build_match("NEAR content") == '"near" OR "content"'


def test_stop_words_kept_when_all_are_stop_words() -> None:
    assert build_match("who are you") == '"who" OR "are" OR "you"'


def test_nothing_searchable_is_none() -> None:
    for text in ["", "   ", "!!! ??? ...", "\x00", '"" ** ^^ ()']:
        assert build_match(text) is None


def test_dedup_case_insensitive_and_order_kept() -> None:
    assert query_terms("Tokyo tokyo TOKYO Kyoto") == ["tokyo", "kyoto"]


def test_term_cap() -> None:
    terms = query_terms(" ".join(f"word{i}" for i in range(200)))
    assert len(terms) == MAX_TERMS
    assert terms[0] == "word0"
    assert query_terms("alpha beta gamma", max_terms=2) == ["alpha", "beta"]


def test_prefix_last_only(fts: sqlite3.Connection) -> None:
    assert build_match("melanie sun", prefix_last=True) == '"melanie" OR "sun"*'
    assert 2 in _search(fts, "sunr", prefix_last=True)
    assert _search(fts, "sunr") == []


def test_unicode_words_match(fts: sqlite3.Connection) -> None:
    assert _search(fts, "東京") == [4]
    assert _search(fts, "cafe") == [4]  # unicode61 removes diacritics on both sides


def test_porter_stemming_applies_inside_quotes(fts: sqlite3.Connection) -> None:
    assert _search(fts, "runs") == [5]
