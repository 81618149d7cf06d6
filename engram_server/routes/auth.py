"""Auth routes: bootstrap, users, keys, spaces, audit."""

from __future__ import annotations

from typing import Any

from engram_core.auth.schemas import AUDIT, BOOTSTRAP, CREATE_KEY, CREATE_SPACE, CREATE_USER, ROTATE_KEY

from ..routing import ApiRequest, api


async def bootstrap(r: ApiRequest) -> Any:
    """Create the first admin user and key, once (needs ENGRAM_BOOTSTRAP_SECRET)."""
    return 201, await r.engram.auth.bootstrap(r.body, r.auth.ip)


async def create_user(r: ApiRequest) -> Any:
    """Create a user with a first key (admin)."""
    return 201, await r.engram.auth.create_user(r.auth, r.body)


async def list_users(r: ApiRequest) -> Any:
    """List users (admin)."""
    return await r.engram.auth.list_users(r.auth)


async def create_key(r: ApiRequest) -> Any:
    """Create an API key (shown once)."""
    return 201, await r.engram.auth.create_key(r.auth, r.body)


async def list_keys(r: ApiRequest) -> Any:
    """The caller's keys (no secrets)."""
    return await r.engram.auth.list_keys(r.auth)


async def revoke_key(r: ApiRequest) -> Any:
    """Revoke a key."""
    return await r.engram.auth.revoke_key(r.auth, r.path_int())


async def rotate_key(r: ApiRequest) -> Any:
    """Rotate a key with a grace period."""
    return 201, await r.engram.auth.rotate_key(r.auth, r.body)


async def create_space(r: ApiRequest) -> Any:
    """Create a space."""
    return 201, await r.engram.auth.create_space(r.auth, r.body)


async def list_spaces(r: ApiRequest) -> Any:
    """The caller's spaces."""
    return await r.engram.auth.list_spaces(r.auth)


async def delete_space(r: ApiRequest) -> Any:
    """Delete a space (its memories stay, without a space)."""
    return await r.engram.auth.delete_space(r.auth, r.path_int())


async def audit(r: ApiRequest) -> Any:
    """The caller's audit log, newest first."""
    return await r.engram.auth.audit(r.auth, r.query)


routes = [
    api("/bootstrap", bootstrap, methods=("POST",), scope="open", body=BOOTSTRAP, tag="auth", ok=(201,)),
    api("/users", create_user, methods=("POST",), scope="admin", body=CREATE_USER, tag="auth", ok=(201,)),
    api("/users", list_users, scope="admin", tag="auth"),
    api("/keys", create_key, methods=("POST",), scope="write", body=CREATE_KEY, tag="auth", ok=(201,)),
    api("/keys", list_keys, tag="auth"),
    api("/keys/{id:int}", revoke_key, methods=("DELETE",), scope="write", tag="auth"),
    api("/keys/rotate", rotate_key, methods=("POST",), scope="write", body=ROTATE_KEY, tag="auth", ok=(201,)),
    api("/spaces", create_space, methods=("POST",), scope="write", body=CREATE_SPACE, tag="auth", ok=(201,)),
    api("/spaces", list_spaces, tag="auth"),
    api("/spaces/{id:int}", delete_space, methods=("DELETE",), scope="write", tag="auth"),
    api("/audit", audit, query=AUDIT, tag="auth"),
]
