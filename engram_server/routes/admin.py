"""Metrics and admin maintenance: GET /metrics, GET /metrics/prometheus, POST /admin/rebuild-fts,
POST /admin/compact, POST /admin/gc, GET /admin/schema.

The metrics routes need an admin key unless ENGRAM_METRICS_PUBLIC=true: they reveal whole-server counts
(memories, jobs, database size) and a Prometheus scraper usually sends no bearer key, so an operator who
exposes them to a scraper says so explicitly (and keeps the port on a private network).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from engram_core.metrics import CONTENT_TYPE
from engram_core.settings import Settings

from ..routing import ApiRequest, api


def _public(settings: Settings) -> bool:
    return settings.metrics_public


async def metrics_json(r: ApiRequest) -> Any:
    """Server metrics as JSON: every metric family with its samples (admin unless ENGRAM_METRICS_PUBLIC)."""
    return await r.engram.metrics.as_json()


async def metrics_prometheus(r: ApiRequest) -> Any:
    """Server metrics in the Prometheus text format (admin unless ENGRAM_METRICS_PUBLIC)."""
    return Response(await r.engram.metrics.prometheus(), media_type=CONTENT_TYPE)


async def rebuild_fts(r: ApiRequest) -> Any:
    """Rebuild the full-text indexes from their tables (admin)."""
    return await r.engram.maintenance.rebuild_fts(r.auth)


async def compact(r: ApiRequest) -> Any:
    """Compact the database: FTS optimize, ANALYZE, VACUUM, as a background job (admin; progress in /jobs/{id})."""
    return 202, {"job": await r.engram.maintenance.enqueue_compact(r.auth)}


async def gc(r: ApiRequest) -> Any:
    """Purge trash past ENGRAM_TRASH_RETENTION_DAYS and forget memories past their TTL (admin)."""
    return await r.engram.maintenance.gc(r.auth)


async def schema(r: ApiRequest) -> Any:
    """Applied migrations, tables with row counts, indexes and triggers (admin)."""
    return await r.engram.maintenance.schema(r.auth)


routes = [
    api("/metrics", metrics_json, scope="admin", tag="admin", public_if=_public),
    api(
        "/metrics/prometheus", metrics_prometheus, scope="admin", tag="admin", produces=CONTENT_TYPE, public_if=_public
    ),
    api("/admin/rebuild-fts", rebuild_fts, methods=("POST",), scope="admin", tag="admin", cost=50),
    api("/admin/compact", compact, methods=("POST",), scope="admin", tag="admin", ok=(202,), cost=100),
    api("/admin/gc", gc, methods=("POST",), scope="admin", tag="admin", cost=50),
    api("/admin/schema", schema, scope="admin", tag="admin"),
]
