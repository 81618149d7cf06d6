"""Pronoun resolution in decomposition: the one person a memory names replaces he/she/his/her; two
candidates, they/it, and pronouns before any name are left alone."""

from __future__ import annotations

from engram_core.intelligence.decompose import plan
from engram_core.intelligence.pronouns import people, resolve_pronouns


def test_she_resolves_to_the_one_person_named() -> None:
    text, used = resolve_pronouns("My sister Alice lives in Oslo. She moved to Berlin last year.")
    assert text == "My sister Alice lives in Oslo. Alice moved to Berlin last year." and used == {"Alice"}
    text, _ = resolve_pronouns("Alice lives in Oslo and she works at Acme.")
    assert text == "Alice lives in Oslo and Alice works at Acme."
    text, _ = resolve_pronouns("Tom has a new bike. His bike is red.")
    assert text == "Tom has a new bike. Tom's bike is red."
    text, _ = resolve_pronouns("I talked to Melanie yesterday. She adopted a puppy.")
    assert text == "I talked to Melanie yesterday. Melanie adopted a puppy."


def test_ambiguous_or_unnamed_pronouns_stay() -> None:
    for text in (
        "Alice met Bob in Paris. She moved to Berlin.",  # two people
        "She moved to Berlin. Alice told me.",  # no name before the pronoun
        "I moved to Berlin. She said hi.",  # nobody named
        "Alice and Tom have two kids. They live in Rome.",  # a group
        "Alice bought a car. It is red.",  # a thing
        "I live in Berlin. She likes it here.",  # a place is not a person
    ):
        assert resolve_pronouns(text) == (text, set()), text
    assert people("We moved to Berlin with Anna in March.") == ["Anna"]
    assert people("New York is big.") == []


def test_decomposed_fact_carries_the_name() -> None:
    facts = plan("My sister Alice moved to Berlin in 2020 with her partner. She works as a nurse at the hospital.", 10)
    assert facts == [
        "My sister Alice moved to Berlin in 2020 with her partner.",
        "Alice works as a nurse at the hospital.",
    ]
    turn = "Caroline: I talked to Melanie at the gym yesterday. She adopted a puppy last week from the shelter."
    assert plan(turn, 10)[1] == "Caroline: Melanie adopted a puppy last week from the shelter."
    # two candidates: the pronoun statement is not self-contained and stays in the memory only
    assert plan("Alice met Bob at the conference in Paris last year. She moved to Berlin in the spring.", 10) == []
