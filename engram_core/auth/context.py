"""Who is asking: the user and key behind a request, and what the key may do."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Forbidden

__all__ = ["SCOPES", "AuthContext", "normalise_scopes"]

# Each scope implies the ones before it: admin > write > read.
SCOPES = ("read", "write", "admin")


def normalise_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Expand implied scopes and order them: ["admin"] -> ("read", "write", "admin")."""
    top = -1
    for scope in scopes:
        if scope not in SCOPES:
            raise ValueError(scope)
        top = max(top, SCOPES.index(scope))
    return SCOPES[: top + 1]


@dataclass(frozen=True)
class AuthContext:
    """The authenticated caller. ``key_id`` is None for open-access and local (CLI) callers."""

    user_id: int
    scopes: tuple[str, ...]
    key_id: int | None = None
    is_admin: bool = False
    ip: str | None = None
    rate_limit: int | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        """Raise ``Forbidden`` unless the key carries ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(f"this key lacks the {scope!r} scope")

    def require_admin(self) -> None:
        """Raise ``Forbidden`` unless the caller is an admin user with an admin key."""
        if not self.is_admin:
            raise Forbidden("this route needs an admin key")

    @classmethod
    def local(cls, user_id: int = 1) -> AuthContext:
        """A fully privileged caller for the CLI and scripts that own the data dir."""
        return cls(user_id=user_id, scopes=SCOPES, is_admin=True)
