"""The pure rules of the intelligence layer: statements, facts, contradictions, affect."""

from __future__ import annotations

from datetime import UTC, datetime

from engram_core.intelligence.affect import score
from engram_core.intelligence.contradictions import classify, text_conflict
from engram_core.intelligence.decompose import plan
from engram_core.intelligence.facts import extract, same_object
from engram_core.intelligence.statements import statements

NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)


def test_statements_drop_filler_questions_and_meta_and_split_clauses() -> None:
    text = "Hey Mel! Let me tell you something. I live in Paris and work at Google. How are you? Thanks!"
    assert statements(text) == ["I live in Paris.", "I work at Google."]
    assert statements("I like apples and oranges.") == ["I like apples and oranges."]  # not two clauses
    assert statements("My sister lives in Rome, but my brother lives in Oslo.") == [
        "My sister lives in Rome.",
        "My brother lives in Oslo.",
    ]
    assert statements("It was so much fun. They loved it.") == []  # not self-contained
    assert len(statements(". ".join(f"Fact number {i} is about topic {i}" for i in range(30)))) == 10


def test_plan_decomposes_only_several_durable_statements() -> None:
    two = "I play chess at the club on Sundays. My brother repairs old valve radios in his garage."
    assert plan(two, 10) == [
        "I play chess at the club on Sundays.",
        "My brother repairs old valve radios in his garage.",
    ]
    assert plan("I play chess on Sundays. My brother repairs radios.", 10) == []  # short: kept whole
    assert plan("Hi! I live in a small flat near the harbour, close to the old fish market. Thanks!", 10) == []
    assert plan("I play chess at the club on Sundays. I play chess at the club on Sundays, really!", 10) == []
    chat = "Mel: You're so kind! That's awesome. I ran a charity race last Saturday. My kids cheered the whole way."
    assert plan(chat, 10) == ["Mel: I ran a charity race last Saturday.", "Mel: My kids cheered the whole way."]
    assert plan(two, 0) == []


def test_facts_with_dates_negation_and_subjects() -> None:
    (t,) = extract("I moved to Berlin in March.", NOW)
    assert (t.subject, t.predicate, t.object, t.polarity, t.valid_at[:10]) == ("user", "lives_in", "Berlin", 1,
                                                                                "2024-03-01")  # fmt: skip
    (t,) = extract("In October I started a new job at Globex.", NOW)
    assert (t.predicate, t.object, t.valid_at[:10], t.change) == ("works_at", "Globex", "2023-10-01", True)
    (t,) = extract("I don't live in Paris anymore.", NOW)
    assert (t.predicate, t.object, t.polarity) == ("lives_in", "Paris", -1)
    (t,) = extract("Caroline's favorite book is Dune.", NOW)
    assert (t.subject, t.predicate, t.object) == ("caroline", "favourite_book", "Dune")
    (t,) = extract("I have two kids.", NOW)
    assert (t.predicate, t.object) == ("has_kids", "2")
    assert extract("I want to move to Berlin.", NOW) == []
    assert extract("She lives in Rome.", NOW) == []  # unresolved pronoun
    assert extract("Where do you live?", NOW) == []
    assert same_object("Berlin", "Berlin, Germany") and not same_object("Berlin", "Bern")


def test_contradiction_rules() -> None:
    older, newer = NOW, datetime(2024, 7, 1, tzinfo=UTC)
    v = classify("I moved to Lyon.", "I live in Paris.", newer, older)
    assert v is not None and (v.kind, v.supersedes) == ("update", True)
    v = classify("I live in London.", "I live in Paris.", newer, older)
    assert v is not None and v.kind == "conflict"
    assert classify("I like tea.", "I like coffee.", newer, older) is None  # many-valued
    assert classify("My sister lives in Rome.", "I live in Paris.", newer, older) is None  # other subject
    v = text_conflict("The office is closed on Saturdays.", "The office is open on Saturdays.")
    assert v is not None and v.kind == "antonym"
    assert text_conflict("We visited Rome in 2021.", "We visited Rome in 2019.") is None  # years are events
    assert text_conflict("I ran 10 km today.", "I ran 5 km today.") is None  # not a state
    v = text_conflict("The limit is 500 requests.", "The limit is 100 requests.")
    assert v is not None and v.kind == "number"


def test_affect_lexicon() -> None:
    assert score("I am so happy and excited!").valence > 0.6
    assert score("I am not happy").valence < 0
    assert score("Furious about the outage").arousal > score("calm and relaxed evening").arousal
    neutral = score("The invoice number is 42")
    assert (neutral.valence, neutral.words) == (0.0, 0)


def test_a_chat_speaker_is_the_first_person() -> None:
    (t,) = extract("I moved to Boston last year.", NOW, speaker="Melanie")
    assert (t.subject, t.predicate, t.object) == ("melanie", "lives_in", "Boston")
