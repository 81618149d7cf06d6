"""Typed links between memories, and near-duplicate detection and merging."""

from __future__ import annotations

from typing import Any

from engram_core.graph.links import LINK
from engram_core.memories.duplicates import DEDUPLICATE, DUPLICATES

from ..routing import ApiRequest, api


async def links_of(r: ApiRequest) -> Any:
    """Links of a memory (outgoing and incoming)."""
    return await r.engram.cognitive.links.of_memory(r.auth, r.path_int())


async def create_link(r: ApiRequest) -> Any:
    """Create (or reweight) a typed link between two memories."""
    return 201, await r.engram.cognitive.links.create(r.auth, r.body)


async def delete_link(r: ApiRequest) -> Any:
    """Delete a link by its id."""
    return await r.engram.cognitive.links.delete(r.auth, r.path_int())


async def duplicates(r: ApiRequest) -> Any:
    """Near-duplicate pairs among the caller's recent memories (SimHash)."""
    return await r.engram.cognitive.dedup.duplicates(r.auth, r.query)


async def deduplicate(r: ApiRequest) -> Any:
    """Merge near-duplicates into the oldest memory of each group."""
    return await r.engram.cognitive.dedup.deduplicate(r.auth, r.body)


routes = [
    api("/links/{id:int}", links_of, tag="graph"),
    api("/links", create_link, methods=("POST",), scope="write", body=LINK, tag="graph", ok=(201,)),
    api("/links/{id:int}", delete_link, methods=("DELETE",), scope="write", tag="graph"),
    api("/duplicates", duplicates, query=DUPLICATES),
    api("/deduplicate", deduplicate, methods=("POST",), scope="write", body=DEDUPLICATE),
]
