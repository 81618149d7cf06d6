"""LoCoMo retrieval quality of the full search pipeline (library, no server, no LLM).

For each conversation a fresh Engram in a temporary data dir stores every turn as one memory
("Speaker: text") through ``memories.store``, one by one, with its ``session_id`` and ``created_at`` (the
session's real date) as a chat client sends them; every scored question (category 5 skipped, evidence
repaired as ``bench/locomo_data.py`` says) is searched (top 20) the way ``POST /search`` searches, implicit
FSRS reviews of the returned memories included, and recall@1/5/10/20, hit@10 and NDCG@10 of the evidence
turns are reported per category and overall, with the search latency p50/p95. The corpus and the answers
are the same on every run (post-store jobs finish before the next store; see ``_fill``).

Usage::

    PYTHONPATH=. python bench/locomo.py [--model-dir DIR] [--embed-cache FILE] [--json out.json]
        [--no-sessions] [--no-created-at] [--no-reviews] [--folds LEVER,...] [--abstain]

With ``--model-dir`` (a converted minilm) the store path embeds every turn and the vector channel is on;
without a model it is off (FTS + personality + graph). Nothing here keys on LoCoMo's wording or speakers.

``--embed-cache FILE`` keeps every text's vector (turns and questions) in a pickle, so a re-run with
the same model skips the model (vectors are identical: the cache only changes how long a run takes).
``--no-sessions`` / ``--no-created-at`` leave the turn's session / real date out (ablations);
``--no-reviews`` asks the questions without the implicit reviews (the corpus then never changes);
``--folds`` is leave-one-conversation-out over the named levers (``bench/locomo_folds.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.locomo_data import CATEGORIES, DEFAULT_PATH, Locomo, Question, Turn, load_locomo
from bench.locomo_folds import ablations, grid
from bench.metrics import hit_at_k, ndcg_at_k, recall_at_k
from engram_core.auth.context import AuthContext
from engram_core.engram import Engram
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.search.tuning import Tuning
from engram_core.settings import Settings

TOP_K = 20
Metric = Callable[[Sequence[Hashable], Collection[Hashable]], float]
METRICS: dict[str, Metric] = {
    "R@1": lambda r, e: recall_at_k(r, e, 1),
    "R@5": lambda r, e: recall_at_k(r, e, 5),
    "R@10": lambda r, e: recall_at_k(r, e, 10),
    "R@20": lambda r, e: recall_at_k(r, e, 20),
    "hit@10": lambda r, e: hit_at_k(r, e, 10),
    "NDCG@10": lambda r, e: ndcg_at_k(r, e, 10),
}


class EmbedCache:
    """A persistent text -> vector cache wrapped around an embedder's ``embed`` (bench speed only)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            self.vectors = pickle.loads(path.read_bytes())
        self.dirty = False

    def wrap(self, engram: Engram) -> None:
        """Route ``engram``'s embedder through the cache (no-op without a model or a cache file)."""
        embedder = engram.vectors.embedder
        if embedder is None or self.path is None:
            return
        inner = embedder.embed

        def embed(texts: Sequence[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
            if missing:
                for text, vec in zip(missing, np.asarray(inner(missing), dtype=np.float32), strict=True):
                    self.vectors[text] = vec
                self.dirty = True
            return np.vstack([self.vectors[t] for t in texts]) if texts else inner(texts)

        embedder.embed = embed  # type: ignore[method-assign]

    def save(self) -> None:
        if self.path is not None and self.dirty:
            self.path.write_bytes(pickle.dumps(self.vectors))
            self.dirty = False


@dataclass(frozen=True)
class Hit:
    """One question's search outcome under one tuning: ranked turn keys and the response's score fields."""

    ranked: list[str]
    top_score: float
    abstained: bool


@dataclass(frozen=True)
class StoreOptions:
    """What each stored turn carries: its ``session_id`` and its real ``created_at`` (both on by default)."""

    sessions: bool = True
    created_at: bool = True


async def _conversation(
    data: Locomo,
    sid: str,
    overrides: dict[str, Any],
    latencies: list[float],
    channels: set[str],
    cache: EmbedCache,
    store: StoreOptions,
    tunings: dict[str, Tuning],
    adversarial: bool = False,
    reviews: bool = True,
) -> dict[str, dict[str, Hit]]:
    """Store one conversation in a fresh Engram; every tuning -> question -> its :class:`Hit`.

    With ``adversarial``, category 5 questions are searched too (for abstention); their ranks are unused.
    With ``reviews`` the questions are asked as ``POST /search`` asks them (see :func:`_ask`).
    """
    with tempfile.TemporaryDirectory() as tmp:
        engram = Engram.open(Settings.for_data_dir(Path(tmp) / "data", **overrides))
        engram.jobs.concurrency = 1  # one post-store job at a time, in id order (see _fill)
        cache.wrap(engram)
        try:
            engram.db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'bench', 'x')"))
            await engram.start()
            await engram.scheduler.stop()  # PageRank, communities and review flushes run at fixed points here
            auth = AuthContext.local(1)
            key_of = await _fill(engram, auth, data.turns[sid], store)
            channels.add(engram.search.vector_status()["enabled"] and "vector" or "no vector")
            asked = [*data.questions, *(data.adversarial if adversarial else [])]
            questions = [q for q in asked if q.sample_id == sid]
            if adversarial:  # the next conversation's questions: nothing in this one answers them
                sids = list(data.turns)
                other = sids[(sids.index(sid) + 1) % len(sids)]
                questions += [replace(q, sample_id=sid, category=0) for q in data.questions if q.sample_id == other]
            fresh = await engram.db.aread(_fsrs_snapshot)
            out: dict[str, dict[str, Hit]] = {}
            for name, tuning in tunings.items():
                engram.search.pipeline.tuning = tuning
                await engram.db.awrite(lambda c: _fsrs_restore(c, fresh))  # every tuning starts unreviewed
                hits: dict[str, Hit] = {}
                for q in questions:
                    started = time.perf_counter()
                    response = await _ask(engram, auth, q.question, reviews)
                    latencies.append((time.perf_counter() - started) * 1000)
                    ranked = [key_of[r["id"]] for r in response["results"] if r["id"] in key_of]
                    hits[question_key(q)] = Hit(ranked, float(response["top_score"]), bool(response["abstained"]))
                out[name] = hits
            return out
        finally:
            await engram.stop()
            engram.close()


async def _fill(engram: Engram, auth: AuthContext, turns: Sequence[Turn], store: StoreOptions) -> dict[int, str]:
    """Store ``turns`` one by one, in order, as a chat client would; memory id -> turn key.

    The corpus is the same on every run: each store's post-commit jobs (auto-links, decomposition, facts,
    contradictions) run to completion, one at a time, before the next turn is stored (they see exactly the
    turns before them, as they would with a client that pauses between turns), and PageRank and the
    communities are computed once at the end. Racing the jobs against the next stores made recall@10 vary
    by ~0.013 between runs of the same code.
    """
    key_of: dict[int, str] = {}
    for turn in turns:
        body = await engram.memories.store(auth, _body(turn, store))
        key_of.setdefault(int(body.get("id") or body["existing_id"]), turn.key)
        await engram.jobs.drain(timeout=600)
    await engram.cognitive.ranker.refresh_pagerank(auth.user_id)
    await engram.cognitive.ranker.detect_communities(auth.user_id)
    # A fact memory found by search stands for the turn it was decomposed from.
    facts = await engram.db.aread(
        lambda c: c.execute("SELECT source_id, target_id FROM memory_links WHERE link_type = 'has_fact'").fetchall()
    )
    for parent, fact in facts:
        if parent in key_of:
            key_of.setdefault(int(fact), key_of[parent])
    return key_of


async def _ask(engram: Engram, auth: AuthContext, question: str, reviews: bool) -> dict[str, Any]:
    """One question's ``POST /search`` answer (top 20).

    With ``reviews`` it goes the way an HTTP client's search goes: every returned memory gets its implicit
    FSRS review (flushed here, before the next question, instead of every few seconds), so later questions
    see what earlier ones recalled. Without, the pipeline runs alone and the corpus never changes.
    """
    body = {"query": question, "limit": TOP_K}
    if not reviews:
        parsed = SEARCH.parse(body)
        return (await engram.search.run(search_scope(auth.user_id, parsed), parsed)).response()
    response = await engram.search.search(auth, body)
    await asyncio.sleep(0)  # the recall hook is scheduled with call_soon
    await engram.cognitive.reviews.flush()
    return response


_FSRS = ("fsrs_stability", "fsrs_difficulty", "fsrs_state", "fsrs_reps", "fsrs_lapses", "fsrs_last_review")


def _fsrs_snapshot(conn: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(f"SELECT {', '.join(_FSRS)}, id FROM memories").fetchall()]


def _fsrs_restore(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(f"UPDATE memories SET {', '.join(f'{c} = ?' for c in _FSRS)} WHERE id = ?", rows)


def question_key(q: Question) -> str:
    """A question's key, unique over the file (the same wording can be asked in two conversations)."""
    return f"{q.sample_id}/{q.category}/{q.question}"


def _body(turn: Turn, store: StoreOptions) -> dict[str, Any]:
    """The store body of one turn: its session and real date unless turned off, as a chat client sends."""
    body: dict[str, Any] = {"content": turn.text}
    if store.created_at:
        body["created_at"] = turn.created_at
    if store.sessions:
        body["session_id"] = f"{turn.sample_id}/{turn.dia_id.split(':')[0]}"
    return body


def collect(
    data: Locomo,
    overrides: dict[str, Any],
    cache: EmbedCache | None = None,
    store: StoreOptions | None = None,
    tunings: dict[str, Tuning] | None = None,
    adversarial: bool = False,
    reviews: bool = True,
) -> tuple[dict[str, dict[str, Hit]], list[float], set[str]]:
    """Tuning name -> question key -> :class:`Hit` over every conversation, latencies (ms), channels."""
    cache = cache or EmbedCache(None)
    tunings = tunings or {"default": Tuning()}
    latencies: list[float] = []
    channels: set[str] = set()
    hits: dict[str, dict[str, Hit]] = {name: {} for name in tunings}
    for sid in data.turns:
        found = asyncio.run(
            _conversation(
                data, sid, overrides, latencies, channels, cache, store or StoreOptions(), tunings, adversarial, reviews
            )
        )
        cache.save()
        for name, per_q in found.items():
            hits[name].update(per_q)
    return hits, latencies, channels


def scores(data: Locomo, hits: dict[str, Hit]) -> dict[str, dict[str, float]]:
    """Question key -> metric name -> value, for every scored (answerable) question."""
    return {
        question_key(q): {name: fn(hits[question_key(q)].ranked, q.evidence_keys) for name, fn in METRICS.items()}
        for q in data.questions
    }


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half (Mann-Whitney)."""
    if not positives or not negatives:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def abstention(data: Locomo, hits: dict[str, Hit]) -> dict[str, float]:
    """How ``top_score`` and ``abstained`` separate answerable questions from adversarial and foreign ones.

    Foreign questions (category 0 here) are another conversation's questions asked of this one.
    """
    answerable = [hits[question_key(q)] for q in data.questions]
    adversarial = [hits[question_key(q)] for q in data.adversarial if question_key(q) in hits]
    foreign = [h for k, h in hits.items() if k.split("/")[1] == "0"]
    top = [h.top_score for h in answerable]
    return {
        "auc_adversarial": auc(top, [h.top_score for h in adversarial]),
        "auc_foreign": auc(top, [h.top_score for h in foreign]),
        "abstained_answerable": sum(h.abstained for h in answerable) / max(1, len(answerable)),
        "abstained_adversarial": sum(h.abstained for h in adversarial) / max(1, len(adversarial)),
        "abstained_foreign": sum(h.abstained for h in foreign) / max(1, len(foreign)),
    }


def summarise(questions: Sequence[Question], per_q: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean metrics per category and overall over ``questions``."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for q in questions:
        for group in (CATEGORIES[q.category], "overall"):
            counts[group] += 1
            for name in METRICS:
                sums[group][name] += per_q[question_key(q)][name]
    return {g: {m: sums[g][m] / counts[g] for m in METRICS} | {"n": counts[g]} for g in sums}


def evaluate(
    data: Locomo, overrides: dict[str, Any], cache: EmbedCache | None = None, store: StoreOptions | None = None
) -> tuple[dict[str, dict[str, float]], list[float], set[str]]:
    """Mean metrics per category and overall (default tuning), every search latency in ms, channels."""
    hits, latencies, channels = collect(data, overrides, cache, store)
    return summarise(data.questions, scores(data, hits["default"])), latencies, channels


def table(results: dict[str, dict[str, float]]) -> str:
    """A markdown table, categories then overall."""
    head = "| group | n | " + " | ".join(METRICS) + " |"
    rule = "|---" * (len(METRICS) + 2) + "|"
    rows = [
        f"| {g} | {int(results[g]['n'])} | " + " | ".join(f"{results[g][m]:.3f}" for m in METRICS) + " |"
        for g in [*CATEGORIES.values(), "overall"]
        if g in results
    ]
    return "\n".join([head, rule, *rows])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_PATH))
    parser.add_argument("--model-dir", default=None, help="directory of the converted minilm model")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--embed-cache", default=None, help="pickle of text -> vector, reused across runs")
    parser.add_argument("--no-sessions", action="store_true", help="store turns without their session_id")
    parser.add_argument("--no-created-at", action="store_true", help="store turns without their real date")
    parser.add_argument("--sessions", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument(
        "--no-reviews", action="store_true", help="search without the implicit FSRS reviews POST /search makes"
    )
    parser.add_argument("--abstain", action="store_true", help="also measure abstention (calibrated vs not)")
    parser.add_argument("--folds", default=None, help="comma-separated levers: leave-one-conversation-out")
    args = parser.parse_args(argv)
    data = load_locomo(args.data)
    overrides: dict[str, Any] = {"search_cache_size": 0}
    if args.model_dir:
        overrides["embedding_model_dir"] = Path(args.model_dir)
    started = time.perf_counter()
    cache = EmbedCache(Path(args.embed_cache) if args.embed_cache else None)
    store = StoreOptions(sessions=not args.no_sessions, created_at=not args.no_created_at)
    levers = [lv for lv in (args.folds or "").split(",") if lv]
    settings = grid(levers) if args.folds is not None else {"default": ({}, Tuning())}
    tunings = {n: t for n, (_, t) in settings.items()}
    if args.abstain:
        tunings["relative score"] = replace(Tuning(), calibrated=False)
    hits, latencies, channels = collect(data, overrides, cache, store, tunings, args.abstain, not args.no_reviews)
    if args.abstain:
        for name in ("default", "relative score"):
            if name in hits:
                figures = abstention(data, hits[name])
                print(f"abstention, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
        hits.pop("relative score", None)
    cuts = statistics.quantiles(latencies, n=100)
    reviewed = "without reviews" if args.no_reviews else "with implicit reviews"
    print(f"LoCoMo dev: {len(data.questions)} questions; vector: {', '.join(sorted(channels))}; {store}; {reviewed}")
    per_setting = {name: scores(data, h) for name, h in hits.items()}
    out: dict[str, Any] = {
        "store": {"sessions": store.sessions, "created_at": store.created_at, "reviews": not args.no_reviews}
    }
    if args.folds is None:
        results = summarise(data.questions, per_setting["default"])
        print(table(results))
        out["results"] = results
    else:
        for row, (figures, chosen) in ablations(data, settings, per_setting, question_key, summarise).items():
            print(f"\n### {row} (leave-one-conversation-out, mean of 5 folds)\nchosen: {chosen}")
            print(table(figures))
            out[row] = {"results": figures, "chosen": chosen}
        out["per_setting"] = {n: summarise(data.questions, s)["overall"] for n, s in per_setting.items()}
        for name, figures in out["per_setting"].items():
            print(f"all questions, {name}: R@10 {figures['R@10']:.3f} NDCG@10 {figures['NDCG@10']:.3f}")
    total = time.perf_counter() - started
    print(f"\nsearch latency: p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms; total {total:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out | {"p50_ms": cuts[49], "p95_ms": cuts[94]}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
