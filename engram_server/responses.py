"""``JSONResponse`` that always renders: a lone UTF-16 surrogate in a string becomes U+FFFD.

Request bodies are decoded strictly (routing.read_json), so no new text can carry a surrogate; this
keeps reads answering for rows damaged before that (a ``\\uD800`` escape in a stored JSON column decodes
to a lone surrogate) instead of failing with a 500 at render time.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse as _StarletteJSONResponse

__all__ = ["JSONResponse", "scrub_surrogates"]


def scrub_surrogates(text: str) -> str:
    """``text`` with every unpaired surrogate replaced by U+FFFD (a surrogate pair becomes its character)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            return scrub_surrogates(text).encode("utf-8")
