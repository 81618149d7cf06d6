"""Query expansion from the best first-round hits: the words they share, added to the query.

A question whose answer is spread over several memories ("What books has Tim read?") matches one or two
of them by its own words; the others name the same thing differently ("fantasy novels", "that series").
The best hits of a first fusion of the channels say what the question is about in the corpus's own words.
A word that at least :data:`MIN_SHARED` of the top :data:`SEEDS` hits hold (a content word of four or more
letters the query does not already hold) is such a word; the :data:`TERMS` most shared ones, with the
query's own words, rank memories (BM25-like) as the ``expand`` channel, fused at ``Tuning.expand`` x the keyword
channel's weight (rank only, like the graph channel). The score weighs each word by its rarity, so a
word most memories hold (a greeting, a filler) adds little.

By default (``Tuning.expand_pool``) the expansion ranks only the candidates the other channels found
(:func:`rank_among`: a BM25-like score over the candidates' own text, read by id), so its cost does not
grow with the corpus. As a second BM25 query over the whole corpus (``expand_pool=False``) it did no better
on LoCoMo held out (R@10 0.767 against 0.774, with the speaker boost) and, its added words being common
ones, cost +70 ms p50 at 100k memories. Nothing here knows any corpus's names or
wording; see BENCHMARKS.md (issue 11, round 4).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from ..model.fts import query_terms
from .relevance import STEM
from .rescore import COMMON_WORDS

__all__ = ["MIN_SHARED", "SEEDS", "TERMS", "expansion_terms", "rank_among"]

SEEDS = 5
"""How many of the first fusion's best hits are read for expansion words."""
MIN_SHARED = 2
"""In how many of those hits a word must occur to be added."""
TERMS = 10
"""Most words added to the query."""
_MIN_LEN = 4
_WORDS = re.compile(r"[a-z0-9]+")


def expansion_terms(query: str, contents: Sequence[str], terms: int = TERMS, shared: int = MIN_SHARED) -> list[str]:
    """Words (lower case) that at least ``shared`` of ``contents`` hold and ``query`` does not, most shared first.

    Ties go to the longer word, then to the one met first. Only content words of 4+ letters count (no
    stop words, question or function words, numbers).
    """
    asked = set(query_terms(query, drop_stop_words=False))
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for text in contents:
        for word in dict.fromkeys(query_terms(text)):
            if len(word) < _MIN_LEN or word.isdigit() or word in asked or word in COMMON_WORDS:
                continue
            counts[word] += 1
            first.setdefault(word, len(first))
    ranked = sorted((w for w, n in counts.items() if n >= shared), key=lambda w: (-counts[w], -len(w), first[w]))
    return ranked[: max(0, terms)]


def rank_among(texts: Mapping[int, str], words: Sequence[str], limit: int) -> list[tuple[int, float]]:
    """``(id, score)`` best first among ``texts`` (id -> content) that hold any of ``words``.

    A BM25-like score computed over ``texts`` alone (no index, no corpus statistics): each word counts
    ``idf = ln(1 + (N - n + 0.5) / (n + 0.5))`` over the ``N`` texts, ``n`` of which hold it, once per text
    that holds it; a word is held when a word of the text starts with its first :data:`STEM` letters (the
    stem rule of :mod:`.relevance`). Ties go to the lower id.
    """
    if not texts or not words or limit <= 0:
        return []
    stems = [w[:STEM] for w in dict.fromkeys(w.lower() for w in words)]
    held = {i: {w[:STEM] for w in _WORDS.findall(t.lower())} for i, t in texts.items()}
    n = len(held)
    df = {s: sum(1 for h in held.values() if s in h) for s in stems}
    idf = {s: math.log(1 + (n - df[s] + 0.5) / (df[s] + 0.5)) for s in stems if df[s]}
    scored = [(i, sum(v for s, v in idf.items() if s in h)) for i, h in held.items()]
    ranked = sorted(((i, sc) for i, sc in scored if sc > 0), key=lambda p: (-p[1], p[0]))
    return ranked[:limit]
