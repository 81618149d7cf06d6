"""What can go wrong talking to Engram, and the exit code each means for the CLI.

ClientError                 exit 1 unless a subclass says otherwise
├── Unreachable             exit 3: no answer (refused, DNS, timeout)
└── ApiError                the server answered with an error status
    ├── NotFound            exit 1: 404 for an object (no memory 42)
    │   └── MissingRoute    exit 1: 404 for the route itself (an older server)
    ├── UsageError          exit 2: 400, 409, 413, 415, 422 (the request was wrong)
    ├── AuthError           exit 4: 401, 403 (no key, wrong key, missing scope)
    └── ServerError         exit 5: 429, 5xx and anything else
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "AuthError",
    "ClientError",
    "MissingRoute",
    "NotFound",
    "ServerError",
    "Unreachable",
    "UsageError",
    "error_for",
]


class ClientError(Exception):
    """Base of every client error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unreachable(ClientError):
    """Engram did not answer: connection refused, unknown host, timeout."""

    exit_code = 3


class ApiError(ClientError):
    """The server answered with an error status and (usually) ``{"error", "field"?}``."""

    def __init__(self, status: int, message: str, field: str | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.body = body

    def __str__(self) -> str:
        field = f" (field {self.field})" if self.field else ""
        return f"{self.message}{field} [HTTP {self.status}]"


class NotFound(ApiError):
    exit_code = 1


class MissingRoute(NotFound):
    """The server has no such route: it predates the feature."""


class UsageError(ApiError):
    exit_code = 2


class AuthError(ApiError):
    exit_code = 4


class ServerError(ApiError):
    exit_code = 5


def error_for(status: int, body: Any, route: str) -> ApiError:
    """The error for an error response of ``route`` (a path such as ``/guard``)."""
    message = str(body.get("error")) if isinstance(body, dict) and body.get("error") else f"HTTP {status}"
    field = body.get("field") if isinstance(body, dict) and isinstance(body.get("field"), str) else None
    if status == 404 and message.startswith("no route "):
        return MissingRoute(status, f"this server has no {route} route (needs a newer Engram)", None, body)
    if status == 405:
        return MissingRoute(status, f"this server does not serve {route} this way (needs a newer Engram)", None, body)
    cls: type[ApiError] = ServerError
    if status == 404:
        cls = NotFound
    elif status in (401, 403):
        cls = AuthError
    elif status in (400, 409, 413, 415, 422):
        cls = UsageError
    return cls(status, message, field, body)
