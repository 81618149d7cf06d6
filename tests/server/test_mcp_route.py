"""POST /mcp takes one JSON-RPC 2.0 message as its published schema says: anything else is a 400 naming the field
(before the MCP SDK reads it); a request gets a JSON-RPC reply (200), a notification 202 and no body."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jsonrpc": "1.0", "id": 1, "method": "tools/list"}, "jsonrpc"),
        ({"id": 1, "method": "tools/list"}, "jsonrpc"),
        ({"jsonrpc": "2.0", "id": 1}, "method"),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "tools/list"}, "id"),
        ({"jsonrpc": "2.0", "id": True, "method": "tools/list"}, "id"),
        ({"jsonrpc": "2.0", "id": None, "method": "tools/list"}, "id"),  # MCP: an id is never null
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": [1]}, "params"),
        ([{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}], "body"),  # no batches
    ],
)
def test_a_message_outside_the_schema_is_a_400_naming_the_field(api: Api, body: Any, field: str) -> None:
    r = api.call("POST", "/mcp", api.admin_key, json=body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_requests_get_a_reply_and_notifications_no_body(api: Api) -> None:
    listed = api.call("POST", "/mcp", api.admin_key, json={"jsonrpc": "2.0", "id": "a", "method": "tools/list"})
    assert listed.status_code == 200 and listed.json()["id"] == "a" and listed.json()["result"]["tools"]
    unknown = api.call("POST", "/mcp", api.admin_key, json={"jsonrpc": "2.0", "id": 7, "method": "no/such"})
    assert unknown.status_code == 200 and unknown.json()["error"]["code"] == -32601
    note = api.call("POST", "/mcp", api.admin_key, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert note.status_code == 202 and note.content == b""
    assert api.call("POST", "/mcp", None, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401
