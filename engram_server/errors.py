"""The one table mapping Engram errors to HTTP statuses, and the JSON error responses."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from engram_core import errors as e

from .responses import JSONResponse
from .security import SECURITY_HEADERS

__all__ = ["STATUS", "engram_error_handler", "http_error_handler", "unexpected_error_handler"]

log = logging.getLogger("engram.server")

# Most specific class first: the first isinstance match wins.
STATUS: tuple[tuple[type[e.EngramError], int], ...] = (
    (e.UnsupportedMediaType, 415),
    (e.Invalid, 400),
    (e.Unauthorized, 401),
    (e.QuotaExceeded, 403),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.PayloadTooLarge, 413),
    (e.RateLimited, 429),
    (e.ProviderTimeout, 504),
    (e.ProviderFailed, 502),
    (e.Locked, 503),
    (e.DbOpError, 503),
    (e.Unavailable, 503),
    (e.MigrationError, 503),
)


def status_for(exc: e.EngramError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: e.EngramError) -> JSONResponse:
    body: dict[str, object] = {"error": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, e.Invalid) and exc.field:
        body["field"] = exc.field
    if isinstance(exc, e.RateLimited):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        body["retry_after"] = max(1, int(exc.retry_after))
    if isinstance(exc, e.ProviderFailed) and exc.upstream_status is not None:
        body["provider_status"] = exc.upstream_status
    if isinstance(exc, e.Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status_for(exc), headers=headers)


async def engram_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.EngramError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404:
        message = f"no route {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on this path. Starlette's 405 lists only the first route that
    matched the path, and one path is often declared by several routes (GET and DELETE /memory/{id})."""
    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.matches(scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    # Answered by the outermost ServerErrorMiddleware, past SecurityHeaders: add them here.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return JSONResponse({"error": "internal error"}, status_code=500, headers=headers)
