"""Session-level scoring, query names, and the user clock for retrievability (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from engram_core.search.boosts import retrievability_boost
from engram_core.search.rescore import name_factor, query_names, session_bonus
from engram_core.search.scoring import user_clock


def test_query_names_are_capitalised_words_after_the_first() -> None:
    assert query_names("What did Caroline's friend Mel say about Paris?") == ["Caroline", "Mel", "Paris"]
    assert query_names("When did I go to the gym?") == []
    assert query_names("Where Did Anna go, and Did Anna return?") == ["Anna"]


def test_name_factor_counts_the_share_of_names_found() -> None:
    assert name_factor("Anna: I went to Paris", ["Anna", "Paris"], 0.2) == 1.2
    assert name_factor("Anna: I stayed home", ["Anna", "Paris"], 0.2) == 1.1
    assert name_factor("Annabel stayed home", ["Anna"], 0.2) == 1.0  # whole words only
    assert name_factor("Anna", [], 0.2) == 1.0 and name_factor("Anna", ["Anna"], 0.0) == 1.0


def test_session_bonus_rewards_sessions_with_several_strong_candidates() -> None:
    scores = {1: 1.0, 2: 0.8, 3: 0.9, 4: 0.1, 5: 0.5}
    sessions = {1: "a", 2: "a", 3: "b", 4: "b", 5: None}
    bonus = session_bonus(scores, sessions, 0.5)
    assert bonus[1] == bonus[2] == 0.5 * (1.0 + 0.8) / 2
    assert bonus[3] == bonus[4] == 0.5 * (0.9 + 0.1) / 2
    assert 5 not in bonus  # no session, no bonus
    assert bonus[2] + scores[2] > bonus[3] + scores[3]  # a strong session lifts its weaker turn above
    assert session_bonus(scores, sessions, 0.0) == {}


def _row(last_review: str | None) -> dict[str, str | None]:
    return {"fsrs_last_review": last_review}


def test_user_clock_is_the_newest_candidate_review_never_after_now() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [_row("2023-05-08T13:56:00.000000Z"), _row("2023-10-01T10:00:00.000000Z"), _row(None)]
    assert user_clock(rows, now) == datetime(2023, 10, 1, 10, tzinfo=UTC)
    assert user_clock([_row("2027-01-01T00:00:00.000000Z")], now) == now
    assert user_clock([], now) == now


def test_retrievability_floor() -> None:
    assert retrievability_boost(0.0) == 0.8
    assert retrievability_boost(0.0, 0.1) == 0.1
    assert retrievability_boost(0.0, 0.7) == 0.7
    assert retrievability_boost(0.5, 1.0) == 1.0
    assert retrievability_boost(None, 0.5) == 1.0


def test_speaker_factor_favours_the_named_persons_own_turns() -> None:
    from engram_core.search.rescore import speaker_factor

    assert speaker_factor("Anna: I went to Paris", ["Anna"], 0.5) == 1.5
    assert speaker_factor("Bob: Thanks, Anna!", ["Anna"], 0.5) == 1.0  # a remark to her, not her own
    assert speaker_factor("Anna Lee: I stayed home", ["Lee", "Paris"], 0.5) == 1.5  # a word of the label
    assert speaker_factor("I went to Paris: loved it", ["Paris"], 0.5) == 1.0  # no label
    assert speaker_factor("Anna: I went", [], 0.5) == 1.0 and speaker_factor("Anna: I went", ["Anna"], 0.0) == 1.0


def test_session_diversity_penalises_a_sessions_candidates_beyond_the_free_ones() -> None:
    from engram_core.search.rescore import session_diversity

    scores = {1: 1.0, 2: 0.9, 3: 0.8, 4: 0.7, 5: 0.6, 6: 0.5}
    sessions = {1: "a", 2: "a", 3: "a", 4: "b", 5: None, 6: None}
    factors = session_diversity(scores, sessions, 0.5, 1)
    assert factors == {2: 0.5, 3: 0.25}  # the 2nd and 3rd of session a; b's first and no-session are free
    reranked = sorted(scores, key=lambda m: -scores[m] * factors.get(m, 1.0))
    assert reranked == [1, 4, 5, 6, 2, 3]  # other sessions' candidates take the slots
    assert session_diversity(scores, sessions, 0.5, 2) == {3: 0.5}  # two per session rank freely
    assert session_diversity(scores, sessions, 0.5, 0) == {1: 0.5, 2: 0.25, 3: 0.125, 4: 0.5}
    assert session_diversity(scores, sessions, 0.0, 1) == {}  # off: today's order


def test_session_diversity_keeps_the_order_within_a_session() -> None:
    from engram_core.search.rescore import session_diversity

    scores = {10: 0.3, 11: 0.9, 12: 0.6, 13: 0.95}
    sessions = dict.fromkeys(scores, "s")
    factors = session_diversity(scores, sessions, 0.3, 1)
    adjusted = {m: scores[m] * factors.get(m, 1.0) for m in scores}
    assert sorted(scores, key=lambda m: -adjusted[m]) == sorted(scores, key=lambda m: -scores[m])
