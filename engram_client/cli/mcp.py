"""``engram mcp``: Engram's MCP server on stdio, speaking to the Engram at ENGRAM_URL with ENGRAM_API_KEY."""

from __future__ import annotations

import argparse
import asyncio

__all__ = ["main"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="engram mcp", description="Run Engram's MCP server on stdio.")
    parser.add_argument("--url", help="Engram's address (ENGRAM_URL, default http://127.0.0.1:4200)")
    parser.add_argument("--key", help="API key (ENGRAM_API_KEY)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for Engram (default 30)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from ..client import EngramClient
    from ..mcp_server import build_server, shared_client

    async def serve() -> None:
        async with EngramClient(args.url, args.key, timeout=args.timeout) as client:
            await build_server(shared_client(client)).run_stdio_async()

    asyncio.run(serve())
    return 0
