"""The request body of ``POST /mcp`` as published in /openapi.json: one JSON-RPC 2.0 message, a request or a
notification (the schema is declared here, in the core, like every route's). The /mcp mount parses each
message with it, so a message it does not admit is a 400 naming the field, before the MCP SDK answers the rest;
and ``MCP_REPLY`` is what the SDK answers (HTTP 200; a notification gets 202 and no body)."""

from __future__ import annotations

from typing import Any

from ..errors import Invalid
from ..validation import Field, Schema

__all__ = ["MCP_MESSAGE", "MCP_REPLY"]


def _version(value: str) -> str:
    """Checked here (choices: only "2.0"); the MCP SDK reads the message itself."""
    return value


def _request_id(value: Any) -> Any:
    """MCP: "Requests MUST include a string or integer ID ... the ID MUST NOT be null"."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid("id", "must be a string or an integer")
    return value


MCP_MESSAGE = Schema(
    Field("jsonrpc", "str", required=True, choices=("2.0",), check=_version),
    Field("method", "str", required=True, help="initialize, tools/list, tools/call, resources/read ..."),
    Field(
        "id",
        "any",
        check=_request_id,
        schema={"oneOf": [{"type": "string"}, {"type": "integer"}]},
        help="The request id, a string or an integer (absent for a notification, answered 202 with no body).",
    ),
    Field("params", "object"),
    description="One JSON-RPC 2.0 message. A tool call costs its REST route's weight (x-rate-cost is the"
    " unit every /mcp request takes; the route a tool calls takes the rest).",
)

# A JSON-RPC 2.0 response: the request's id and a result, or an error (method not found, invalid params ...).
MCP_REPLY: dict[str, Any] = {
    "type": "object",
    "required": ["jsonrpc", "id"],
    "properties": {
        "jsonrpc": {"type": "string", "enum": ["2.0"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "result": {"type": "object"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
        },
    },
}
