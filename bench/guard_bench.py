"""Guardrail precision and recall on the labelled set in bench/guard_set.py, and /guard latency.

    .venv/bin/python bench/guard_bench.py [--model minilm | --no-model] [--set tuning|held-out|fresh]

Stores the RULES for one user in a fresh data dir (real SQLite, the real embedding model unless
``--no-model``), runs every CASE through ``GuardService.check`` and prints, per signal, precision and
recall (block precision counts a block given to an action labelled warn or allow as a false block),
the confusion table and the median latency of one check. ``--set held-out`` scores the held-out split
(``HELD_OUT_RULES`` / ``HELD_OUT_CASES``; the guard's block rules were later fitted to its failures) and
``--set fresh`` the second held-out split written after that (bench/guard_fresh_set.py, never tuned on).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.guard_fresh_set import FRESH_CASES, FRESH_RULES  # noqa: E402
from bench.guard_set import CASES, HELD_OUT_CASES, HELD_OUT_RULES, RULES  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.auth.users import create_user  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from engram_core.settings import Settings  # noqa: E402

SIGNALS = ("block", "warn", "allow")


Rules = list[dict[str, object]]
Cases = list[tuple[str, str]]
SETS: dict[str, tuple[Rules, Cases]] = {
    "tuning": (RULES, CASES),
    "held-out": (HELD_OUT_RULES, HELD_OUT_CASES),
    "fresh": (FRESH_RULES, FRESH_CASES),
}


async def run(
    engram: Engram, rules: Rules = RULES, cases: Cases = CASES
) -> tuple[list[tuple[str, str, str]], list[float]]:
    auth = AuthContext.local(1)
    for rule in rules:
        await engram.memories.store(auth, dict(rule))
    got: list[tuple[str, str, str]] = []
    times: list[float] = []
    for action, expected in cases:
        t0 = time.perf_counter()
        answer = await engram.intel.guard.check(auth, {"action": action})
        times.append((time.perf_counter() - t0) * 1000)
        got.append((action, expected, answer["signal"]))
    return got, times


def report(got: list[tuple[str, str, str]]) -> dict[str, tuple[float, float]]:
    out = {}
    for sig in SIGNALS:
        tp = sum(1 for _, e, g in got if g == sig and e == sig)
        said = sum(1 for _, _, g in got if g == sig)
        truth = sum(1 for _, e, _ in got if e == sig)
        out[sig] = (tp / said if said else 1.0, tp / truth if truth else 1.0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-model", action="store_true", help="keywords only (no embedding model)")
    parser.add_argument("-v", action="store_true", help="print every miss")
    parser.add_argument("--set", choices=sorted(SETS), default="tuning", help="which labelled split to score")
    args = parser.parse_args()
    base = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"data_dir": Path(tmp), "db_path": Path(tmp) / "engram.db", "models_dir": base.models_dir}
        if args.no_model:
            overrides["embedding_model"] = "none-installed"
        engram = Engram.open(base.replace(**overrides))
        engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))
        rules, cases = SETS[args.set]
        got, times = asyncio.run(run(engram, rules, cases))
        model = engram.vectors.fingerprint or "none (keywords only)"
        asyncio.run(engram.vectors.close())
        engram.close()
    scores = report(got)
    counts = Counter((e, g) for _, e, g in got)
    agree = sum(1 for _, e, g in got if e == g)
    print(f"{args.set} set; model {model}; {len(rules)} memories, {len(cases)} labelled actions;"
          f" load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for sig in SIGNALS:
        p, r = scores[sig]
        print(f"  {sig:5s}: precision {p:.2f}  recall {r:.2f}")
    print(f"  exact agreement {agree}/{len(got)} ({agree / len(got):.0%})")
    false_blocks = sum(1 for _, e, g in got if g == "block" and e != "block")
    missed_blocks = sum(1 for _, e, g in got if e == "block" and g == "allow")
    print(f"  false blocks {false_blocks}; blocks let through as allow {missed_blocks}")
    print("  confusion (expected -> got): " + ", ".join(f"{e}->{g}: {n}" for (e, g), n in sorted(counts.items())))
    print(f"  check latency: median {statistics.median(times):.2f} ms, max {max(times):.2f} ms")
    if args.v:
        for action, e, g in got:
            if e != g:
                print(f"    MISS expected {e:5s} got {g:5s}  {action}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
