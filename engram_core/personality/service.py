"""PersonalityService: the personality routes (signals, profile, synthesis, detection) for one caller."""

from __future__ import annotations

from typing import Any

from ..auth.context import AuthContext
from ..storage.database import Database
from ..validation import Field, Schema
from . import store as signals_store
from .signals import SIGNAL_TYPES, extract_signals

__all__ = ["DETECT", "SIGNALS", "PersonalityService"]

SIGNALS = Schema(
    Field("type", "str", choices=SIGNAL_TYPES),
    Field("limit", "int", default=50, min=1, max=500),
    Field("offset", "int", default=0, min=0),
    description="The caller's personality signals, newest first.",
)

DETECT = Schema(
    Field("text", "text", required=True, max_len=100_000, aliases=("content",)),
    description="Personality signals in a text (nothing is stored).",
)


class PersonalityService:
    """Reads and rebuilds the personality signals and profile stored by :mod:`.store`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def signals(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        """GET /personality/signals: a page of signals (optionally of one type) and counts per type."""
        auth.require("read")
        q = SIGNALS.parse(query)
        return await self.db.aread(
            lambda conn: signals_store.list_signals(conn, auth.user_id, q["type"], q["limit"], q["offset"])
        )

    async def profile(self, auth: AuthContext) -> dict[str, Any]:
        """GET /profile: the last synthesised profile (or one computed now, unsaved)."""
        auth.require("read")
        return await self.db.aread(lambda conn: signals_store.load_profile(conn, auth.user_id))

    async def synthesize(self, auth: AuthContext) -> dict[str, Any]:
        """POST /profile/synthesize: rebuild the profile from the current signals and store it."""
        auth.require("write")
        return await self.db.awrite(lambda conn: signals_store.save_profile(conn, auth.user_id))

    async def detect(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /personality/detect: the signals in a text, without storing anything."""
        auth.require("read")
        text = DETECT.parse(body)["text"]
        signals = [s.as_dict() for s in extract_signals(text)]
        return {"signals": signals, "count": len(signals)}
