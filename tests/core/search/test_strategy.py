"""Question-type detection, blending and overrides."""

from __future__ import annotations

import math

import pytest

from engram_core.errors import Invalid
from engram_core.search.strategy import CHANNELS, PROFILES, QUESTION_TYPES, detect_cues, strategy_for


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("When did Alice move to Berlin?", "temporal"),
        ("What happened three days ago?", "temporal"),
        ("What did we discuss yesterday?", "temporal"),
        ("What did Bob do last week?", "temporal"),
        ("Which talk did I give in March?", "temporal"),
        ("What did I buy on 7 May?", "temporal"),
        ("What was the plan for 2023?", "temporal"),
        ("What music does Sam like?", "preference"),
        ("Which editor do I prefer?", "preference"),
        ("What is my favourite dish?", "preference"),
        ("Does she enjoy hiking?", "preference"),
        ("Why did the deploy fail?", "reasoning"),
        ("How come the tests are flaky?", "reasoning"),
        ("Is he likely to accept the offer?", "reasoning"),
        ("What kind of books do I read?", "generalization"),
        ("What are some things we do on weekends?", "generalization"),
        ("How does Tom usually spend evenings?", "generalization"),
        ("What is the name of the database we use?", "fact_recall"),
        ("Where does Caroline live?", "fact_recall"),
        ("", "fact_recall"),
    ],
)
def test_detects_type(query: str, expected: str) -> None:
    assert strategy_for(query).question_type == expected


def test_may_as_a_verb_is_not_a_month() -> None:
    assert "temporal" not in detect_cues("May I ask what the server is called?")


def test_default_profile_is_fact_recall() -> None:
    s = strategy_for("Where is the config file?")
    assert s.mix == {"fact_recall": 1.0}
    assert s.weights == dict(PROFILES["fact_recall"].weights)
    assert s.cues == {}
    assert not s.overridden


def test_blend_is_cue_weighted_average() -> None:
    s = strategy_for("Why does she like jazz?")  # one reasoning cue, one preference cue
    assert s.mix == {"preference": 0.5, "reasoning": 0.5}
    for c in CHANNELS:
        expected = 0.5 * PROFILES["preference"].weights[c] + 0.5 * PROFILES["reasoning"].weights[c]
        assert math.isclose(s.weights[c], expected)
        assert s.candidates[c] == max(PROFILES["preference"].candidates[c], PROFILES["reasoning"].candidates[c])
    # Equal shares: the more specific type (preference before reasoning) is reported.
    assert s.question_type == "preference"
    assert math.isclose(sum(s.mix.values()), 1.0)


def test_override_wins_and_is_unblended() -> None:
    s = strategy_for("When did Alice move?", question_type="preference")
    assert s.question_type == "preference"
    assert s.overridden
    assert s.weights == dict(PROFILES["preference"].weights)
    assert s.as_dict()["overridden"] is True


@pytest.mark.parametrize("bad", ["", "facts", "TEMPORAL", "fact recall"])
def test_invalid_override(bad: str) -> None:
    with pytest.raises(Invalid) as err:
        strategy_for("x", question_type=bad)
    assert err.value.field == "question_type"


def test_every_profile_covers_every_channel() -> None:
    assert set(PROFILES) == set(QUESTION_TYPES)
    for p in PROFILES.values():
        assert set(p.weights) == set(CHANNELS) == set(p.candidates)
        assert all(w >= 0 for w in p.weights.values())
        assert all(n > 0 for n in p.candidates.values())
