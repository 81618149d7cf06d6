"""SimHash fingerprints: normalisation, near and far texts, signed storage, duplicate lookup."""

from __future__ import annotations

import random
import sqlite3
import statistics
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.memories.simhash import (
    distance,
    features,
    find_duplicate,
    fingerprint,
    to_signed,
    to_unsigned,
    wordless,
)

SENTENCE = (
    "The deployment pipeline for the billing service runs every night at two and sends a summary "
    "to the operations channel"
)


def test_sentence_has_twenty_words() -> None:
    assert len(SENTENCE.split()) == 20


def test_features_are_words_and_bigrams() -> None:
    assert features("Alice owes Bob, alice!") == {
        "alice": 2, "owes": 1, "bob": 1, "alice owes": 1, "owes bob": 1, "bob alice": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    "variant",
    [
        SENTENCE.upper(),
        SENTENCE.replace(" ", "   ").replace("night", "night,\n\t") + ".",
        "  " + SENTENCE.title() + "!!!  ",
        SENTENCE.replace("two", "ｔｗｏ"),  # full-width letters, NFKC-normalised
        "— " + SENTENCE.replace("service", "service;") + " —",
    ],
)
def test_case_punctuation_and_whitespace_do_not_matter(variant: str) -> None:
    assert distance(fingerprint(SENTENCE), fingerprint(variant)) == 0


def test_fingerprint_is_deterministic_and_signed_64_bit() -> None:
    fp = fingerprint(SENTENCE)
    assert fp == fingerprint(SENTENCE)
    assert -(2**63) <= fp < 2**63
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE m (simhash INTEGER)")
    con.execute("INSERT INTO m VALUES (?)", (fp,))
    assert con.execute("SELECT simhash FROM m").fetchone()[0] == fp
    con.close()


def test_some_fingerprints_are_negative() -> None:
    fps = [fingerprint(f"memory number {i} about topic {i * 7}") for i in range(64)]
    assert any(fp < 0 for fp in fps) and any(fp > 0 for fp in fps)


def test_wordless_text_is_fingerprinted_exactly() -> None:
    """No word token, no SimHash feature: the fingerprint hashes the text itself (it used to be 0 for every
    wordless text, so "!!!" was a distance-0 duplicate of "🦄")."""
    wordless_texts = ["🦄", "🐉 🔥 🌊", "!!!", "???", "  ...!?  ", "→ ←"]
    fps = [fingerprint(t) for t in wordless_texts]
    assert all(wordless(t) for t in wordless_texts) and not wordless("x") and not wordless("!!! x")
    assert min(distance(a, b) for i, a in enumerate(fps) for b in fps[i + 1 :]) > 3
    assert fingerprint("!!!") == fingerprint(" ! ! ! ") == fingerprint("！！！")  # spacing and width fold
    assert fingerprint("x") != 0


@given(a=st.integers(0, 2**64 - 1), b=st.integers(0, 2**64 - 1))
def test_distance_is_hamming_for_signed_and_unsigned(a: int, b: int) -> None:
    expected = bin(a ^ b).count("1")
    assert distance(a, b) == expected
    assert distance(to_signed(a), to_signed(b)) == expected
    assert distance(to_signed(a), b) == expected
    assert to_unsigned(to_signed(a)) == a


def _words(rng: random.Random, vocabulary: list[str], n: int) -> list[str]:
    return [rng.choice(vocabulary) for _ in range(n)]


def test_one_word_changed_in_twenty_is_near_and_unrelated_texts_are_far() -> None:
    """Seeded corpus. One changed word in 20 moves ~7 bits (64 * angle / pi), unrelated texts ~32.

    Distance <= 3 is not a property of 64-bit SimHash for one-word edits of 20-word texts (only ~4% are);
    the module docstring explains why that is acceptable for dedup.
    """
    rng = random.Random(20260101)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                  for _ in range(3000)]  # fmt: skip
    near, far = [], []
    for _ in range(300):
        words = _words(rng, vocabulary, 20)
        edited = list(words)
        edited[rng.randrange(20)] = rng.choice(vocabulary)
        fp = fingerprint(" ".join(words))
        near.append(distance(fp, fingerprint(" ".join(edited))))
        far.append(distance(fp, fingerprint(" ".join(_words(rng, vocabulary, 20)))))
    near.sort()
    far.sort()
    assert statistics.median(near) <= 9
    assert near[int(0.95 * len(near))] <= 14
    assert far[int(0.01 * len(far))] >= 18
    assert statistics.median(far) >= 28


