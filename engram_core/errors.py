"""The one exception tree of Engram. The server maps each class to an HTTP status in one table.

EngramError
├── Invalid            400  bad input; names the field and the problem
│   └── UnsupportedMediaType 415  a request body declared as something other than JSON
├── PayloadTooLarge    413  a body or field over its size limit
├── Unauthorized       401  no key, unknown key, expired or revoked key, wrong secret
├── Forbidden          403  key lacks the scope, or the action is not allowed
│   └── QuotaExceeded  403  a per-user quota is used up
├── NotFound           404  no such object for this user
├── Conflict           409  the object exists already or the state forbids the change
├── RateLimited        429  too many requests; carries retry_after seconds
├── Unavailable        503  a component (model, index) is not ready
│   ├── LlmUnavailable 503  the optional LLM failed, is over budget or its circuit is open (callers fall back)
│   └── EmbeddingDown  503  the remote embedding endpoint failed or its circuit is open (stores defer the
│                           vector, search runs the channels that need none)
├── ProviderFailed     502  the proxy's chat provider failed (5xx, unreachable, garbled answer)
│   └── ProviderTimeout 504 the provider did not answer in time
├── Locked             503  an encrypted database without (the right) key
├── DbOpError          503  a database operation (backup, verify, conversion) failed or did not verify
├── MigrationError          a migration file was edited after it was applied, or failed
└── ModelMismatch           the DB's vectors come from another embedding model (startup error)
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DbOpError",
    "EmbeddingDown",
    "EngramError",
    "Forbidden",
    "Invalid",
    "LlmUnavailable",
    "Locked",
    "MigrationError",
    "ModelMismatch",
    "NotFound",
    "PayloadTooLarge",
    "ProviderFailed",
    "ProviderTimeout",
    "QuotaExceeded",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
]


class EngramError(Exception):
    """Base class of every error Engram raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(EngramError):
    """Bad input. ``field`` names the offending field (dotted for nested ones) when there is one."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class UnsupportedMediaType(Invalid):
    """A request body declared (Content-Type) as something other than JSON; the field is Content-Type."""

    def __init__(self, problem: str) -> None:
        super().__init__(None, problem)
        self.field = "Content-Type"


class PayloadTooLarge(EngramError):
    """A body or field is over its size limit."""


class Unauthorized(EngramError):
    """No key, an unknown, expired or revoked key, or a wrong secret."""


class Forbidden(EngramError):
    """The key is valid but may not do this."""


class QuotaExceeded(Forbidden):
    """A per-user quota is used up."""


class NotFound(EngramError):
    """No such object, or not one this user may see (the two are indistinguishable on purpose)."""


class Conflict(EngramError):
    """The object exists already, or its state forbids the change."""


class RateLimited(EngramError):
    """Too many requests; ``retry_after`` is the number of seconds to wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(EngramError):
    """A component needed for the request (a model, an index) is not ready."""


class EmbeddingDown(Unavailable):
    """The remote embedding endpoint failed (past its retries) or its circuit is open.

    Stores keep the memory and embed it later (the backfill job); search runs the channels that need no
    query vector and says it is degraded; a route that cannot do without a vector answers 503."""


class LlmUnavailable(Unavailable):
    """The optional LLM is not configured, failed, is over its token budget, or its circuit is open.

    Every caller catches it and falls back to the rules; it never reaches a client."""


class ProviderFailed(EngramError):
    """The chat provider behind the proxy failed (5xx, refused connection, a body it should not send).

    ``upstream_status`` is the provider's HTTP status when it answered."""

    def __init__(self, message: str, upstream_status: int | None = None) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status


class ProviderTimeout(ProviderFailed):
    """The chat provider did not answer within ENGRAM_PROXY_TIMEOUT_SECONDS."""


class Locked(EngramError):
    """The database is encrypted and the key is missing or wrong."""


class DbOpError(EngramError):
    """A database operation failed or its result did not verify; the original database is unchanged."""


class MigrationError(EngramError):
    """A migration failed, or an applied migration file was edited."""


class ModelMismatch(EngramError):
    """The database's vectors were made by another embedding model than the one configured."""
