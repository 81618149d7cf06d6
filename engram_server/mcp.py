"""``/mcp``: Engram's MCP tools over streamable HTTP, behind the same bearer auth as every route.

The tools are ``engram_client.mcp_server``'s; here each tool call goes through ``EngramClient`` to this very
app in-process (``httpx.ASGITransport``) carrying the caller's own Authorization header and address, so what
an MCP caller may see and do is exactly what the REST routes allow that key.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator

import httpx
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engram_client.client import EngramClient
from engram_client.mcp_server import build_server
from engram_core.auth.guard import is_local
from engram_core.engram import Engram
from engram_core.errors import EngramError, Invalid
from engram_core.toolkit.mcp_message import MCP_MESSAGE, MCP_REPLY

from .errors import error_response
from .media import check_json_content_type
from .routing import PREPAID, RouteSpec, decode_json, read_raw

__all__ = ["SPEC", "McpMount"]

# Key units one /mcp HTTP request costs (initialize, tools/list, a tool call ...). A tool call's route is
# charged its own weight less this unit, and not the IP again: one tool call costs the route's weight.
MCP_REQUEST_COST = 1
# /mcp in /openapi.json: one JSON-RPC 2.0 message per POST, parsed with MCP_MESSAGE before the MCP SDK reads it.
SPEC = RouteSpec(
    path="/mcp",
    methods=("POST",),
    scope="read",
    summary="MCP tools over streamable HTTP (stateless, JSON responses); each tool acts as the caller's key",
    body=MCP_MESSAGE,
    query=None,
    max_body=None,
    tag="mcp",
    ok=(200, 202),
    cost=MCP_REQUEST_COST,
    ok_schema=MCP_REPLY,
    no_body=(202,),
)
_CALLER: contextvars.ContextVar[Request | None] = contextvars.ContextVar("mcp_caller", default=None)


async def _bind_caller(ctx: ServerRequestContext[object, object], call_next: CallNext) -> HandlerResult:
    token = _CALLER.set(ctx.request if isinstance(ctx.request, Request) else None)
    try:
        return await call_next(ctx)
    finally:
        _CALLER.reset(token)


@contextlib.asynccontextmanager
async def _in_process() -> AsyncIterator[EngramClient]:
    request = _CALLER.get()
    if request is None:  # not an HTTP message: nothing to act as
        raise EngramError("no HTTP request to act for")
    app: ASGIApp = request.app
    peer = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
    authorization = request.headers.get("authorization", "")
    key = authorization[7:].strip() if authorization[:7].lower() == "bearer " else authorization
    prepaid = [MCP_REQUEST_COST]  # this tool call's /mcp request paid it at the door: its route charges the rest

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, PREPAID: prepaid}, receive, send)

    async with EngramClient("http://engram.internal", key, transport=httpx.ASGITransport(app=inner, client=peer)) as c:
        yield c


class McpMount:
    """The /mcp route and the session manager it needs running (``run()`` in the app's lifespan)."""

    def __init__(self) -> None:
        self.server = build_server(_in_process)
        self.server.middleware.append(_bind_caller)
        # Stateless JSON responses: nothing kept between requests; every message re-authenticates.
        # DNS-rebinding protection guards unauthenticated local servers; this one needs a key on every request.
        self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        route = Route("/mcp", self, methods=["GET", "POST", "DELETE"])  # an ASGI app: self.__call__
        route.spec = SPEC  # type: ignore[attr-defined]  # published in /openapi.json
        self.routes = [route]

    def run(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.server.session_manager.run()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate like every route, then hand the request to the MCP session manager."""
        request = Request(scope, receive)
        engram: Engram = request.app.state.engram
        ip = request.client.host if request.client else None
        local = is_local(ip, request.headers)
        try:
            engram.limits.check_ip(ip, local=local)
            auth = await engram.auth.authenticate(request.headers.get("authorization"), ip)
            engram.limits.check_key(auth, MCP_REQUEST_COST, local=local)
            if request.method == "POST":  # the published schema, as every route's body: 400 naming the field
                receive = _replay(await _message(request, engram), receive)
        except EngramError as exc:
            await error_response(exc)(scope, receive, send)
            return
        await self.server.session_manager.asgi_app(scope, receive, send)


async def _message(request: Request, engram: Engram) -> bytes:
    """The POST body, read and checked against MCP_MESSAGE (one JSON-RPC 2.0 request or notification)."""
    settings = engram.settings
    check_json_content_type(request.headers)
    raw = await read_raw(request, settings.max_body_bytes)
    message = decode_json(raw, settings.max_json_depth)
    if not isinstance(message, dict):
        raise Invalid("body", "must be one JSON-RPC 2.0 message (a JSON object)")
    MCP_MESSAGE.parse(message)
    return raw


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the MCP SDK: the body already read, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
