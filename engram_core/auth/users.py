"""Users and the one-shot bootstrap that creates the first admin."""

from __future__ import annotations

from typing import Any

from ..errors import Conflict, Forbidden, Invalid
from ..timeutil import now_iso
from . import audit
from .context import AuthContext, normalise_scopes
from .keys import check_scopes, create_key

__all__ = ["bootstrap_admin", "create_user", "get_user", "list_users", "user_count"]


def _user_row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "name": r["name"],
        "email": r["email"],
        "is_admin": bool(r["is_admin"]),
        "created_at": r["created_at"],
    }


def user_count(conn: Any) -> int:
    return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])


def create_user(
    conn: Any,
    auth: AuthContext | None,
    name: str,
    *,
    email: str | None = None,
    is_admin: bool = False,
    scopes: tuple[str, ...] = ("read", "write"),
    pepper: str = "",
) -> dict[str, Any]:
    """Create a user and a first key for it (the clear key is returned once). The scopes are checked
    even for an admin, whose first key gets the admin scope added."""
    checked = check_scopes(scopes)
    if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
        raise Conflict(f"a user named {name!r} exists already")
    cur = conn.execute(
        "INSERT INTO users (name, email, is_admin, created_at) VALUES (?, ?, ?, ?)",
        (name, email, int(is_admin), now_iso()),
    )
    user_id = int(cur.lastrowid)
    audit.record(conn, auth, "user.create", "user", user_id, {"name": name, "is_admin": is_admin})
    if is_admin:
        checked = normalise_scopes((*checked, "admin"))
    key = create_key(conn, user_id, checked, pepper=pepper, name="initial", auth=auth)
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return {**_user_row(row), "api_key": key["key"], "key_id": key["id"], "scopes": key["scopes"]}


def get_user(conn: Any, user_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user_row(row) if row else None


def list_users(conn: Any) -> list[dict[str, Any]]:
    return [_user_row(r) for r in conn.execute("SELECT * FROM users ORDER BY id")]


def bootstrap_admin(conn: Any, *, pepper: str = "", name: str = "admin") -> dict[str, Any]:
    """Create user 1 with an admin key, once. Refused when any user exists."""
    if user_count(conn) > 0:
        raise Forbidden("bootstrap has already been claimed")
    if not name.strip():
        raise Invalid("name", "must not be empty")
    made = create_user(conn, None, name, is_admin=True, scopes=("read", "write", "admin"), pepper=pepper)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bootstrapped_at', ?)", (now_iso(),))
    return {
        "key": made["api_key"],
        "api_key": made["api_key"],
        "user_id": made["id"],
        "key_id": made["key_id"],
        "scopes": made["scopes"],
    }
