"""Engram's client side: a REST client, the ``engram`` client verbs, the Claude Code hooks and the MCP server.

Everything here speaks to Engram over its HTTP API (``engram_core`` internals are never imported), so the same
code serves a local server, a remote one, and the server's own ``/mcp`` mount.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import EngramClient
    from .errors import ApiError, AuthError, ClientError, MissingRoute, NotFound, ServerError, Unreachable, UsageError

__all__ = [
    "ApiError",
    "AuthError",
    "ClientError",
    "EngramClient",
    "MissingRoute",
    "NotFound",
    "ServerError",
    "Unreachable",
    "UsageError",
]


def __getattr__(name: str) -> Any:
    # Lazy: `engram hook` imports this package on every Claude Code event and must not pay for httpx.
    if name == "EngramClient":
        from .client import EngramClient

        return EngramClient
    if name in __all__:
        from . import errors

        return getattr(errors, name)
    raise AttributeError(name)
