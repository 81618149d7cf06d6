"""Which request bodies are JSON: the Content-Type check of every JSON-body route.

Accepted: ``application/json`` and any ``application/*+json``, with no charset or a UTF-8 one; no
Content-Type at all; and ``application/x-www-form-urlencoded``, because that is what ``curl -d`` sends
when no type is given, and a curl one-liner is how most people first try the API (the body must still be
JSON: a real form body answers 400 "is not valid JSON"). Anything else (``text/plain``, ``multipart/*``,
XML, a UTF-16 charset) is refused with 415 before the body is read.
"""

from __future__ import annotations

from starlette.datastructures import Headers

from engram_core.errors import UnsupportedMediaType

__all__ = ["check_json_content_type"]

_FORM = "application/x-www-form-urlencoded"
_UTF8 = {"utf-8", "utf8"}


def check_json_content_type(headers: Headers) -> None:
    """Refuse a body whose declared media type is not JSON (or a charset that is not UTF-8)."""
    declared = headers.get("content-type")
    if declared is None or not declared.strip():
        return
    media, *params = (p.strip() for p in declared.split(";"))
    media = media.lower()
    is_json = media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
    if not (is_json or media == _FORM):
        raise UnsupportedMediaType(f"Content-Type {media!r} is not JSON: send the body as application/json")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise UnsupportedMediaType(f"charset {value.strip()!r} is not supported: send the body as UTF-8 JSON")
