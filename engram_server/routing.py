"""Declaring API routes: path, methods, required scope and input schemas, in one place.

``api(...)`` builds a Starlette ``Route`` whose endpoint authenticates the caller, checks the scope,
reads and validates the JSON body and query string, then calls the handler with an ``ApiRequest``.
The same declaration feeds ``/openapi.json`` and the route-table tests.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from engram_core.auth.context import AuthContext
from engram_core.auth.guard import is_local
from engram_core.auth.limits import check_raw_json_depth
from engram_core.engram import Engram
from engram_core.errors import Invalid, NotFound, PayloadTooLarge
from engram_core.settings import Settings
from engram_core.validation import INT_MAX, Schema, coerce_query

from .media import check_json_content_type
from .responses import JSONResponse

__all__ = ["PREPAID", "ApiRequest", "RouteSpec", "api", "decode_json", "read_json", "read_raw"]

log = logging.getLogger("engram.server")
Handler = Callable[["ApiRequest"], Awaitable[Any]]
# A body cap: bytes, or read from the settings when the request arrives (e.g. ENGRAM_MAX_STORE_BODY_BYTES).
BodyLimit = int | Callable[[Settings], int] | None
SCOPES = ("open", "read", "write", "admin")
# ASGI scope key set only by the /mcp mount on its in-process calls (a client cannot set scope keys): a
# one-item list of key units that the /mcp request already paid, used up by the first route it calls.
PREPAID = "engram.prepaid"


@dataclass(frozen=True)
class RouteSpec:
    """What a route needs and takes; published in /openapi.json."""

    path: str
    methods: tuple[str, ...]
    scope: str
    summary: str
    body: Schema | None
    query: Schema | None
    max_body: BodyLimit
    tag: str
    ok: tuple[int, ...] = ()  # success statuses; empty: 200 (201 for POST store/create routes)
    produces: str = "application/json"
    cost: int = 1  # rate-limit units one request takes from the caller's budget (x-rate-cost)
    consumes: tuple[str, ...] = ()  # a raw body (the handler reads it): its media types; empty: JSON
    public_if: Callable[[Settings], bool] | None = None  # the setting that makes this route open (no key)
    ok_schema: Mapping[str, Any] | None = None  # the success body's JSON Schema; None: any JSON object
    no_body: tuple[int, ...] = ()  # success statuses answered without a body (e.g. 202 for a notification)


@dataclass
class ApiRequest:
    request: Request
    engram: Engram
    auth: AuthContext
    body: Any
    query: dict[str, Any]

    def charge(self, units: int) -> None:
        """Take ``units`` more rate-limit units from the caller's key budget, for a route whose weight
        depends on its body (``POST /batch``: per operation). Raises ``RateLimited`` (429) before any work."""
        if units > 0 and self.auth.scopes:  # an open route has no key budget
            _take_units(self.request, self.engram, self.auth, units)

    def path_int(self, name: str = "id") -> int:
        """An integer path parameter; one past SQLite's 64-bit range names nothing (404)."""
        value = int(self.request.path_params[name])
        if value > INT_MAX:
            raise NotFound(f"no object with {name} {value}")
        return value


