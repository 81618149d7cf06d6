"""Server metrics: a per-instance Prometheus registry, exposed as text (/metrics/prometheus) and JSON (/metrics).

Observed as things happen: HTTP requests (count and latency per route *template*, method and status —
never raw paths or user ids, so label cardinality stays bounded), search and store pipeline stage
timings, embedder batch sizes, write-transaction time, failed job attempts per kind. Read at scrape time:
queue depths (write thread, embedder), jobs per kind and status, memories per state, database and WAL
size, model load state. Each Engram has its own ``CollectorRegistry`` (never the process-global one), so
several instances in one process do not collide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256)
_STATES = ("active", "archived", "forgotten", "trashed", "pending", "rejected", "versions")


def _counts(conn: Any) -> dict[str, Any]:
    """Whole-server counts read at scrape time (one read snapshot)."""
    row = conn.execute(
        "SELECT"
        " sum(is_latest = 1 AND is_deleted = 0 AND is_forgotten = 0 AND is_archived = 0 AND status = 'approved'),"
        " sum(is_latest = 1 AND is_deleted = 0 AND is_archived = 1),"
        " sum(is_latest = 1 AND is_deleted = 0 AND is_forgotten = 1),"
        " sum(is_latest = 1 AND is_deleted = 1),"
        " sum(is_latest = 1 AND is_deleted = 0 AND status = 'pending'),"
        " sum(is_latest = 1 AND is_deleted = 0 AND status = 'rejected'),"
        " count(*) FROM memories"
    ).fetchone()
    jobs = [(r[0], r[1], r[2]) for r in conn.execute("SELECT kind, status, count(*) FROM jobs GROUP BY kind, status")]
    return {"memories": {s: int(v or 0) for s, v in zip(_STATES, row, strict=True)}, "jobs": jobs}


class _Snapshot(Collector):
    """Gauges read when scraped: the values :meth:`Metrics.refresh` fetched just before, plus live depths."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.counts: dict[str, Any] = {"memories": {}, "jobs": []}

    def collect(self) -> Iterator[Metric]:
        host = self.host
        g = GaugeMetricFamily(
            "engram_memories", "Memories per state (latest versions; versions: all rows).", labels=["state"]
        )
        for state, value in self.counts["memories"].items():
            g.add_metric([state], value)
        yield g
        g = GaugeMetricFamily(
            "engram_jobs", "Durable jobs per kind and status (failed: gave up).", labels=["kind", "status"]
        )
        for kind, status, value in self.counts["jobs"]:
            g.add_metric([kind, status], value)
        yield g
        db_path = Path(host.db.path)
        g = GaugeMetricFamily("engram_database_bytes", "Size of the database files.", labels=["file"])
        for name, path in (("db", db_path), ("wal", db_path.with_name(db_path.name + "-wal"))):
            g.add_metric([name], path.stat().st_size if path.exists() else 0)
        yield g
        yield GaugeMetricFamily(
            "engram_write_queue_depth",
            "Write transactions waiting for the write thread.",
            value=host.db.write_queue_depth(),
        )
        batcher = host.vectors.batcher
        yield GaugeMetricFamily(
            "engram_embed_queue_depth",
            "Embed requests waiting for the embedder.",
            value=batcher.queue_depth() if batcher is not None else 0,
        )
        g = GaugeMetricFamily("engram_model_loaded", "1 when the model is loaded and in use.", labels=["model"])
        g.add_metric(["embedder"], 1 if host.vectors.enabled else 0)
        g.add_metric(["reranker"], 1 if host.reranker is not None else 0)
        yield g


class Metrics:
    """The registry and the instruments; ``host`` is the Engram facade (db, vectors, reranker)."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.registry = CollectorRegistry()
        r = self.registry
        labels = ["method", "route", "status"]
        self.requests = Counter("engram_http_requests", "HTTP requests per route template.", labels, registry=r)
        self.latency = Histogram(
            "engram_http_request_duration_seconds",
            "HTTP latency per route template.",
            labels,
            buckets=_LATENCY,
            registry=r,
        )
        self.search_stage = Histogram(
            "engram_search_stage_seconds", "Search pipeline time per stage.", ["stage"], buckets=_LATENCY, registry=r
        )
        self.embed_batch = Histogram(
            "engram_embed_batch_size", "Texts per embedder call (micro-batching).", buckets=_BATCH, registry=r
        )
        self.write_tx = Histogram(
            "engram_write_transaction_seconds",
            "Time of one write transaction on the write thread.",
            buckets=_LATENCY,
            registry=r,
        )
        self.store_stage = Histogram(
            "engram_store_stage_seconds",
            "Store pipeline time per stage (validate, dedup, embed, prepare, write, total).",
            ["stage"],
            buckets=_LATENCY,
            registry=r,
        )
        self.job_failures = Counter(
            "engram_job_failures",
            "Failed job attempts per job kind; final=true when the job gave up (status failed).",
            ["kind", "final"],
            registry=r,
        )
        self._snapshot = _Snapshot(host)
        r.register(self._snapshot)
        host.db.on_transaction = self.write_tx.observe
        host.search.pipeline.on_timings = self.observe_search
        host.memories.on_timings = self.observe_store
        host.jobs.on_failure = self.observe_job_failure
        if host.vectors.batcher is not None:
            host.vectors.batcher.on_batch = self.embed_batch.observe

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def observe_search(self, timings: dict[str, float]) -> None:
        for name, ms in timings.items():
            self.search_stage.labels(name.removesuffix("_ms")).observe(ms / 1000.0)

    def observe_store(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            self.store_stage.labels(stage).observe(seconds)

    def observe_job_failure(self, kind: str, final: bool) -> None:
        self.job_failures.labels(kind, "true" if final else "false").inc()

    async def refresh(self) -> None:
        """Read the database-backed gauges (off the event loop) before a scrape."""
        self._snapshot.counts = await self.host.db.aread(_counts)

    async def prometheus(self) -> bytes:
        await self.refresh()
        return generate_latest(self.registry)

    async def as_json(self) -> dict[str, Any]:
        """The same families as a JSON object: name -> {type, help, samples: [{name, labels, value}]}."""
        await self.refresh()
        out: dict[str, Any] = {}
        for family in self.registry.collect():
            out[family.name] = {
                "type": family.type,
                "help": family.documentation,
                "samples": [{"name": s.name, "labels": dict(s.labels), "value": s.value} for s in family.samples],
            }
        return out
