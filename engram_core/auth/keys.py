"""API keys: ``engram_`` + 32 hex characters (legacy ``eg_...`` accepted).

Only a hash is stored: SHA-256 of the key, or HMAC-SHA256 keyed with ENGRAM_API_KEY_PEPPER when one is
configured. The first 8 characters after the prefix are stored in clear for lookup; candidates are
compared in constant time. Keys expire, are revoked, and rotate with a grace period during which both
the old and the new key work.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import Conflict, Invalid, NotFound, Unauthorized
from ..timeutil import format_ts, now_iso
from . import audit
from .context import AuthContext, normalise_scopes

__all__ = [
    "authenticate",
    "create_key",
    "generate_key",
    "hash_key",
    "key_prefix",
    "list_keys",
    "resolve",
    "revoke_key",
    "rotate_key",
]

KEY_PREFIX = "engram_"
LEGACY_PREFIX = "eg_"


def generate_key() -> str:
    """A new random key: ``engram_`` + 32 lowercase hex characters (128 bits)."""
    return KEY_PREFIX + secrets.token_hex(16)


def key_prefix(key: str) -> str | None:
    """The 8 lookup characters of ``key``, or None if it is not an Engram key."""
    for prefix in (KEY_PREFIX, LEGACY_PREFIX):
        if key.startswith(prefix):
            body = key[len(prefix) :]
            if len(body) >= 16 and body.isascii() and body.isalnum():
                return body[:8]
    return None


def hash_key(key: str, pepper: str = "") -> str:
    """SHA-256 of the key, or HMAC-SHA256(pepper, key) when a pepper is configured."""
    if pepper:
        return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(key.encode()).hexdigest()


def _key_row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "user_id": r["user_id"],
        "name": r["name"],
        "prefix": r["prefix"],
        "key_prefix": r["prefix"],  # the reference clients' name
        "scopes": r["scopes"].split(","),
        "is_active": r["revoked_at"] is None and (r["expires_at"] is None or r["expires_at"] > now_iso()),
        "rate_limit": r["rate_limit"],
        "created_at": r["created_at"],
        "expires_at": r["expires_at"],
        "revoked_at": r["revoked_at"],
        "last_used_at": r["last_used_at"],
        "rotated_from": r["rotated_from"],
    }


def create_key(
    conn: Any,
    user_id: int,
    scopes: list[str] | tuple[str, ...],
    *,
    pepper: str = "",
    name: str = "",
    expires_at: str | None = None,
    rate_limit: int | None = None,
    rotated_from: int | None = None,
    auth: AuthContext | None = None,
) -> dict[str, Any]:
    """Create a key for ``user_id`` (inside a write transaction). The clear key is returned only here."""
    full_scopes = check_scopes(scopes)
    if expires_at is not None and expires_at <= now_iso():
        raise Invalid("expires_at", "must be in the future: the key would be expired already")
    if conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise NotFound(f"user {user_id} not found")
    key = generate_key()
    cur = conn.execute(
        "INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, rate_limit, created_at, expires_at,"
        " rotated_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            name,
            key_prefix(key),
            hash_key(key, pepper),
            ",".join(full_scopes),
            rate_limit,
            now_iso(),
            expires_at,
            rotated_from,
        ),
    )
    key_id = int(cur.lastrowid)
    audit.record(conn, auth, "key.create", "key", key_id, {"scopes": list(full_scopes)}, user_id=user_id)
    row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return {**_key_row(row), "key": key}


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The scopes with the ones they imply, or ``Invalid`` naming an unknown scope or an empty list."""
    try:
        full_scopes = normalise_scopes(scopes)
    except ValueError as exc:
        raise Invalid("scopes", f"unknown scope {exc.args[0]!r}; use read, write or admin") from None
    if not full_scopes:
        raise Invalid("scopes", "must name at least one scope")
    return full_scopes


def authenticate(conn: Any, key: str, *, pepper: str = "", now: str | None = None) -> AuthContext:
    """Resolve a bearer key to an ``AuthContext`` or raise ``Unauthorized`` (read-only lookup)."""
    return resolve(conn, key, hash_key(key, pepper), now or now_iso())[0]


