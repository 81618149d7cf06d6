"""The affect lexicon lookup: the prefix pre-check rejects only words no stem starts."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.intelligence import affect
from engram_core.intelligence.affect import _EXACT, _STEMS, _lookup, score


def _lookup_by_loop(word: str) -> tuple[float, float] | None:
    """The lookup without the pre-check: exact words, then the stems longest first."""
    if word in _EXACT:
        return _EXACT[word]
    for stem, value in _STEMS:
        if word.startswith(stem):
            return value
    return None


_STEM_WORDS = [stem + end for stem, _ in _STEMS for end in ("", "s", "ed", "ing", "ful")]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_STEM_WORDS + sorted(_EXACT)) | st.text(alphabet="abcdefghilnoprstuwxy'", max_size=12))
def test_the_lookup_with_the_pre_check_is_the_loop(word: str) -> None:
    assert _lookup(word) == _lookup_by_loop(word)


def test_every_stem_and_exact_word_is_still_found_and_others_are_not() -> None:
    assert all(_lookup(w) is not None for w in _STEM_WORDS + sorted(_EXACT))
    assert _lookup("harbour") is None and _lookup("") is None
    rng = random.Random(4)
    words = ["".join(rng.choice("aehilmnoprstuw") for _ in range(rng.randint(1, 9))) for _ in range(5000)]
    assert [_lookup(w) for w in words] == [_lookup_by_loop(w) for w in words]


def test_scores_of_a_text_are_unchanged_in_shape() -> None:
    assert affect.score("I am so excited and thrilled!").valence > 0.5
    assert score("The crash was terrible, I'm worried").valence < -0.5
