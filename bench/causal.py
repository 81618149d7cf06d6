"""Precision and recall of the rule-based causal links on the labelled scenarios.

Usage::

    PYTHONPATH=. python bench/causal.py

Each scenario of ``bench/causal_set.py`` is stored in order, as the ``understand`` job sees it: a memory is
decomposed by ``decompose.plan`` (its facts are its units), its candidates are the memories stored before
it (and their facts), its antecedent the memory just before it; ``causal_links`` gives the links it
states and ``caused_by_others`` the links of earlier memories whose cause it is. A predicted link is a true
positive when the scenario lists it (effect -> cause).
"""

from __future__ import annotations

import sys

from bench.causal_set import HELD_OUT, SCENARIOS, Scenario
from engram_core.intelligence.causal import causal_links, caused_by_others
from engram_core.intelligence.decompose import plan


def _id(label: str) -> int:
    memory, _, fact = label.partition(".")
    return int(memory) * 100 + (int(fact) + 1 if fact else 0)


def _label(ident: int) -> str:
    memory, fact = divmod(ident, 100)
    return f"{memory}.{fact - 1}" if fact else str(memory)


def predict(memories: list[str]) -> set[tuple[str, str]]:
    """The links the rules draw for one scenario, as labels."""
    found: set[tuple[int, int]] = set()
    seen: list[tuple[int, str]] = []
    for i, text in enumerate(memories):
        mid = _id(str(i))
        units = [(mid + k + 1, fact) for k, fact in enumerate(plan(text, 10))]
        antecedent = _id(str(i - 1)) if i else None
        for effect, cause, _ in causal_links(mid, text, units, seen, antecedent):
            found.add((effect, cause))
        for effect, cause, _ in caused_by_others(mid, text, [(c, t) for c, t in seen if c % 100 == 0]):
            found.add((effect, cause))
        seen.extend([(mid, text), *units])
    return {(_label(e), _label(c)) for e, c in found}


def evaluate(scenarios: list[Scenario] = SCENARIOS) -> dict[str, object]:
    tp = fp = fn = 0
    errors: list[str] = []
    for memories, expected in scenarios:
        got = predict(memories)
        tp += len(got & expected)
        for link in sorted(got - expected):
            fp += 1
            errors.append(f"FALSE  {link} in {memories}")
        for link in sorted(expected - got):
            fn += 1
            errors.append(f"MISSED {link} in {memories}")
    positives = sum(len(e) for _, e in scenarios)
    return {
        "scenarios": len(scenarios),
        "labelled_links": positives,
        "negative_scenarios": sum(1 for _, e in scenarios if not e),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / positives if positives else 1.0,
        "errors": errors,
    }


def main() -> int:
    for name, scenarios in (("tuning set", SCENARIOS), ("held-out set", HELD_OUT)):
        _report(name, evaluate(scenarios))
    return 0


def _report(name: str, r: dict[str, object]) -> None:
    print(f"causal links, {name}: {r['scenarios']} scenarios, {r['labelled_links']} labelled links, "
          f"{r['negative_scenarios']} scenarios with none")  # fmt: skip
    print(f"precision {r['precision']:.3f}  recall {r['recall']:.3f}  (tp {r['tp']}, fp {r['fp']}, fn {r['fn']})")
    for line in r["errors"]:  # type: ignore[attr-defined]
        print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
