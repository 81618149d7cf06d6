"""Personality routes: signals, profile, synthesis, detection."""

from __future__ import annotations

from typing import Any

from engram_core.personality.service import DETECT, SIGNALS

from ..routing import ApiRequest, api


async def signals(r: ApiRequest) -> Any:
    """The caller's personality signals, newest first."""
    return await r.engram.personality.signals(r.auth, r.query)


async def profile(r: ApiRequest) -> Any:
    """The caller's personality profile, with the current structured facts about them."""
    profile = await r.engram.personality.profile(r.auth)
    return {**profile, "facts": await r.engram.facts.profile_facts(r.auth.user_id)}


async def synthesize(r: ApiRequest) -> Any:
    """Rebuild and store the caller's personality profile."""
    return await r.engram.personality.synthesize(r.auth)


async def detect(r: ApiRequest) -> Any:
    """Personality signals in a text (nothing is stored)."""
    return await r.engram.personality.detect(r.auth, r.body)


routes = [
    api("/personality/signals", signals, query=SIGNALS, tag="personality"),
    *(api(p, profile, tag="personality") for p in ("/profile", "/personality/profile")),
    api("/profile/synthesize", synthesize, methods=("POST",), scope="write", tag="personality"),
    api("/personality/detect", detect, methods=("POST",), body=DETECT, tag="personality"),
]
