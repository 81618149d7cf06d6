"""Personality signals: extraction, negation-aware valence, matching, profile synthesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.personality.signals import (
    SIGNAL_TYPES,
    Signal,
    extract_signals,
    match_signals,
    rank_memories,
    synthesize_profile,
)


def one(text: str) -> Signal:
    found = extract_signals(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "stype", "subject"),
    [
        ("I love hiking in the mountains!", "preference", "hiking in the mountains"),
        ("The user prefers dark mode", "preference", "dark mode"),
        ("I'm a big fan of jazz", "preference", "jazz"),
        ("My favorite food is ramen", "preference", "food is ramen"),
        ("I value honesty above all.", "value", "honesty above all"),
        ("I believe in open source", "value", "open source"),
        ("Honesty is really important to me", "value", "Honesty"),
        ("I'd like to learn Rust.", "motivation", "learn Rust"),
        ("My goal is to run a marathon.", "motivation", "to run a marathon"),
        ("I'm trying to save money", "motivation", "to save money"),
        ("I decided to go with Postgres.", "decision", "to go with Postgres"),
        ("We chose React for the frontend", "decision", "React for the frontend"),
        ("I feel anxious about the exam", "emotion", "anxious about the exam"),
        ("I'm so happy about the new job", "emotion", "happy about the new job"),
        ("I'm a software engineer at Acme", "identity", "software engineer at Acme"),
        ("I work as a nurse", "identity", "nurse"),
        ("As a mother of two, I rarely sleep", "identity", "mother of two"),
    ],
)
def test_each_type(text: str, stype: str, subject: str) -> None:
    s = one(text)
    assert (s.type, s.subject) == (stype, subject)
    assert 0.0 <= s.intensity <= 1.0 and -1.0 <= s.valence <= 1.0
    assert s.text == text.strip()


def test_valence_polarity_and_negation() -> None:
    assert one("I love tea").valence > 0
    assert one("I hate tea").valence < 0
    assert one("I can't stand loud music").valence < 0
    negated = one("I don't like spicy food")
    assert negated.type == "preference" and negated.valence < 0
    assert one("I'm not happy with the results").valence < 0
    assert one("I feel sad").valence < 0
    # Negation damps: "not happy" is milder than "sad".
    assert abs(one("I'm not happy").valence) < abs(one("I'm sad").valence)


def test_intensity_intensifiers_and_hedges() -> None:
    plain = one("I like jazz").intensity
    assert one("I really like jazz!").intensity > plain
    assert one("I kind of like jazz").intensity < plain


def test_like_to_is_preference_but_would_like_to_is_motivation() -> None:
    assert one("I like to swim").type == "preference"
    assert one("I would love to visit Japan").type == "motivation"


def test_several_signals_in_order_with_offsets() -> None:
    text = "I'm so excited! I really love painting, it's my passion. I don't like spicy food."
    found = extract_signals(text)
    assert [s.type for s in found] == ["emotion", "preference", "preference"]
    assert [s.start for s in found] == sorted(s.start for s in found)
    assert text[found[1].start : found[1].end] == "I really love painting"


@pytest.mark.parametrize("text", ["", "The sky is blue.", "Like I said, meet at 5.", "I went home."])
def test_no_signal(text: str) -> None:
    assert extract_signals(text) == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_never_crashes_and_stays_in_range(text: str) -> None:
    for s in extract_signals(text):
        assert s.type in SIGNAL_TYPES
        assert 0.0 <= s.intensity <= 1.0 and -1.0 <= s.valence <= 1.0
        assert 0 <= s.start <= s.end <= len(text)


def test_match_signals_overlap_and_preference_boost() -> None:
    signals = extract_signals("I love jazz music. I work as a nurse. I decided to buy a car.")
    scores = match_signals("jazz", signals)
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    pref = match_signals("What music does she like?", signals)
    assert pref[0] > 0
    assert pref[0] > pref[1] and pref[0] > pref[2]
    # Without the preference boost the same overlap scores lower.
    assert match_signals("music", signals)[0] < match_signals("music", signals, preference_query=True)[0]
    assert match_signals("", signals) == [0.0, 0.0, 0.0]


def test_rank_memories() -> None:
    by_memory = {
        10: extract_signals("I love hiking in the Alps."),
        11: extract_signals("I work as a nurse."),
        12: extract_signals("I really love hiking!"),
        13: [],
    }
    ranked = rank_memories("hiking", by_memory)
    assert [mid for mid, _ in ranked] == [12, 10]
    assert rank_memories("hiking", by_memory, limit=1)[0][0] == 12


def test_synthesize_profile() -> None:
    signals = (
        extract_signals("I love jazz.")
        + extract_signals("I really love jazz!")
        + extract_signals("I like tea. I'm a teacher. I hate mornings.")
    )
    profile = synthesize_profile(signals, per_type=2)
    assert set(profile) == set(SIGNAL_TYPES)
    prefs = profile["preference"]
    assert len(prefs) == 2
    assert prefs[0]["subject"] == "jazz" and prefs[0]["count"] == 2
    assert profile["identity"][0]["subject"] == "teacher"
    assert profile["value"] == []


_PIECES = (
    "Honesty is really important to me", "family means everything TO US", "my garden is the world to me!",
    "this is important to mention", "I love hiking", "we decided to move", "it is essential to use",
    "talk to me", "Kindness are so important to Us.", "the user feels anxious", "as a nurse, I work nights",
    "trust is important to meet", "is important to me", "Ownership is essential to us, because",
    "I'm not a fan of rain", "to me", "our goal is to sail", "ſpeed means a lot to uſ", "I am", "x",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=30), min_size=1, max_size=8), st.sampled_from(". ,;!?\n"))
def test_skipping_a_rule_whose_needed_text_is_absent_finds_the_same_signals(parts: list[str], sep: str) -> None:
    from engram_core.personality.signals import _NEEDS, _extract

    assert _NEEDS  # the prefilter is in use
    text = sep.join(parts)
    assert extract_signals(text) == _extract(text, {})


def test_the_value_rule_with_the_subject_first_still_matches_in_any_case() -> None:
    found = extract_signals("My sister's health IS REALLY IMPORTANT TO ME. Walks are essential to us")
    assert [(s.type, s.subject) for s in found] == [("value", "My sister's health"), ("value", "Walks")]
