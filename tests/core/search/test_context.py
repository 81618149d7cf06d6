"""Token-budgeted context assembly: never over budget, ordering, dedup, modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.errors import Invalid
from engram_core.search.context import Candidate, assemble_context, estimate_tokens


def words(text: str) -> int:
    return len(text.split())


def superlinear(text: str) -> int:
    # Not additive: the whole text costs more than the sum of its pieces.
    return int(len(text) ** 1.1) // 4


COUNTERS: list[Callable[[str], int]] = [estimate_tokens, words, superlinear]

CANDS = [
    Candidate(1, "User's name is Ada and she writes Python.", "static", 1.0, "identity"),
    Candidate(2, "The deploy uses blue-green releases on Fridays.", "relevant", 0.9, "ops"),
    Candidate(3, "Postgres was chosen over MySQL for JSONB support.", "relevant", 0.7, "decision"),
    Candidate(4, "Yesterday the team discussed the roadmap.", "recent", 0.5),
    Candidate(5, "The deploy uses blue green releases on Fridays!", "relevant", 0.6, "ops"),  # near dup of 2
    Candidate(1, "Duplicate id of the static memory.", "relevant", 0.95),  # same id as 1
]


def test_order_static_relevant_recent_and_scores() -> None:
    res = assemble_context(CANDS, 1000)
    assert [b.id for b in res.blocks] == [1, 2, 3, 4]
    text = res.context
    assert text.index("## Core memories") < text.index("## Relevant memories") < text.index("## Recent")
    assert text.index("blue-green") < text.index("Postgres")
    assert res.duplicates == 2
    assert res.breakdown["relevant"]["count"] == 2
    assert res.token_estimate == estimate_tokens(text) <= 1000
    assert res.utilization == round(res.token_estimate / 1000, 4)


def test_dedup_normalised_text_and_jaccard() -> None:
    cands = [
        Candidate("a", "Ada likes tea.", score=0.9),
        Candidate("b", "ada LIKES   tea", score=0.8),  # same normalised text
        Candidate("c", "one two three four five six seven eight nine ten", score=0.7),
        Candidate("d", "one two three four five six seven eight nine ten eleven", score=0.6),  # J = 10/11
        Candidate("e", "one two three four five six seven eight", score=0.5),  # J = 0.8: kept
    ]
    assert [b.id for b in assemble_context(cands, 1000).blocks] == ["a", "c", "e"]


def test_skips_a_big_block_and_takes_smaller_ones() -> None:
    cands = [
        Candidate("big", "word " * 200, score=0.9),
        Candidate("small", "tiny memory", score=0.5),
    ]
    res = assemble_context(cands, 40, words, mode="deep")
    assert [b.id for b in res.blocks] == ["small"]
    assert res.skipped == 1


def test_zero_budget_and_empty() -> None:
    assert assemble_context(CANDS, 0).context == ""
    res = assemble_context([], 100)
    assert res.context == "" and res.blocks == [] and res.utilization == 0.0


def test_fast_mode_leaves_out_recent_and_caps_blocks() -> None:
    cands = [Candidate(i, f"relevant memory number {i}", score=1 / (i + 1)) for i in range(20)]
    cands.append(Candidate("r", "a recent memory", "recent", 1.0))
    res = assemble_context(cands, 10_000, mode="fast")
    assert len(res.blocks) == 8
    assert all(b.kind != "recent" for b in res.blocks)
    assert len(assemble_context(cands, 10_000, mode="balanced").blocks) == 21


def test_decision_mode_puts_decisions_first() -> None:
    cands = [
        Candidate("fact", "the office is in Lyon", score=0.8, category="fact"),
        Candidate("dec", "we decided to use SQLite", score=0.6, category="decision"),
    ]
    assert [b.id for b in assemble_context(cands, 500, mode="decision").blocks] == ["dec", "fact"]
    assert [b.id for b in assemble_context(cands, 500, mode="balanced").blocks] == ["fact", "dec"]


def test_unused_share_carries_over() -> None:
    # No static blocks: relevant may use the static share too (balanced + backfill fills the rest).
    cands = [Candidate(i, f"memory {i} " + "x " * 20, score=1 / (i + 1)) for i in range(30)]
    res = assemble_context(cands, 200, words)
    assert res.token_estimate <= 200
    assert res.token_estimate > 150


def test_invalid_arguments() -> None:
    with pytest.raises(Invalid):
        assemble_context(CANDS, 100, mode="turbo")
    with pytest.raises(Invalid):
        assemble_context(CANDS, -1)
    with pytest.raises(Invalid):
        assemble_context([Candidate(1, "x", kind="pinned")], 100)


_candidate = st.builds(
    Candidate,
    id=st.integers(0, 30),
    text=st.text(min_size=0, max_size=300),
    kind=st.sampled_from(["static", "relevant", "recent"]),
    score=st.floats(0, 1),
    category=st.sampled_from(["general", "decision", "x" * 40]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_candidate, max_size=25),
    st.integers(0, 600),
    st.sampled_from(COUNTERS),
    st.sampled_from(["fast", "balanced", "deep", "decision"]),
)
def test_never_over_budget(cands: list[Candidate], budget: int, counter: Callable[[str], int], mode: str) -> None:
    res = assemble_context(cands, budget, counter, mode=mode)
    assert counter(res.context) <= budget or res.context == ""
    assert res.token_estimate <= budget
    kinds = [b.kind for b in res.blocks]
    assert kinds == sorted(kinds, key=["static", "relevant", "recent"].index)
    assert len({b.id for b in res.blocks}) == len(res.blocks)


def test_episodes_render_between_relevant_and_recent_and_take_their_share_from_relevant() -> None:
    relevant = [
        Candidate(i, f"relevant memory number {i} " + "filler " * 8, "relevant", 1.0 - i / 100) for i in range(40)
    ]
    episode = Candidate(("episode", 1), "Launch week (2026-01-05): shipped v2 after two rollbacks.", "episode", 2.0)
    recent = Candidate(99, "Yesterday the team discussed the roadmap.", "recent", 0.0)
    without = assemble_context([*relevant, recent], 300)
    assert all(b.kind != "episode" for b in without.blocks)
    got = assemble_context([*relevant, episode, recent], 300)  # 40 relevant blocks would fill it all
    kinds = [b.kind for b in got.blocks]
    assert "episode" in kinds and got.breakdown["episode"]["count"] == 1
    text = got.context
    assert text.index("## Relevant memories") < text.index("## Episodes") < text.index("Launch week")
    assert got.token_estimate <= 300
    # the same candidates with the episode id of a memory number stay distinct blocks
    same_number = assemble_context(
        [Candidate(1, "memory one", "relevant", 1.0), replace(episode, id=("episode", 1))], 100
    )
    assert len(same_number.blocks) == 2
