"""``JSONResponse`` rendered by orjson, that always renders: a lone UTF-16 surrogate in a string becomes
U+FFFD, and a float that JSON cannot carry (NaN, infinity) becomes null.

Request bodies are decoded strictly (routing.read_json), so no new text can carry a surrogate; this
keeps reads answering for rows damaged before that (a ``\\uD800`` escape in a stored JSON column decodes
to a lone surrogate) instead of failing with a 500 at render time.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse as _StarletteJSONResponse

__all__ = ["JSONResponse", "scrub_surrogates"]


def scrub_surrogates(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD (a surrogate pair becomes its character)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=_OPTIONS)
        except orjson.JSONEncodeError:  # a lone surrogate (or a type orjson does not know): the slow path
            text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
            return scrub_surrogates(text).encode("utf-8")
