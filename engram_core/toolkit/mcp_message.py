"""The request body of ``POST /mcp`` as published in /openapi.json: one JSON-RPC 2.0 message (the MCP SDK
parses and answers it; the schema is declared here, in the core, like every route's)."""

from __future__ import annotations

from ..validation import Field, Schema

__all__ = ["MCP_MESSAGE"]


def _version(value: str) -> str:
    """Checked here (choices: only "2.0"); the MCP SDK reads the message itself."""
    return value


MCP_MESSAGE = Schema(
    Field("jsonrpc", "str", required=True, choices=("2.0",), check=_version),
    Field("method", "str", required=True, help="initialize, tools/list, tools/call, resources/read ..."),
    Field("id", "any", help="The request id (absent for a notification, answered 202)."),
    Field("params", "object"),
    description="One JSON-RPC 2.0 message. A tool call costs its REST route's weight (x-rate-cost is the"
    " unit every /mcp request takes; the route a tool calls takes the rest).",
)