def test_small_edit_in_a_long_text_is_within_three() -> None:
    text = " ".join([SENTENCE] * 1 + [f"step {i} of the runbook checks the ledger totals" for i in range(20)])
    edited = text.replace("operations channel", "operations room")
    assert len(text.split()) > 150
    assert distance(fingerprint(text), fingerprint(edited)) <= 3


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (SENTENCE, "Remember that my sister's birthday is on the fourth of March and she likes tulips"),
        ("alice owes bob five dollars", "bob owes alice five dollars"),
        ("The user prefers dark mode in every editor", "The user prefers light mode in every editor"),
    ],
)
def test_different_texts_are_not_duplicates(a: str, b: str) -> None:
    assert distance(fingerprint(a), fingerprint(b)) > 3


def test_find_duplicate_returns_nearest_within_threshold() -> None:
    fp = fingerprint(SENTENCE)
    candidates = [
        (1, fingerprint("something else entirely, about gardening and tomatoes")),
        (2, fp ^ 0b111),  # distance 3
        (3, fp ^ 0b1),  # distance 1
        (4, fp ^ 0b1000),  # distance 1, later: loses the tie
    ]
    assert find_duplicate(fp, candidates) == (3, 1)
    assert find_duplicate(fp, candidates, max_distance=0) is None
    assert find_duplicate(fp, []) is None
    assert find_duplicate(fp, iter([("a", fp ^ 0b1111)])) is None
    assert find_duplicate(fp, iter([("a", fp ^ 0b1111)]), max_distance=4) == ("a", 4)


def test_find_duplicate_stops_at_an_exact_match() -> None:
    fp = fingerprint(SENTENCE)

    def candidates() -> Iterator[tuple[str, int]]:
        yield "first", fingerprint(SENTENCE.lower())
        raise AssertionError("scanned past an exact match")

    assert find_duplicate(fp, candidates()) == ("first", 0)


_WORDS = ("the", "harbour", "pump", "Lisbon", "invoice", "ﬁne", "ÉCOLE", "straße", "東京", "42", "a_b", "naïve", "x")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_WORDS) | st.text(min_size=1, max_size=12), min_size=1, max_size=80))
def test_the_numpy_vote_gives_the_simhash_package_fingerprint(words: list[str]) -> None:
    from simhash import Simhash

    counts = features(" ".join(words))
    if counts and max(counts.values()) < 256:  # the package overflows a uint8 beyond (see below)
        assert fingerprint(" ".join(words)) == to_signed(Simhash(dict(counts), f=64).value)


def test_the_numpy_vote_matches_the_package_on_many_texts_and_heavy_weights() -> None:
    from simhash import Simhash

    rng = random.Random(16)
    vocab = [f"w{i}" for i in range(300)] + list(_WORDS)
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 120))) for _ in range(3000)]
    texts += ["spam " * n for n in (1, 2, 49, 50, 51, 60, 200, 255)] + ["a b " * 70 + "c d e", "ab " * 30 + "cd " * 90]
    for text in texts:
        assert fingerprint(text) == to_signed(Simhash(dict(features(text)), f=64).value), text


def test_a_word_repeated_hundreds_of_times_has_a_fingerprint() -> None:
    # simhash.Simhash raised OverflowError for a feature weighing 256 or more (a uint8 times the weight).
    assert distance(fingerprint("spam " * 300), fingerprint("spam " * 299)) == 0
    assert fingerprint("spam " * 300) != fingerprint("eggs " * 300)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(1, 255), min_size=1, max_size=40))
def test_the_vote_of_any_weighted_features_is_the_packages(counts: dict[str, int]) -> None:
    from simhash import Simhash

    from engram_core.memories.simhash import _vote

    # Even totals too (a text's features always weigh 2n - 1), so a bit voted by exactly half is not set.
    assert _vote(Counter(counts)) == Simhash(counts, f=64).value