def resolve(conn: Any, key: str, wanted: str, now: str) -> tuple[AuthContext, str | None]:
    """``authenticate`` given the key's hash ``wanted``: the context and the key's expiry (for caching)."""
    prefix = key_prefix(key)
    if prefix is None:
        raise Unauthorized("malformed API key: expected engram_ followed by 32 hex characters")
    rows = conn.execute(
        "SELECT k.*, u.is_admin FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = ?",
        (prefix,),
    ).fetchall()
    for row in rows:
        if hmac.compare_digest(row["key_hash"], wanted):
            if row["revoked_at"] is not None:
                raise Unauthorized("API key has been revoked")
            if row["expires_at"] is not None and row["expires_at"] <= now:
                raise Unauthorized("API key has expired")
            ctx = AuthContext(
                user_id=row["user_id"],
                scopes=tuple(row["scopes"].split(",")),
                key_id=row["id"],
                is_admin=bool(row["is_admin"]) and "admin" in row["scopes"].split(","),
                rate_limit=row["rate_limit"],
            )
            return ctx, row["expires_at"]
    raise Unauthorized("invalid API key")


def list_keys(conn: Any, user_id: int) -> list[dict[str, Any]]:
    return [_key_row(r) for r in conn.execute("SELECT * FROM api_keys WHERE user_id = ? ORDER BY id", (user_id,))]


def _own_key(conn: Any, auth: AuthContext, key_id: int) -> Any:
    row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None or (row["user_id"] != auth.user_id and not auth.is_admin):
        raise NotFound(f"key {key_id} not found")
    return row


def revoke_key(conn: Any, auth: AuthContext, key_id: int) -> dict[str, Any]:
    row = _own_key(conn, auth, key_id)
    if row["revoked_at"] is None and _is_last_admin_key(conn, row):
        raise Conflict(
            f"key {key_id} is the last active admin key: revoking it would lock every admin out. Create another"
            ' admin key first (POST /keys with scopes ["admin"]); without any, `engram keys create --admin`'
            " on the server makes one"
        )
    if row["revoked_at"] is None:
        conn.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (now_iso(), key_id))
        audit.record(conn, auth, "key.revoke", "key", key_id, user_id=row["user_id"])
    return {"revoked": True, "id": key_id}


_ACTIVE_ADMIN_KEY = (
    "SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.is_admin = 1"
    " AND (',' || k.scopes || ',') LIKE '%,admin,%' AND k.revoked_at IS NULL"
    " AND (k.expires_at IS NULL OR k.expires_at > ?)"
)


def _is_last_admin_key(conn: Any, row: Any) -> bool:
    """Whether ``row`` is an active admin key and no other active admin key exists."""
    now = now_iso()
    admins = {r[0] for r in conn.execute(_ACTIVE_ADMIN_KEY + " LIMIT 2", (now,))}
    return admins == {row["id"]}


def rotate_key(conn: Any, auth: AuthContext, key_id: int, grace_hours: float, *, pepper: str = "") -> dict[str, Any]:
    """Issue a new key with the same scopes; the old one keeps working for ``grace_hours``."""
    row = _own_key(conn, auth, key_id)
    if row["revoked_at"] is not None:
        raise Invalid("key_id", "cannot rotate a revoked key")
    grace_until = format_ts(datetime.now(UTC) + timedelta(hours=grace_hours))
    old_expiry = row["expires_at"]
    if old_expiry is None or old_expiry > grace_until:
        conn.execute("UPDATE api_keys SET expires_at = ? WHERE id = ?", (grace_until, key_id))
    new = create_key(
        conn,
        row["user_id"],
        tuple(row["scopes"].split(",")),
        pepper=pepper,
        name=row["name"],
        rate_limit=row["rate_limit"],
        rotated_from=key_id,
        auth=auth,
    )
    audit.record(conn, auth, "key.rotate", "key", key_id, {"new_key_id": new["id"]}, user_id=row["user_id"])
    return {
        "rotated": True, "old_key_id": key_id, "old_key_expires_at": grace_until, **new, "api_key": new["key"],
        # the reference clients' names
        "new_key": new["key"], "new_key_id": new["id"], "old_key_expires": grace_until, "grace_hours": grace_hours,
        "message": f"Store the new key now: it is not shown again. The old key works until {grace_until}.",
    }  # fmt: skip
