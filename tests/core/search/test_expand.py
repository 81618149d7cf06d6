"""Query expansion words from the best first-round hits (pure function)."""

from __future__ import annotations

from engram_core.search.expand import expansion_terms, rank_among

HITS = [
    "Tim: J.K. Rowling is such an inspiring writer. Her books are so captivating.",
    "Tim: Books, movies and real-life experiences all fire up my creativity, reading fantasy most of all.",
    "Tim: Never been on a sports team. I'm more into reading and fantasy novels.",
]


def test_words_shared_by_several_hits_and_not_asked() -> None:
    assert expansion_terms("What books has Tim read?", HITS) == ["reading", "fantasy"]


def test_most_shared_first_then_longer() -> None:
    hits = ["alpha bravo charlie", "alpha bravo delta", "alpha charlie"]
    assert expansion_terms("x", hits) == ["alpha", "charlie", "bravo"]  # 3 hits, then 2 (longer first)
    assert expansion_terms("x", hits, terms=2) == ["alpha", "charlie"]
    assert expansion_terms("x", hits, shared=3) == ["alpha"]


def test_nothing_to_add() -> None:
    assert expansion_terms("fantasy reading", HITS[1:]) == []  # both shared words are asked already
    assert expansion_terms("anything", HITS[:1]) == []  # one hit shares nothing with itself
    assert expansion_terms("anything", []) == []
    assert expansion_terms("q", ["the and what 2023 2023", "the and what 2023"]) == []  # no content words


def test_rank_among_scores_the_given_texts_by_their_rarer_words() -> None:
    texts = {1: "Tim: fantasy books", 2: "Cooking books", 3: "Nothing here", 4: "Tim reads fantasy novels"}
    ranked = rank_among(texts, ["books", "tim", "fantasy"], 10)
    assert [i for i, _ in ranked] == [1, 4, 2]  # 3 holds none of the words
    assert ranked[1][1] == 2 * ranked[2][1]  # each word is in 2 of the 4 texts: two words, twice the score
    assert [i for i, _ in rank_among(texts, ["novel"], 10)] == [4]  # "novels" by the stem rule
    assert rank_among(texts, ["books"], 1) == [(1, ranked[2][1])]  # ties: the lower id
    assert rank_among({}, ["books"], 5) == [] and rank_among(texts, [], 5) == []
