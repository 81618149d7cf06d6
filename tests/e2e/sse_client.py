"""A small Server-Sent Events reader over an httpx streaming response (for the end-to-end tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = ["read_events"]


def read_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Yield ``{"id", "event", "data"}`` per event and ``{"comment": text}`` per comment line."""
    fields: dict[str, Any] = {}
    for line in response.iter_lines():
        if line == "":
            if "data" in fields:
                fields["data"] = json.loads(fields["data"])
                yield fields
            fields = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
