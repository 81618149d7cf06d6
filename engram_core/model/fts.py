"""Turn arbitrary user text into a safe SQLite FTS5 ``MATCH`` expression.

User text never reaches ``MATCH`` as syntax. The text is split into words (runs of Unicode letters and
digits; everything else, including quotes, ``*``, ``^``, ``:``, parentheses, NUL bytes and other
punctuation, is a separator), each word is emitted as a double-quoted FTS5 string, and the strings are
joined with ``OR``. Because every term is a quoted string, the FTS5 keywords ``AND``/``OR``/``NOT``/``NEAR``
and column filters such as ``content:`` typed by a user are ordinary words to FTS5. BM25 then ranks
documents by how many (and how rare) query words they contain.

Stop-words (a small English list, mostly function words and question words) are removed because under
``OR`` they match nearly every document and dilute BM25; when *every* word is a stop-word they are all
kept, so a query such as "who are you" still searches. Terms are deduplicated case-insensitively and capped
at :data:`MAX_TERMS`.

Prefix matching (``"term"*`` on the last word) is available for type-ahead callers via
``prefix_last=True`` but is off by default: on the LoCoMo dev split it did not improve recall (see
``BENCHMARKS.md``) and with the porter tokenizer a prefix on a whole word mostly re-matches
what the stemmer already matches.
"""

from __future__ import annotations

import re

__all__ = ["MAX_TERMS", "STOP_WORDS", "build_match", "match_terms", "query_terms"]

MAX_TERMS = 64
"""Most terms put into one MATCH expression (longer queries keep their first distinct words)."""


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MAX_TERM_CHARS = 64
"""Longer 'words' (hashes, base64 noise) are cut: they cannot match anything useful anyway."""

# Letters and digits of any script; the underscore is a separator, as for FTS5's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+")

STOP_WORDS: frozenset[str] = _word_set(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t d ll m re ve don didn doesn isn wasn weren aren won wouldn shouldn
    couldn also ever
    """
)
"""Small English stop-word list: function words, auxiliaries and question words."""


def query_terms(text: str, *, drop_stop_words: bool = True, max_terms: int = MAX_TERMS) -> list[str]:
    """The distinct searchable words of ``text``, lower-cased, in order of first appearance.

    Args:
        text: Any user text (may contain FTS5 syntax, punctuation, NUL bytes, any script).
        drop_stop_words: Remove :data:`STOP_WORDS`, unless that would leave nothing.
        max_terms: Keep at most this many terms.

    Returns:
        Words made only of Unicode letters and digits; empty when ``text`` has none.
    """
    seen: set[str] = set()
    words: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group().casefold()[:_MAX_TERM_CHARS]
        if word not in seen:
            seen.add(word)
            words.append(word)
    if drop_stop_words:
        content = [w for w in words if w not in STOP_WORDS]
        if content:
            words = content
    return words[: max(0, max_terms)]


def _quote(term: str) -> str:
    # Terms hold only letters and digits, so there is never an embedded quote; doubling it anyway keeps
    # the function safe should the word pattern ever widen.
    return '"' + term.replace('"', '""') + '"'


def build_match(
    text: str,
    *,
    drop_stop_words: bool = True,
    max_terms: int = MAX_TERMS,
    prefix_last: bool = False,
) -> str | None:
    """A safe FTS5 MATCH expression for ``text``: its words as quoted strings joined with ``OR``.

    Args:
        text: Any user text.
        drop_stop_words: Remove stop-words (kept when every word is one).
        max_terms: Cap on the number of terms.
        prefix_last: Make the last term a prefix query (``"term"*``), for type-ahead search.

    Returns:
        For example ``'"caroline" OR "support" OR "group"'``, or ``None`` when nothing searchable remains
        (the caller should then skip the FTS channel instead of running ``MATCH``).
    """
    return match_terms(query_terms(text, drop_stop_words=drop_stop_words, max_terms=max_terms), prefix_last=prefix_last)


def match_terms(terms: list[str], *, prefix_last: bool = False) -> str | None:
    """The MATCH expression of terms from :func:`query_terms`; None when there are none."""
    if not terms:
        return None
    parts = [_quote(t) for t in terms]
    if prefix_last:
        parts[-1] += "*"
    return " OR ".join(parts)
