"""AuthService: authenticate bearer keys, bootstrap, users, keys, spaces, audit."""

from __future__ import annotations

import hmac
from typing import Any

from ..errors import Forbidden, Invalid, Unauthorized
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso
from . import audit, keys, spaces, users
from .context import AuthContext
from .keycache import KeyCache, read_generation
from .ratelimit import BootstrapLockout
from .schemas import AUDIT, BOOTSTRAP, CREATE_KEY, CREATE_SPACE, CREATE_USER, ROLES, ROTATE_KEY
from .usage import KeyUsage

__all__ = ["AuthService"]


class AuthService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._pepper = settings.api_key_pepper
        self._lockout = BootstrapLockout()
        self.usage = KeyUsage(db)  # last_used_at, at most one write per key per minute
        self.keys = KeyCache(db.reader)  # resolved keys, emptied by a key change in any process

    async def authenticate(self, authorization: str | None, ip: str | None = None) -> AuthContext:
        """Resolve an ``Authorization`` header. No header: open-access reader (when enabled) or 401."""
        if not authorization:
            if self.settings.open_access:
                return AuthContext(user_id=1, scopes=("read",), ip=ip)
            raise Unauthorized("missing API key: send Authorization: Bearer <key>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("malformed Authorization header: expected 'Bearer <key>'")
        token = token.strip()
        wanted, now = keys.hash_key(token, self._pepper), now_iso()
        ctx = self.keys.get(wanted, now)
        if ctx is None:
            ctx = await self.db.aread(lambda conn: self._lookup(conn, token, wanted, now))
        if ctx.key_id is not None:
            self.usage.touch(ctx.user_id, ctx.key_id)  # queued on the write thread, not awaited
        return AuthContext(ctx.user_id, ctx.scopes, ctx.key_id, ctx.is_admin, ip, ctx.rate_limit)

    def _lookup(self, conn: Any, token: str, wanted: str, now: str) -> AuthContext:
        """The key's context from the database, cached with the generation of this same snapshot."""
        ctx, expires_at = keys.resolve(conn, token, wanted, now)
        self.keys.put(wanted, ctx, expires_at, read_generation(conn))
        return ctx

    async def bootstrap(self, body: Any, ip: str | None = None) -> dict[str, Any]:
        """One-shot creation of the first admin, guarded by ENGRAM_BOOTSTRAP_SECRET.

        Five wrong secrets a minute from one address lock bootstrap for that address (429).
        """
        data = BOOTSTRAP.parse(body)
        expected = self.settings.bootstrap_secret
        if not expected:
            raise Forbidden("bootstrap is disabled: set ENGRAM_BOOTSTRAP_SECRET, or run `engram keys create --admin`")
        who = ip or "-"
        self._lockout.check(who)
        if not hmac.compare_digest(data["secret"].encode(), expected.encode()):
            self._lockout.failure(who)
            raise Unauthorized("wrong bootstrap secret")
        self._lockout.success(who)
        return await self.db.awrite(lambda conn: users.bootstrap_admin(conn, pepper=self._pepper, name=data["name"]))

    async def create_user(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require_admin()
        data = CREATE_USER.parse(body)
        is_admin, scopes = data["is_admin"], tuple(data["scopes"])
        if data["role"] is not None:
            if is_admin and data["role"] != "admin":
                raise Invalid("role", f"{data['role']!r} contradicts is_admin: true")
            is_admin = data["role"] == "admin"
            if not (isinstance(body, dict) and "scopes" in body):
                scopes = ROLES[data["role"]]
        if is_admin and isinstance(body, dict) and "scopes" in body and "admin" not in keys.check_scopes(scopes):
            raise Invalid("scopes", "an admin user's first key has the admin scope: add it, or leave scopes out")
        made = await self.db.awrite(
            lambda conn: users.create_user(
                conn, auth, data["name"], email=data["email"], is_admin=is_admin, scopes=scopes,
                pepper=self._pepper,
            )
        )  # fmt: skip
        return {**made, "username": made["name"], "role": _role(made["is_admin"], made["scopes"])}

    async def list_users(self, auth: AuthContext) -> dict[str, Any]:
        auth.require_admin()
        return {"users": await self.db.aread(users.list_users)}

    async def create_key(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        data = CREATE_KEY.parse(body)
        user_id = data["user_id"] or auth.user_id
        if user_id != auth.user_id:
            auth.require_admin()
        wanted = data["scopes"]
        if "admin" in wanted and not auth.is_admin:
            raise Forbidden("only an admin key can create admin keys")
        result = await self.db.awrite(
            lambda conn: keys.create_key(
                conn, user_id, wanted, pepper=self._pepper, name=data["name"], expires_at=data["expires_at"],
                rate_limit=data["rate_limit"], auth=auth,
            )
        )  # fmt: skip
        return {**result, "api_key": result["key"], "message": "Store this key now: it is not shown again."}

    async def list_keys(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return {"keys": await self.db.aread(lambda conn: keys.list_keys(conn, auth.user_id))}

    async def revoke_key(self, auth: AuthContext, key_id: int) -> dict[str, Any]:
        auth.require("write")
        return await self.db.awrite(lambda conn: keys.revoke_key(conn, auth, key_id))

    async def rotate_key(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        data = ROTATE_KEY.parse(body)
        return await self.db.awrite(
            lambda conn: keys.rotate_key(conn, auth, data["key_id"], data["grace_hours"], pepper=self._pepper)
        )

    async def create_space(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        data = CREATE_SPACE.parse(body)
        return await self.db.awrite(lambda conn: spaces.create_space(conn, auth, data["name"], data["description"]))

    async def list_spaces(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return {"spaces": await self.db.aread(lambda conn: spaces.list_spaces(conn, auth.user_id))}

    async def delete_space(self, auth: AuthContext, space_id: int) -> dict[str, Any]:
        auth.require("write")
        return await self.db.awrite(lambda conn: spaces.delete_space(conn, auth, space_id))

    async def audit(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        auth.require("read")
        q = AUDIT.parse(query)
        user_id = auth.user_id
        if q["user_id"] is not None and q["user_id"] != auth.user_id:
            auth.require_admin()
            user_id = q["user_id"]
        rows = await self.db.aread(
            lambda conn: audit.list_audit(conn, user_id, limit=q["limit"], before_id=q["before_id"], action=q["action"])
        )
        return {"entries": rows, "count": len(rows)}


def _role(is_admin: bool, scopes: list[str]) -> str:
    """The reference clients' role of a user: admin, writer (can write) or reader."""
    if is_admin:
        return "admin"
    return "writer" if "write" in scopes else "reader"
