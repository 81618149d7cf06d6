"""Key -> JSON value documents owned by a user: ``/preferences`` (one per user) and ``/state`` (one per agent).

A write is a JSON merge patch (RFC 7396, one level): each key given is set to its value, a key given as
``null`` is removed, keys not given stay. The whole patch is one transaction. Keys are 1-100 characters,
values any JSON up to 16 KiB each, at most 100 keys per write and 500 per document.
"""

from __future__ import annotations

import json
from typing import Any

from ..auth.context import AuthContext
from ..errors import Conflict, Invalid, NotFound
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema

__all__ = ["PREFERENCES_PUT", "STATE_DELETE", "STATE_PUT", "STATE_QUERY", "PREFERENCES_DELETE", "KeyValueStore"]

MAX_KEYS_PER_WRITE = 100
MAX_KEYS = 500
MAX_KEY_CHARS = 100
MAX_VALUE_BYTES = 16 * 1024


def _patch(name: str) -> Any:
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not value:
            raise Invalid(name, "must be a non-empty object of key -> JSON value (null removes the key)")
        if len(value) > MAX_KEYS_PER_WRITE:
            raise Invalid(name, f"has {len(value)} keys; at most {MAX_KEYS_PER_WRITE} per write")
        for key, v in value.items():
            if not key.strip() or len(key) > MAX_KEY_CHARS or "\x00" in key:
                raise Invalid(f"{name}.{key[:40]}", f"a key must be 1-{MAX_KEY_CHARS} characters, not blank")
            if len(json.dumps(v, ensure_ascii=False).encode()) > MAX_VALUE_BYTES:
                raise Invalid(f"{name}.{key}", f"value is larger than {MAX_VALUE_BYTES} bytes as JSON")
        return value

    return check


def _patch_field(name: str) -> Field:
    return Field(name, "object", required=True, check=_patch(name),
                 schema={"type": "object", "minProperties": 1, "maxProperties": MAX_KEYS_PER_WRITE},
                 help="key -> JSON value; null removes the key; keys not given stay.")  # fmt: skip


_AGENT = Field("agent", "str", default="default", max_len=200, help="Whose state (one document per agent).")
_KEY = Field("key", "str", max_len=MAX_KEY_CHARS, help="Remove only this key (default: every key).")
PREFERENCES_PUT = Schema(_patch_field("preferences"), description="Set or remove the user's preferences.")
PREFERENCES_DELETE = Schema(_KEY)
STATE_PUT = Schema(_AGENT, _patch_field("state"), description="Set or remove keys of an agent's state.")
STATE_QUERY = Schema(_AGENT)
STATE_DELETE = Schema(_AGENT, _KEY)


class KeyValueStore:
    """One table of (user_id[, scope column], key, value JSON) rows; ``scope`` is the extra owner column."""

    def __init__(self, db: Database, table: str, scope: str | None = None) -> None:
        self.db = db
        self.table = table
        self.scope = scope

    def _where(self, auth: AuthContext, owner: str | None) -> tuple[str, list[Any]]:
        if self.scope is None:
            return "user_id = ?", [auth.user_id]
        return f"user_id = ? AND {self.scope} = ?", [auth.user_id, owner]

    def read(self, conn: Any, auth: AuthContext, owner: str | None = None) -> tuple[dict[str, Any], str | None]:
        """The document (key -> value, sorted by key) and when it last changed (None: empty)."""
        where, params = self._where(auth, owner)
        rows = conn.execute(f"SELECT key, value, updated_at FROM {self.table} WHERE {where} ORDER BY key",
                            params).fetchall()  # fmt: skip
        return {r["key"]: json.loads(r["value"]) for r in rows}, max((r["updated_at"] for r in rows), default=None)

    async def get(self, auth: AuthContext, owner: str | None = None) -> tuple[dict[str, Any], str | None]:
        auth.require("read")
        return await self.db.aread(lambda conn: self.read(conn, auth, owner))

    async def patch(
        self, auth: AuthContext, patch: dict[str, Any], owner: str | None = None
    ) -> tuple[dict[str, Any], int, int]:
        """Apply ``patch`` in one transaction: (the document after, keys set, keys removed)."""
        auth.require("write")
        now = now_iso()
        cols = "user_id" if self.scope is None else f"user_id, {self.scope}"
        conflict = cols
        where, params = self._where(auth, owner)

        def tx(conn: Any) -> tuple[dict[str, Any], int, int]:
            set_n = removed = 0
            for key, value in patch.items():
                if value is None:
                    removed += conn.execute(f"DELETE FROM {self.table} WHERE {where} AND key = ?",
                                            [*params, key]).rowcount  # fmt: skip
                    continue
                conn.execute(
                    f"INSERT INTO {self.table} ({cols}, key, value, created_at, updated_at)"
                    f" VALUES ({', '.join('?' * len(params))}, ?, ?, ?, ?)"
                    f" ON CONFLICT ({conflict}, key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    [*params, key, json.dumps(value, ensure_ascii=False), now, now],
                )
                set_n += 1
            count = conn.execute(f"SELECT count(*) FROM {self.table} WHERE {where}", params).fetchone()[0]
            if count > MAX_KEYS:
                raise Conflict(f"would hold {count} keys; at most {MAX_KEYS} (remove some with null)")
            return self.read(conn, auth, owner)[0], set_n, removed

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, key: str | None = None, owner: str | None = None) -> int:
        """Remove one key (404 if it is not there) or the whole document (0 or more keys)."""
        auth.require("write")
        where, params = self._where(auth, owner)
        if key is not None:
            where, params = where + " AND key = ?", [*params, key]
        gone = int(await self.db.awrite(lambda conn: conn.execute(f"DELETE FROM {self.table} WHERE {where}",
                                                                  params).rowcount))  # fmt: skip
        if key is not None and not gone:
            raise NotFound(f"no key {key!r}")
        return gone
