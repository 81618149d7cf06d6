"""Engram's MCP server through the SDK's own client, over stdio (`engram mcp`) and streamable HTTP (`/mcp`).

Each transport lists the tools and calls every one against a live server; a raw JSON-RPC `initialize`, as
older clients send it, works over stdio; another user's key sees nothing through MCP.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from engram_client.mcp_server import TOOLS
from tests.e2e.support import dead_proxy_env, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    with live_server(tmp_path_factory.mktemp("mcp") / "data") as live:
        yield live


def _stdio(base: str, key: str) -> StdioServerParameters:
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": key}
    return StdioServerParameters(command=sys.executable, args=["-m", "engram_core.cli", "mcp"], env=env)


@asynccontextmanager
async def connect(transport: str, base: str, key: str) -> AsyncIterator[Client]:
    if transport == "stdio":
        async with Client(_stdio(base, key)) as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
        Client(streamable_http_client(base + "/mcp", http_client=http)) as client,
    ):
        yield client


def _data(result: Any) -> Any:
    """A tool result's JSON (structured content when given, else the text block)."""
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def _every_tool(transport: str, base: str, key: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    async with connect(transport, base, key) as mcp:
        tools = {t.name: t for t in (await mcp.list_tools()).tools}
        assert set(tools) == set(TOOLS)
        assert all(len(t.description or "") > 60 for t in tools.values())  # written for a model to use well
        assert tools["memory_store"].input_schema["required"] == ["content"]

        word = f"zephyr{transport}"
        stored = _data(await mcp.call_tool("memory_store", {"content": f"The {word} service deploys on Tuesdays",
                                                            "tags": ["deploy"], "is_static": True}))  # fmt: skip
        memory_id = stored["id"]
        found = _data(await mcp.call_tool("memory_search", {"query": f"{word} deploys"}))
        assert found["results"][0]["id"] == memory_id
        context = _data(await mcp.call_tool("memory_context", {"query": f"when does {word} deploy?"}))
        assert "Tuesdays" in context["context"]
        recalled = _data(await mcp.call_tool("memory_recall", {"query": word}))
        assert memory_id in {m["id"] for m in recalled["static"]}
        got = _data(await mcp.call_tool("memory_get", {"memory_id": memory_id}))
        assert got["tags"] == ["deploy"] and got["source"] == "mcp"
        change = {"memory_id": memory_id, "content": f"The {word} service deploys on Mondays"}
        updated = _data(await mcp.call_tool("memory_update", change))
        listed = _data(await mcp.call_tool("memory_list", {"limit": 5}))
        assert updated["new_id"] in {m["id"] for m in listed["results"]}
        forgot = _data(await mcp.call_tool("memory_forget", {"memory_id": updated["new_id"], "reason": "test"}))
        assert forgot["forgotten"] is True
        missing = await mcp.call_tool("memory_get", {"memory_id": 99999})
        assert missing.is_error and "99999" in missing.content[0].text
        invalid = await mcp.call_tool("memory_store", {"content": "   "})
        assert invalid.is_error and "content" in invalid.content[0].text

        routes = set(httpx.get(base + "/openapi.json").json()["paths"])
        chat = {"messages": [{"role": "user", "content": "I live in Lyon"}]}
        for tool, args, route in (("memory_guard", {"action": "rm -rf /srv"}, "/guard"),
                                  ("capture_conversation", chat, "/add"),
                                  ("get_retrieval_log", {}, "/logs")):  # fmt: skip
            result = await mcp.call_tool(tool, args)
            if route in routes:
                seen[tool] = _data(result)
            else:  # an Engram without the route says so, never pretends
                assert result.is_error and f"no {route} route" in result.content[0].text, result.content

        resources = {str(r.uri) for r in (await mcp.list_resources()).resources}
        assert resources == {"engram://profile", "engram://memories/core"}
        core = json.loads((await mcp.read_resource("engram://memories/core")).contents[0].text)
        seen["core"] = [m["content"] for m in core["memories"]]
        seen["profile"] = json.loads((await mcp.read_resource("engram://profile")).contents[0].text)
    return seen


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_every_tool_through_the_sdk_client(live: tuple[str, dict[str, str]], transport: str) -> None:
    base, h = live
    seen = asyncio.run(_every_tool(transport, base, h["Authorization"].split()[1]))
    assert f"The zephyr{transport} service deploys on Tuesdays" not in seen["core"]  # updated, then forgotten
    assert isinstance(seen["profile"], dict)


def test_raw_initialize_over_stdio(live: tuple[str, dict[str, str]]) -> None:
    """An older client's handshake: initialize (2024-11-05), initialized, tools/list, one call."""
    base, h = live
    env = {**os.environ, "ENGRAM_URL": base, "ENGRAM_API_KEY": h["Authorization"].split()[1]}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05",
            "capabilities": {}, "clientInfo": {"name": "old-client", "version": "0.1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "memory_store", "arguments": {"content": "Raw JSON-RPC clients can store memories"}}},
    ]  # fmt: skip
    answers: dict[int, Any] = {}
    with subprocess.Popen([sys.executable, "-m", "engram_core.cli", "mcp"], env=env, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:  # fmt: skip
        assert proc.stdin and proc.stdout
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" in message:
                answers[message["id"]] = json.loads(proc.stdout.readline())
        proc.stdin.close()
        proc.wait(timeout=15)
    init = answers[1]["result"]
    assert init["protocolVersion"] == "2024-11-05" and init["serverInfo"]["name"] == "engram"
    assert {t["name"] for t in answers[2]["result"]["tools"]} == set(TOOLS)
    assert answers[3]["result"]["isError"] is False
    listed = httpx.get(base + "/list", headers=h).json()["results"]
    assert "Raw JSON-RPC clients can store memories" in [m["content"] for m in listed]


def test_stdio_reaches_a_loopback_engram_past_the_environments_proxy(live: tuple[str, dict[str, str]]) -> None:
    """Issue 13: `engram mcp` with every proxy variable at a dead loopback port (no NO_PROXY) still reaches the
    live loopback server: a tool call stores a memory (httpx would have sent it through the proxy)."""
    base, h = live
    env = dead_proxy_env(ENGRAM_URL=base, ENGRAM_API_KEY=h["Authorization"].split()[1])
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05",
            "capabilities": {}, "clientInfo": {"name": "proxied", "version": "0.1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "memory_store", "arguments": {"content": "MCP behind a corporate proxy still stores locally"}}},
    ]  # fmt: skip
    with subprocess.Popen([sys.executable, "-m", "engram_core.cli", "mcp"], env=env, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:  # fmt: skip
        assert proc.stdin and proc.stdout
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            answer = json.loads(proc.stdout.readline()) if "id" in message else None
        proc.stdin.close()
        proc.wait(timeout=15)
    assert answer and answer["result"]["isError"] is False, answer
    listed = httpx.get(base + "/list", headers=h).json()["results"]
    assert "MCP behind a corporate proxy still stores locally" in [m["content"] for m in listed]


async def _as_other_user(base: str, key: str, their_id: int) -> None:
    async with connect("http", base, key) as mcp:
        assert _data(await mcp.call_tool("memory_search", {"query": "payroll secret"}))["results"] == []
        assert _data(await mcp.call_tool("memory_list", {}))["results"] == []
        for tool, args in (("memory_get", {"memory_id": their_id}), ("memory_forget", {"memory_id": their_id}),
                           ("memory_update", {"memory_id": their_id, "content": "hijacked"})):  # fmt: skip
            assert (await mcp.call_tool(tool, args)).is_error
        context = _data(await mcp.call_tool("memory_context", {"query": "payroll secret"}))
        assert "payroll" not in context["context"]
        core = json.loads((await mcp.read_resource("engram://memories/core")).contents[0].text)
        assert core["memories"] == []


def test_another_users_key_sees_nothing(live: tuple[str, dict[str, str]]) -> None:
    base, h = live
    mine = httpx.post(base + "/store", json={"content": "The payroll secret rotates monthly", "is_static": True},
                      headers=h).json()["id"]  # fmt: skip
    other = httpx.post(base + "/users", json={"username": "mallory"}, headers=h).json()
    their_key = other.get("key") or other["api_key"]
    asyncio.run(_as_other_user(base, their_key, mine))
    assert httpx.get(f"{base}/memory/{mine}", headers=h).json()["content"] == "The payroll secret rotates monthly"
    refused = httpx.post(base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert refused.status_code == 401 and "API key" in refused.json()["error"]
    wrong = httpx.post(base + "/mcp", json={}, headers={"Authorization": "Bearer engram_" + "0" * 32})
    assert wrong.status_code == 401
