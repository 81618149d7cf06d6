"""What an uploaded file holds, detected by its content: text, Markdown, HTML, PDF, JSON Lines, ChatGPT's
``conversations.json``, Claude's export, or a zip of any of these. Each becomes :class:`Document` s: a
document's chunks (fit to the embedder's window) or a conversation's messages (each with its own time).

Parsing is deterministic: the same bytes give the same documents in the same order, which is what lets an
ingest job resume at the chunk where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import Invalid
from ..timeutil import format_ts
from .archive import ZipLimits, zip_members
from .chunking import chunk_section

__all__ = ["FORMATS", "Chunk", "Document", "Splitter", "detect", "iso", "parse", "sections_to_chunks"]

FORMATS = ("text", "markdown", "html", "pdf", "jsonl", "chatgpt", "claude", "zip")


@dataclass(frozen=True)
class Splitter:
    count: Callable[[str], int]
    max_tokens: int
    overlap: int


@dataclass
class Chunk:
    content: str
    created_at: str | None = None
    role: str | None = None
    tags: list[str] = field(default_factory=list)
    category: str | None = None


@dataclass
class Document:
    title: str
    kind: str  # document | conversation
    format: str
    session_id: str | None = None
    started_at: str | None = None
    tags: list[str] = field(default_factory=list)
    category: str = "document"
    chunks: list[Chunk] = field(default_factory=list)


def detect(data: bytes, name: str = "") -> str:
    """The format of ``data`` from its first bytes and shape (the name's suffix only breaks a tie)."""
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return "zip"
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    text = _text(data, name)
    head = text.lstrip()[:2000].lower()
    if head[:1] in "[{":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and value and isinstance(value[0], dict):
            if "mapping" in value[0]:
                return "chatgpt"
            if "chat_messages" in value[0]:
                return "claude"
        lines = [x for x in text.splitlines() if x.strip()]
        if lines and all(x.lstrip()[:1] == "{" for x in lines[:20]) and (value is None or isinstance(value, dict)):
            return "jsonl"
        if value is not None:
            return "jsonl"
    if head.startswith(("<!doctype html", "<html")) or ("<body" in head and "</" in head):
        return "html"
    lower = name.lower()
    if lower.endswith((".md", ".markdown")) or text.startswith("---\n") or _has_headings(text):
        return "markdown"
    if lower.endswith((".html", ".htm")):
        return "html"
    return "text"


def _has_headings(text: str) -> bool:
    return any(line.startswith("#") and line.lstrip("#").startswith(" ") for line in text.splitlines()[:400])


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(name or "file", f"is not UTF-8 text (byte {exc.start}) nor a PDF or zip") from None


def parse(data: bytes, name: str, fmt: str | None, split: Splitter, limits: ZipLimits) -> list[Document]:
    """Every document of ``data`` (``fmt`` forces the format; default: detected)."""
    from . import chats, docs

    fmt = fmt or detect(data, name)
    if fmt not in FORMATS:
        raise Invalid("format", f"must be one of {', '.join(FORMATS)}")
    if fmt == "zip":
        out: list[Document] = []
        for member, content in zip_members(data, limits):
            if detect(content, member) == "zip":
                raise Invalid(member, "is a zip inside the zip: nested archives are refused")
            out.extend(parse(content, member, None, split, limits))
        return out
    if fmt == "pdf":
        return [docs.pdf(data, name, split)]
    text = _text(data, name)
    parsers: dict[str, Callable[[str, str, Splitter], list[Document]]] = {
        "text": docs.plain, "markdown": docs.markdown, "html": docs.html, "jsonl": chats.jsonl,
        "chatgpt": chats.chatgpt, "claude": chats.claude,
    }  # fmt: skip
    return parsers[fmt](text, name, split)


def iso(value: Any) -> str | None:
    """An ISO-8601 UTC timestamp from epoch seconds or an ISO string (None when neither)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return format_ts(datetime.fromtimestamp(float(value), UTC))
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return format_ts(parsed)
    return None


def sections_to_chunks(doc: Document, sections: list[tuple[str, str]], split: Splitter) -> Document:
    for heading, body in sections:
        for content in chunk_section(body, heading, split.count, split.max_tokens, split.overlap):
            doc.chunks.append(Chunk(content))
    return doc
