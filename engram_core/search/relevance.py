"""An absolute relevance for a search: does anything in the results actually answer the query?

Fused scores are relative (rank-based RRF, min-max normalised channel scores), so the best result of a
nonsense query looks as good as the best result of a real one. Two pieces of evidence are absolute:

* the **cosine** of query and memory embeddings (MiniLM scale: unrelated texts sit below
  :data:`COSINE_NONE`, close paraphrases above :data:`COSINE_FULL`), mapped linearly to [0, 1];
* the **term coverage**: the share of the query's content words (not question or function words) whose
  stem (first :data:`STEM` letters) occurs in the memory.

A memory's relevance is the larger of the two; the query's is the best relevance among the top
:data:`TOP` results. ``score`` in a search result is the fused score relative to an ideal one (as
before) times the query's relevance, so a nonsense query gets scores near 0 and ``abstained`` (the top
score below :data:`ABSTAIN_BELOW`), while the order of results is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .rescore import COMMON_WORDS

__all__ = ["ABSTAIN_BELOW", "COSINE_FULL", "COSINE_NONE", "memory_relevance", "query_words", "term_coverage"]

COSINE_NONE = 0.2
COSINE_FULL = 0.6
STEM = 5
TOP = 5
ABSTAIN_BELOW = 0.25
"""``abstained`` is true when the top score is below this (results are still returned)."""

_WORD = re.compile(r"[a-z0-9]+")
_EXTRA_WORDS = "tell told say said go went get got make made thing things some any one much many"
_EXTRA = frozenset(_EXTRA_WORDS.split(" "))


def query_words(query: str) -> list[str]:
    """The query's content words (lower case, 3+ letters, not question/function words), each once."""
    out: list[str] = []
    for word in _WORD.findall(query.lower().replace("'s ", " ")):
        if len(word) >= 3 and word not in COMMON_WORDS and word not in _EXTRA and word not in out:
            out.append(word)
    return out


def term_coverage(words: Sequence[str], content: str) -> float:
    """The share of ``words`` whose first :data:`STEM` letters start a word of ``content`` (0 without)."""
    if not words:
        return 0.0
    stems = {w[:STEM] for w in _WORD.findall(content.lower())}
    return sum(1 for w in words if w[:STEM] in stems) / len(words)


def memory_relevance(cosine: float | None, coverage: float) -> float:
    """``max(cosine mapped to [0, 1], coverage)``; a missing cosine counts as none."""
    cos = 0.0 if cosine is None else (cosine - COSINE_NONE) / (COSINE_FULL - COSINE_NONE)
    return max(0.0, min(1.0, max(cos, coverage)))
