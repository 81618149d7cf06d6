"""OpenAI-compatible embeddings and the embedding admin routes."""

from __future__ import annotations

from typing import Any

from engram_core.embeddings.service import EMBED

from ..routing import ApiRequest, api


async def embeddings(r: ApiRequest) -> Any:
    """Embed text (OpenAI-compatible)."""
    return await r.engram.embedding_service.openai(r.body)


async def models(r: ApiRequest) -> Any:
    """Models served by /v1/embeddings."""
    return {"object": "list", "data": [{"object": "model", **m} for m in r.engram.embedding_service.list_models()]}


async def reembed(r: ApiRequest) -> Any:
    """Re-embed every memory with the configured model (a background job)."""
    return 202, {"job": await r.engram.enqueue_reembed(r.auth)}


async def embedding_info(r: ApiRequest) -> Any:
    """The embedding model, the database's recorded fingerprint, and how many memories lack a vector."""
    return await r.engram.embedding_info()


routes = [
    api("/v1/embeddings", embeddings, methods=("POST",), body=EMBED, tag="embeddings", cost=2),
    api("/v1/models", models, tag="embeddings"),
    api("/admin/reembed", reembed, methods=("POST",), scope="admin", tag="admin", ok=(202,), cost=100),
    api("/admin/embedding-info", embedding_info, scope="admin", tag="admin"),
]
