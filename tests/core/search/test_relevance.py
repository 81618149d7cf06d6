"""The absolute relevance behind ``score`` and ``abstained`` (pure functions)."""

from __future__ import annotations

from engram_core.search.relevance import memory_relevance, query_words, term_coverage


def test_query_words_drop_question_and_function_words() -> None:
    assert query_words("What did Caroline's friend say about the painting?") == ["caroline", "friend", "painting"]
    assert query_words("When is it?") == []


def test_term_coverage_matches_stems() -> None:
    words = query_words("Which paintings did Mel finish?")
    assert term_coverage(words, "Mel: I finished two paintings last week") == 1.0
    assert term_coverage(words, "Mel: I went running") == 1 / 3
    assert term_coverage([], "anything") == 0.0


def test_memory_relevance_is_the_stronger_evidence_clamped() -> None:
    assert memory_relevance(0.1, 0.0) == 0.0
    assert abs(memory_relevance(0.4, 0.0) - 0.5) < 1e-9
    assert memory_relevance(0.9, 0.0) == 1.0
    assert memory_relevance(None, 0.75) == 0.75
    assert memory_relevance(0.3, 0.75) == 0.75
