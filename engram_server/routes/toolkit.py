"""Preferences, per-agent state, packing memories into a token budget, prompts, and batches of writes."""

from __future__ import annotations

from typing import Any

from engram_core.toolkit import batch, kv, pack

from ..routing import ApiRequest, api


async def get_preferences(r: ApiRequest) -> Any:
    """The user's preferences (key -> JSON value)."""
    prefs, updated_at = await r.engram.toolkit.preferences.get(r.auth)
    return {"preferences": prefs, "count": len(prefs), "updated_at": updated_at}


async def put_preferences(r: ApiRequest) -> Any:
    """Set preferences (a merge: keys given are set, null removes one, others stay)."""
    patch = kv.PREFERENCES_PUT.parse(r.body)["preferences"]
    prefs, set_n, removed = await r.engram.toolkit.preferences.patch(r.auth, patch)
    return {"preferences": prefs, "count": len(prefs), "set": set_n, "removed": removed}


async def delete_preferences(r: ApiRequest) -> Any:
    """Remove one preference (?key=) or all of them."""
    key = kv.PREFERENCES_DELETE.parse(r.query)["key"]
    return {"deleted": await r.engram.toolkit.preferences.delete(r.auth, key), **({"key": key} if key else {})}


async def get_state(r: ApiRequest) -> Any:
    """An agent's saved state (key -> JSON value); empty until it saves some."""
    agent = kv.STATE_QUERY.parse(r.query)["agent"]
    state, updated_at = await r.engram.toolkit.state.get(r.auth, agent)
    return {"agent": agent, "state": state, "count": len(state), "updated_at": updated_at}


async def put_state(r: ApiRequest) -> Any:
    """Save keys of an agent's state (a merge: null removes a key, others stay)."""
    q = kv.STATE_PUT.parse(r.body)
    state, set_n, removed = await r.engram.toolkit.state.patch(r.auth, q["state"], q["agent"])
    return {"agent": q["agent"], "state": state, "count": len(state), "set": set_n, "removed": removed}


async def delete_state(r: ApiRequest) -> Any:
    """Clear an agent's state, or one key of it (?key=)."""
    q = kv.STATE_DELETE.parse(r.query)
    gone = await r.engram.toolkit.state.delete(r.auth, q["key"], q["agent"])
    return {"agent": q["agent"], "deleted": gone, **({"key": q["key"]} if q["key"] else {})}


async def pack_memories(r: ApiRequest) -> Any:
    """The user's memories (relevant to context, or the most important) packed within token_budget."""
    return (await r.engram.toolkit.packer.pack(r.auth, r.body)).to_dict()


async def prompt(r: ApiRequest) -> Any:
    """A system prompt for a model family: the user's preferences and memories within tokens."""
    prefs, _ = await r.engram.toolkit.preferences.get(r.auth)
    return await r.engram.toolkit.packer.prompt(r.auth, r.query, prefs)


async def run_batch(r: ApiRequest) -> Any:
    """Up to 100 store/update/link operations in order, each its own transaction; stops at the first failure.
    Rate limit: 2 units per store or update and 1 per link, taken before the first operation runs."""
    result = await r.engram.toolkit.batch.run(r.auth, r.body, charge=lambda units: r.charge(units - BATCH_COST))
    return (200 if result.all_succeeded else 207), result.to_dict()


S = "write"
BATCH_COST = batch.OP_COST["store"]  # what the route charges up front; the rest per operation (run_batch)
routes = [
    api("/preferences", get_preferences, tag="preferences"),
    api("/preferences", put_preferences, methods=("PUT",), scope=S, body=kv.PREFERENCES_PUT, tag="preferences"),
    api("/preferences", delete_preferences, methods=("DELETE",), scope=S, query=kv.PREFERENCES_DELETE,
        tag="preferences"),
    api("/state", get_state, query=kv.STATE_QUERY, tag="state"),
    api("/state", put_state, methods=("PUT",), scope=S, body=kv.STATE_PUT, tag="state"),
    api("/state", delete_state, methods=("DELETE",), scope=S, query=kv.STATE_DELETE, tag="state"),
    api("/pack", pack_memories, methods=("POST",), body=pack.PACK, tag="context", cost=5, ok=(200,)),
    api("/prompt", prompt, query=pack.PROMPT, tag="context", cost=5),
    api("/batch", run_batch, methods=("POST",), scope=S, body=batch.BATCH, tag="memory", cost=BATCH_COST,
        ok=(200, 207)),
]  # fmt: skip
