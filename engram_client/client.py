"""``EngramClient``: typed async methods over Engram's REST API, one error mapping (``errors.error_for``).

    async with EngramClient() as engram:          # ENGRAM_URL / ENGRAM_API_KEY, or url= / key=
        stored = await engram.store("The API deploys on Tuesdays", tags=["deploy"])
        found = await engram.search("when do we deploy?")

The same class serves the CLI, the stdio MCP server and the server's own ``/mcp`` mount (there with an
``httpx.ASGITransport`` pointed at the app and the caller's key, so auth and validation are the routes' own).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from engram_core.loopback import direct_mounts

from .errors import Unreachable, error_for

__all__ = ["DEFAULT_URL", "EngramClient"]

DEFAULT_URL = "http://127.0.0.1:4200"


def _fields(**fields: Any) -> dict[str, Any]:
    """The given fields without the ones left as None."""
    return {k: v for k, v in fields.items() if v is not None}


class EngramClient:
    """One connection pool to one Engram server with one key."""

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = (url or os.environ.get("ENGRAM_URL") or DEFAULT_URL).rstrip("/")
        self.key = key if key is not None else (os.environ.get("ENGRAM_API_KEY") or None)
        headers = {"User-Agent": "engram-client"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        self._http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout, transport=transport,
                                       mounts=direct_mounts(self.url))  # fmt: skip

    async def __aenter__(self) -> EngramClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        route: str | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        files: Any = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer, or the ``ClientError`` for what went wrong.

        ``route`` names the route in errors (``/memory/{id}`` rather than ``/memory/42``).
        """
        try:
            resp = await self._http.request(method, path, json=json, params=_fields(**(params or {})) or None,
                                            content=content, headers=headers, files=files, data=data)  # fmt: skip
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach Engram at {self.url}: {exc or type(exc).__name__}") from None
        return self._decode(resp, route or path)

    @staticmethod
    def _decode(resp: httpx.Response, route: str) -> Any:
        try:
            body: Any = resp.json() if resp.content else None
        except ValueError:
            body = {"error": resp.text[:500]} if resp.status_code >= 400 else resp.text
        if resp.status_code >= 400:
            raise error_for(resp.status_code, body, route)
        return body

    # -- health and setup ------------------------------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        """``GET /health``: status, version, counts, embedding model."""
        return dict(await self.request("GET", "/health"))

    async def bootstrap(self, secret: str) -> dict[str, Any]:
        """``POST /bootstrap``: claim a fresh server (creates user 1 and an admin key, once)."""
        return dict(await self.request("POST", "/bootstrap", json={"secret": secret}))

    # -- memories --------------------------------------------------------------------------------------
    async def store(self, content: str, **fields: Any) -> dict[str, Any]:
        """``POST /store``: category, source, importance, tags, session_id, is_static, ... as keywords."""
        return dict(await self.request("POST", "/store", json={"content": content, **_fields(**fields)}))

    async def get(self, memory_id: int) -> dict[str, Any]:
        """``GET /memory/{id}``."""
        return dict(await self.request("GET", f"/memory/{int(memory_id)}", route="/memory/{id}"))

    async def update(self, memory_id: int, **fields: Any) -> dict[str, Any]:
        """``POST /memory/{id}/update``: a new version with the given fields changed."""
        path = f"/memory/{int(memory_id)}/update"
        return dict(await self.request("POST", path, json=_fields(**fields), route="/memory/{id}/update"))

    async def forget(self, memory_id: int, reason: str | None = None) -> dict[str, Any]:
        """``POST /memory/{id}/forget``: hidden from reads and search, restorable."""
        path = f"/memory/{int(memory_id)}/forget"
        return dict(await self.request("POST", path, json=_fields(reason=reason), route="/memory/{id}/forget"))

    async def delete(self, memory_id: int) -> dict[str, Any]:
        """``DELETE /memory/{id}``: move to the trash."""
        return dict(await self.request("DELETE", f"/memory/{int(memory_id)}", route="/memory/{id}"))

    async def list(self, **params: Any) -> dict[str, Any]:
        """``GET /list``: limit, offset, category, source, tags, session_id, include_archived, ..."""
        return dict(await self.request("GET", "/list", params=params))

    # -- retrieval -------------------------------------------------------------------------------------
    async def search(self, query: str, **fields: Any) -> dict[str, Any]:
        """``POST /search``: limit, category, source, tags, threshold, ..."""
        return dict(await self.request("POST", "/search", json={"query": query, **_fields(**fields)}))

    async def context(self, query: str, **fields: Any) -> dict[str, Any]:
        """``POST /context``: max_tokens, mode, strategy, include_* switches."""
        return dict(await self.request("POST", "/context", json={"query": query, **_fields(**fields)}))

    async def recall(self, query: str | None = None, **fields: Any) -> dict[str, Any]:
        """``POST /recall``: static, important, semantic and recent layers."""
        return dict(await self.request("POST", "/recall", json=_fields(query=query, **fields)))

    async def profile(self) -> dict[str, Any]:
        """``GET /profile``: the caller's personality profile."""
        return dict(await self.request("GET", "/profile"))

    async def retrieval_log(self, log_id: int | None = None, **params: Any) -> dict[str, Any]:
        """``GET /logs`` or ``GET /logs/{id}``: why memories were retrieved (a newer server's route)."""
        if log_id is not None:
            return dict(await self.request("GET", f"/logs/{int(log_id)}", route="/logs/{id}"))
        return dict(await self.request("GET", "/logs", params=params))

    # -- intelligence (newer servers) ------------------------------------------------------------------
    async def guard(self, action: str, **fields: Any) -> dict[str, Any]:
        """``POST /guard``: ``{signal: allow|warn|block, rules, message}`` for an action about to be taken."""
        return dict(await self.request("POST", "/guard", json={"action": action, **_fields(**fields)}))

    async def add(self, messages: builtins.list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        """``POST /add``: turn conversation messages into durable memories."""
        return dict(await self.request("POST", "/add", json={"messages": messages, **_fields(**fields)}))

    # -- episodes --------------------------------------------------------------------------------------
    async def episode_start(self, title: str, **fields: Any) -> dict[str, Any]:
        """``POST /episodes``."""
        return dict(await self.request("POST", "/episodes", json={"title": title, **_fields(**fields)}))

    async def episodes(self, **params: Any) -> dict[str, Any]:
        """``GET /episodes``: status, session_id, limit."""
        return dict(await self.request("GET", "/episodes", params=params))

    # -- portability (newer servers) -------------------------------------------------------------------
    async def ingest(self, **fields: Any) -> dict[str, Any]:
        """``POST /ingest``: text (and format) to split into memories; answers a job."""
        return dict(await self.request("POST", "/ingest", json=_fields(**fields)))

    async def ingest_file(self, name: str, content: bytes, **fields: Any) -> dict[str, Any]:
        """``POST /ingest`` as a multipart upload of one file (format, source, ... as form fields)."""
        form = {k: str(v) for k, v in _fields(**fields).items()}
        return dict(await self.request("POST", "/ingest", files={"file": (name, content)}, data=form))

    async def job(self, job_id: int) -> dict[str, Any]:
        """``GET /jobs/{id}``: one job with its progress."""
        return dict(await self.request("GET", f"/jobs/{job_id}", route="/jobs/{id}"))

    async def import_(self, data: Any) -> dict[str, Any]:
        """``POST /import``: an export (NDJSON bytes as written by ``export``, or JSON records) or an array
        of memories."""
        if isinstance(data, bytes):
            return dict(await self.request("POST", "/import", content=data,
                                           headers={"Content-Type": "application/x-ndjson"}))  # fmt: skip
        return dict(await self.request("POST", "/import", json=data))

    async def export(self, *, embeddings: bool = False) -> AsyncIterator[bytes]:
        """``GET /export``: the NDJSON export, streamed in chunks."""
        params = {"embeddings": "true"} if embeddings else None
        try:
            async with self._http.stream("GET", "/export", params=params) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    self._decode(resp, "/export")
                async for chunk in resp.aiter_bytes():
                    yield chunk
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach Engram at {self.url}: {exc or type(exc).__name__}") from None
