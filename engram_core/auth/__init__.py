"""Users, API keys, scopes, spaces and the audit log."""

from __future__ import annotations

from .context import SCOPES, AuthContext

__all__ = ["SCOPES", "AuthContext"]
