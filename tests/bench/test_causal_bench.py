"""The labelled causal set is big enough and the causal links keep their precision and recall on it."""

from __future__ import annotations

from bench.causal import evaluate
from bench.causal_set import HELD_OUT, SCENARIOS
from engram_core.intelligence.causal import relations, strip_connectives


def test_labelled_set_precision_and_recall() -> None:
    assert len(SCENARIOS) >= 40 and sum(1 for _, e in SCENARIOS if not e) >= 15
    result = evaluate()
    assert result["fp"] == 0, result["errors"]  # a false cause is worse than a missed one
    assert float(result["recall"]) >= 0.9, result["errors"]  # type: ignore[arg-type]
    held_out = evaluate(HELD_OUT)
    assert held_out["fp"] == 0 and float(held_out["recall"]) >= 0.75, held_out["errors"]  # type: ignore[arg-type]


def test_relations_read_each_marker_in_its_direction() -> None:
    got = {(r.marker, r.cause, r.effect) for r in relations("I moved to Berlin because I got a job there.")}
    assert got == {("because", "I got a job there", "I moved to Berlin")}
    (led,) = relations("The crash on Friday led to a full restore.")
    assert (led.cause, led.effect) == ("The crash on Friday", "a full restore")
    (passive,) = relations("The invoices outage was caused by the database migration.")
    assert (passive.cause, passive.effect) == ("the database migration", "The invoices outage")
    (lead,) = relations("As a result, I moved back home.")
    assert lead.leading and lead.cause == "" and lead.effect == "I moved back home"
    (inner,) = relations("I lost my job. Therefore I moved back home.")
    assert not inner.leading and inner.cause == "I lost my job"
    assert relations("I am so tired after the trip.") == []
    assert relations("Since March I have lived in Berlin.") == []
    assert strip_connectives("I lost it. As a result, I moved. So I left.") == "I lost it. I moved. So I left."