async def read_raw(request: Request, limit: int) -> bytes:
    """Read the body, refusing more than ``limit`` bytes as it streams (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body is larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # not a server fault: no traceback, and nobody is left to answer
        log.info("client disconnected before sending the whole body of %s %s", request.method, request.url.path)
        raise Invalid("body", "the client disconnected before the body was complete") from None
    return b"".join(chunks)


async def read_json(request: Request, limit: int, max_depth: int) -> Any:
    """Read the body (refusing more than ``limit`` bytes as it streams) and decode it as JSON."""
    check_json_content_type(request.headers)
    return decode_json(await read_raw(request, limit), max_depth)


def decode_json(raw: bytes, max_depth: int) -> Any:
    """A request body as JSON, strictly (UTF-8, nesting at most ``max_depth``); None when it is empty."""
    if not raw.strip():
        return None
    try:  # strictly: json.loads(bytes) would let surrogates (ED A0 80) and UTF-16 through
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("body", f"is not valid UTF-8 (byte {exc.start})") from None
    check_raw_json_depth(raw, max_depth)  # before json.loads, which recurses
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Invalid("body", "is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_lone_surrogates(data)
    return data


# Strict UTF-8 cannot carry a surrogate; only a \uD800-\uDFFF escape can, and one left unpaired would
# fail later, when SQLite or a tokenizer encodes the text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _refuse_lone_surrogates(data: Any) -> None:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid("body", "contains an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF)") from None


def _take_units(request: Request, engram: Engram, auth: AuthContext, units: int) -> None:
    """Charge ``units`` to the caller's key budget (``RateLimited`` past it). An in-process call made for an
    /mcp request spends what that request prepaid (``PREPAID`` in its scope) first."""
    prepaid: list[int] | None = request.scope.get(PREPAID)
    if prepaid:
        units, prepaid[0] = max(units - prepaid[0], 0), max(prepaid[0] - units, 0)
    if units:
        ip = request.client.host if request.client else None
        engram.limits.check_key(auth, units, local=is_local(ip, request.headers))


def api(
    path: str,
    handler: Handler,
    *,
    methods: tuple[str, ...] = ("GET",),
    scope: str = "read",
    body: Schema | None = None,
    query: Schema | None = None,
    max_body: BodyLimit = None,
    tag: str = "memory",
    summary: str | None = None,
    ok: tuple[int, ...] = (),
    produces: str = "application/json",
    cost: int = 1,
    consumes: tuple[str, ...] = (),
    public_if: Callable[[Settings], bool] | None = None,
) -> Route:
    """Declare one API route. ``scope`` is open, read, write or admin; ``ok`` lists the success statuses
    the handler answers and ``produces`` its media type; ``cost`` is the rate-limit weight of one request
    (1 for plain reads and writes, 2 for search and store, 5 for context, 50-100 for admin jobs). All
    three are published in /openapi.json. ``consumes`` declares a raw body (uploads, NDJSON): the route
    reads ``r.request`` itself (see :func:`read_raw`) and the listed media types are published.
    ``public_if(settings)`` true: the route needs no key (e.g. ENGRAM_METRICS_PUBLIC for scrapers)."""
    if scope not in SCOPES or cost < 1:
        raise ValueError(scope if scope not in SCOPES else cost)
    spec = RouteSpec(
        path=path,
        methods=methods,
        scope=scope,
        summary=summary or (handler.__doc__ or "").strip().splitlines()[0] if (summary or handler.__doc__) else "",
        body=body,
        query=query,
        max_body=max_body,
        tag=tag,
        ok=ok,
        produces=produces,
        cost=cost,
        consumes=consumes,
        public_if=public_if,
    )
    takes_body = not consumes and any(m in {"POST", "PUT", "PATCH", "DELETE"} for m in methods)

    async def endpoint(request: Request) -> Response:
        engram: Engram = request.app.state.engram
        settings = engram.settings
        request.scope["engram.route"] = path  # the metrics middleware labels by template, never the raw path
        ip = request.client.host if request.client else None
        local = is_local(ip, request.headers)
        # A call made in-process for an /mcp request: that request already paid the IP unit and one key unit.
        prepaid: list[int] | None = request.scope.get(PREPAID)
        if prepaid is None:
            engram.limits.check_ip(ip, local=local)
        if scope == "open" or (public_if is not None and public_if(settings)):
            auth = AuthContext(user_id=0, scopes=(), ip=ip)
        else:
            auth = await engram.auth.authenticate(request.headers.get("authorization"), ip)
            _take_units(request, engram, auth, cost)
            auth.require(scope)
            if scope == "admin":
                auth.require_admin()
        data: Any = None
        if takes_body and request.method != "GET":
            cap = max_body(settings) if callable(max_body) else max_body
            limit = min(cap or settings.max_body_bytes, settings.max_body_bytes)
            data = await read_json(request, limit, settings.max_json_depth)
            if body is not None and data is not None and not isinstance(data, dict):
                raise Invalid("body", "must be a JSON object")
        params: dict[str, Any] = {}
        if query is not None:
            qp = request.query_params
            params = coerce_query(query, {k: qp.getlist(k) for k in qp})
        result = await handler(ApiRequest(request, engram, auth, data, params))
        if isinstance(result, Response):
            return result
        status = 200
        if isinstance(result, tuple):
            status, result = result
        return JSONResponse(result, status_code=status)

    endpoint.__name__ = handler.__name__
    route = Route(path, endpoint, methods=list(methods), name=f"{handler.__name__}:{path}")
    route.spec = spec  # type: ignore[attr-defined]
    return route
