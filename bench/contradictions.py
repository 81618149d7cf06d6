"""Precision and recall of the rule-based contradiction detector on the labelled pairs.

Usage::

    PYTHONPATH=. python bench/contradictions.py

Each pair of ``bench/contradiction_pairs.py`` (older, newer, label) is classified by
``engram_core.intelligence.contradictions.classify`` (the same rules the store-time job applies; the newer
memory stored a day after the older). A pair labelled ``contradicting`` or ``updating`` is a positive;
precision and recall are over detection (any kind), and the kinds are cross-tabulated against the labels
(``update``/``conflict`` come from facts, ``negation``/``antonym``/``number`` from text).
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.contradiction_pairs import PAIRS
from engram_core.intelligence.contradictions import classify

POSITIVE = {"contradicting", "updating"}


def evaluate() -> dict[str, object]:
    older_at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    newer_at = older_at + timedelta(days=1)
    tp = fp = fn = tn = 0
    kinds: Counter[tuple[str, str]] = Counter()
    errors: list[str] = []
    for older, newer, label in PAIRS:
        verdict = classify(newer, older, newer_at, older_at)
        found = verdict is not None
        kinds[(label, verdict.kind if verdict else "-")] += 1
        if found and label in POSITIVE:
            tp += 1
        elif found:
            fp += 1
            errors.append(f"FALSE  {label:13} {older!r} / {newer!r} -> {verdict.kind if verdict else ''}")
        elif label in POSITIVE:
            fn += 1
            errors.append(f"MISSED {label:13} {older!r} / {newer!r}")
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    by_label = Counter(label for _, _, label in PAIRS)
    return {"pairs": len(PAIRS), "by_label": dict(by_label), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": precision, "recall": recall, "kinds": kinds, "errors": errors}  # fmt: skip


def main(argv: list[str]) -> None:
    r = evaluate()
    print(f"pairs: {r['pairs']} {r['by_label']}")
    print(f"precision {r['precision']:.3f}  recall {r['recall']:.3f}  (tp {r['tp']}, fp {r['fp']}, "
          f"fn {r['fn']}, tn {r['tn']})")  # fmt: skip
    kinds: Counter[tuple[str, str]] = r["kinds"]  # type: ignore[assignment]
    labels = ["updating", "contradicting", "compatible", "unrelated"]
    names = sorted({k for _, k in kinds})
    print("\n| label | " + " | ".join(names) + " |\n|---" * 1 + "|---" * len(names) + "|")
    for label in labels:
        print(f"| {label} | " + " | ".join(str(kinds[(label, k)]) for k in names) + " |")
    if "-v" in argv:
        print("\n" + "\n".join(r["errors"]))  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
