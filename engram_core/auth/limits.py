"""Pure request-shape limits: JSON nesting depth, measured without recursion.

``json.loads`` itself recurses, so a server should first run :func:`check_raw_json_depth` on the raw body
(bytes), then parse; :func:`check_json_depth` checks an already parsed value (e.g. one built in code).
Depth counts containers: a scalar is 0, ``[]`` and ``{}`` are 1, ``{"a": [1]}`` is 2.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Invalid

__all__ = ["check_json_depth", "check_raw_json_depth", "json_depth", "raw_json_depth"]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(obj: Any, limit: int | None = None) -> int:
    """Nesting depth of a parsed JSON value (dicts, lists and tuples are containers), iteratively.

    With ``limit`` the walk stops as soon as the depth exceeds it and returns ``limit + 1``.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    seen: set[int] = set()
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if id(value) in seen:  # a cycle (never from json.loads): count it once
            continue
        seen.add(id(value))
        depth += 1
        if depth > deepest:
            deepest = depth
            if limit is not None and deepest > limit:
                return limit + 1
        stack.extend((child, depth) for child in children if isinstance(child, dict | list | tuple))
    return deepest


def raw_json_depth(body: bytes | str, limit: int | None = None) -> int:
    """Nesting depth of a JSON text without parsing it (brackets inside strings are ignored).

    Meant for untrusted bodies before ``json.loads``; malformed text gives a best-effort figure.
    """
    data = body.encode() if isinstance(body, str) else body
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for b in brackets:
        if b in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return limit + 1
        else:
            depth = max(0, depth - 1)
    return deepest


def _too_deep(max_depth: int) -> Invalid:
    return Invalid("body", f"JSON nested deeper than {max_depth} levels")


def check_json_depth(obj: Any, max_depth: int) -> None:
    """Raise ``Invalid("body", ...)`` when the parsed value ``obj`` nests deeper than ``max_depth``."""
    if json_depth(obj, limit=max_depth) > max_depth:
        raise _too_deep(max_depth)


def check_raw_json_depth(body: bytes | str, max_depth: int) -> None:
    """Raise ``Invalid("body", ...)`` when the JSON text ``body`` nests deeper than ``max_depth``."""
    if raw_json_depth(body, limit=max_depth) > max_depth:
        raise _too_deep(max_depth)
