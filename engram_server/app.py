"""``create_app(settings)``: the Starlette application, declared."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from engram_core.engram import Engram
from engram_core.errors import EngramError
from engram_core.settings import Settings

from .errors import engram_error_handler, http_error_handler, unexpected_error_handler
from .mcp import McpMount
from .metrics import RequestMetrics
from .routes import (
    admin,
    auth,
    axon,
    brain,
    broca,
    context,
    conversations,
    embeddings,
    entities,
    episodes,
    extract,
    fsrs,
    graph,
    guard,
    health,
    hooks,
    ingest,
    intelligence_facts,
    jobs,
    links,
    loom,
    maintenance,
    memories,
    personality,
    portability,
    projects,
    proxy,
    reflection,
    search,
    soma,
    tasks,
    thymus,
    toolkit,
    ui,
    webhooks,
    working,
)
from .security import SecurityHeaders

__all__ = ["all_routes", "create_app"]

STOP_TIMEOUT_SECONDS = 10.0


def _pending_tasks() -> str:
    """The event loop's other tasks, each as its coroutine and the line it waits at (for a stuck stop)."""
    out = []
    for task in asyncio.all_tasks():
        if task is asyncio.current_task():
            continue
        coro: Any = task.get_coro()
        chain, where = [], "?"
        while coro is not None and hasattr(coro, "cr_frame"):  # down the await chain
            chain.append(getattr(coro, "__qualname__", "?"))
            frame = coro.cr_frame
            if frame is not None and "/asyncio/" not in frame.f_code.co_filename:
                where = f"{frame.f_code.co_filename}:{frame.f_lineno}"  # the innermost line of ours
            coro = coro.cr_await
        out.append(f"{' > '.join(chain)} at {where}")
    return "; ".join(out) or "none"


def all_routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *auth.routes,
        *memories.routes,
        *search.routes,
        *context.routes,
        *personality.routes,
        *jobs.routes,
        *embeddings.routes,
        *fsrs.routes,
        *links.routes,
        *graph.routes,
        *entities.routes,
        *projects.routes,
        *episodes.routes,
        *conversations.routes,
        *maintenance.routes,
        *admin.routes,
        *guard.routes,
        *axon.routes,
        *webhooks.routes,
        *extract.routes,
        *reflection.routes,
        *tasks.routes,
        *broca.routes,
        *soma.routes,
        *loom.routes,
        *thymus.routes,
        *brain.routes,
        *proxy.routes,
        *portability.routes,
        *ingest.routes,
        *ui.routes,
        *intelligence_facts.routes,
        *working.routes,
        *toolkit.routes,
        *hooks.routes,
    ]


def create_app(settings: Settings | None = None, engram: Engram | None = None) -> Starlette:
    """Build the app. The Engram instance is opened in the lifespan unless one is handed in."""
    settings = settings or (engram.settings if engram else Settings.from_env())
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = engram is None
        instance = engram or Engram.open(settings)
        app.state.engram = instance
        await instance.start()
        try:
            async with mcp.run():
                yield
        finally:
            # A background task that does not stop must not hang the shutdown: log it and close anyway.
            # asyncio.wait, not wait_for: wait_for waits for the cancelled stop to finish, which a task that
            # swallows its cancellation never does.
            stopping = asyncio.ensure_future(instance.stop())
            done, _ = await asyncio.wait({stopping}, timeout=STOP_TIMEOUT_SECONDS)
            if done:
                stopping.result()
            else:
                logging.getLogger("engram.server").warning(
                    "background work did not stop within %g s; closing anyway (still waiting: %s)",
                    STOP_TIMEOUT_SECONDS,
                    _pending_tasks(),
                )
                stopping.cancel()
            if owned:
                instance.close()

    mcp = McpMount()  # /mcp: the MCP tools over streamable HTTP, acting as the caller's key
    middleware = [Middleware(SecurityHeaders)]  # outermost: headers on CORS preflights too
    middleware.append(Middleware(RequestMetrics))  # request count/latency per route template (/metrics)
    if settings.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    return Starlette(
        routes=[*all_routes(), *mcp.routes],
        middleware=middleware,
        exception_handlers={
            EngramError: engram_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
